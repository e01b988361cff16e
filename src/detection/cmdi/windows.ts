/**
 * cmd.exe control flow and PowerShell, read at a command position: `for /f %i in ('whoami') do
 * echo %i`, `if exist C:\x echo y`, `IF "%1"=="" GOTO end`, `Invoke-WebRequest http://…`.
 * English has "for" and "if" too, so each needs its batch shape: a `%var` loop variable with
 * `in (…) do`, or a condition (EXIST, ERRORLEVEL, a comparison) followed by a command.
 */
import { isCommand } from './words.js'

// `for [/d|/r [dir]|/l|/f ["opts"]] %x in (set) do cmd`: a switch's argument never starts with '/'
// (one reading per token, so no backtracking over the switches)
const forLoop = /^for\s*(?:\/[a-z]\s*(?:"[^"]{0,80}"\s*|[^\s%"/][^\s%"]{0,80}\s+)?){0,6}%%?[^\s%]{1,30}\s+in\s*\((?:[^()]|\([^()]{0,100}\)){0,300}\)\s*do\b/i

export function batchFor(text: string): boolean {
  return forLoop.test(text)
}

const conditionKeywords = new Set(['exist', 'defined', 'errorlevel', 'cmdextversion'])
const comparisons = new Set(['==', 'equ', 'neq', 'lss', 'leq', 'gtr', 'geq'])
const batchCommands = new Set([
  'echo',
  'set',
  'goto',
  'call',
  'exit',
  'cmd',
  'cd',
  'chdir',
  'md',
  'mkdir',
  'del',
  'copy',
  'type',
  'dir',
  'start',
  'if',
  'for',
  'rem',
  'pause',
  'shift',
  'pushd',
  'popd',
  'move',
  'ren',
  'rd',
  'cls',
  'title',
  'color',
])
// %VAR%, %1, %~1, %~dp0, !VAR!, %_prog:~-1%
const batchVariable = /%~?[0-9]|%[A-Za-z_][\w:~,-]{0,40}%|![A-Za-z_]\w{0,40}!/

/** A token: a quoted string, a balanced (…)/[…]/{…} group, or a run without spaces. */
function token(s: string, i: number): number {
  const c = s[i]
  if (c === '"') {
    const close = s.indexOf('"', i + 1)
    return close === -1 ? s.length : close + 1
  }
  let j = i
  let depth = 0
  while (j < s.length && j - i < 120) {
    const d = s[j]!
    if (d === '(' || d === '[' || d === '{') depth++
    else if (d === ')' || d === ']' || d === '}') depth--
    else if (depth <= 0 && (d === ' ' || d === '\t')) break
    j++
  }
  return j
}

function skipSpace(s: string, i: number): number {
  while (s[i] === ' ' || s[i] === '\t') i++
  return i
}

/** `if [/i] [not] <condition> <command>` as cmd.exe reads it. */
export function batchIf(text: string): boolean {
  const s = text.slice(0, 300)
  if (!/^if(?:\s|\/)/i.test(s)) return false
  let i = skipSpace(s, 2)
  if (/^\/i\b/i.test(s.slice(i, i + 3))) i = skipSpace(s, i + 2)
  if (/^not\s/i.test(s.slice(i, i + 4))) i = skipSpace(s, i + 3)
  let end = token(s, i)
  const first = s.slice(i, end)
  let condition: string
  if (conditionKeywords.has(first.toLowerCase())) {
    const j = skipSpace(s, end)
    end = token(s, j)
    if (end === j) return false
    condition = s.slice(i, end)
  } else {
    // `a==b`, `"%1"==""`, `x EQU y`, `(2 GEQ 15)`
    let left = first
    let right = ''
    const glued = first.indexOf('==')
    if (first.startsWith('(') && first.endsWith(')') && /\s(?:equ|neq|lss|leq|gtr|geq|==)\s/i.test(first)) {
      left = first
    } else if (glued > 0 && glued + 2 < first.length) {
      left = first.slice(0, glued)
      right = first.slice(glued + 2)
    } else {
      let j = skipSpace(s, end)
      let k = token(s, j)
      const next = s.slice(j, k)
      if (glued > 0 && glued + 2 === first.length) {
        left = first.slice(0, glued)
        right = next
      } else if (next.startsWith('==') && next.length > 2) {
        right = next.slice(2)
      } else {
        if (!comparisons.has(next.toLowerCase())) return false
        j = skipSpace(s, k)
        k = token(s, j)
        right = s.slice(j, k)
      }
      if (right === '') return false
      end = k
    }
    // PHP and C read `if ($a == $b)` too: batch operands hold no '$' and are balanced
    if (left.includes('$') || right.includes('$') || !balanced(left) || !balanced(right)) return false
    condition = s.slice(i, end)
  }
  const rest = s.slice(skipSpace(s, end))
  const variable = batchVariable.test(condition)
  const word = /^@?([A-Za-z]+)/.exec(rest)
  const command =
    rest.startsWith('(') || rest.startsWith('@') || (word !== null && (batchCommands.has(word[1]!.toLowerCase()) || isCommand(word[1]!.toLowerCase())))
  if (command) return true
  // "If exist on disk, skip": without a command after it, only a batch variable makes it batch
  return variable && (rest === '' || rest.startsWith('...') || /^[A-Za-z]/.test(rest))
}

function balanced(s: string): boolean {
  let d = 0
  for (let k = 0; k < s.length; k++) {
    const c = s[k]
    if (c === '(') d++
    else if (c === ')' && --d < 0) return false
  }
  return d === 0
}

// PowerShell cmdlets an attacker runs; aliases (iex, iwr, irm, saps) are in the command list.
const cmdlets = new Set([
  'invoke-expression',
  'invoke-webrequest',
  'invoke-restmethod',
  'invoke-command',
  'invoke-wmimethod',
  'invoke-item',
  'invoke-shellcode',
  'invoke-mimikatz',
  'start-process',
  'start-bitstransfer',
  'start-job',
  'new-object',
  'set-mppreference',
  'add-mppreference',
  'set-executionpolicy',
  'get-wmiobject',
  'get-ciminstance',
  'invoke-cimmethod',
  'remove-item',
  'stop-process',
  'new-service',
  'register-scheduledtask',
  'new-itemproperty',
  'set-itemproperty',
])

/** `Invoke-WebRequest http://x/a.ps1`, `Start-Process cmd -ArgumentList …`: a cmdlet with an argument. */
export function powershell(word: string, rest: string): boolean {
  if (!cmdlets.has(word)) return false
  return /^\s+(?:-[A-Za-z]|["']?https?:|\(|\$|["']?[A-Za-z]:\\|["']?\\\\|\/|[\w.-]+\.(?:ps1|exe|bat|dll|vbs|hta)\b|cmd\b|powershell\b|[\w.]+\.\w+\()/i.test(
    rest,
  )
}
