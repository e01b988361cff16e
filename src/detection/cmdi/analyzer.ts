/**
 * Command injection by meaning: a shell separator, pipe or substitution followed
 * by a command, as `sh` or `cmd.exe` would read it; or a value that is itself a command line
 * with something only an attacker aims at (a sensitive path, a reverse shell, code for an
 * interpreter, a recon command, an obfuscated command word).
 * The command word is de-obfuscated the way the shell would (quotes and backslashes inside words
 * vanish: `w'h'o'am'i`, `c\at`; unset variables and empty substitutions expand to nothing:
 * `c$@at`, `pi$()ng`; `$IFS` is a space; `/???/c?t` is a glob; `{cat,/etc/passwd}` a brace
 * expansion) before it is looked up. A word that needed de-obfuscating to become a command is
 * itself the signal. "Tom & Jerry" or "dogs; cat food" are not commands: an English command
 * word needs an argument only a shell would take (a flag, a path, a substitution).
 */
import { bare, english, interpreters, isCommand, lookup, recon, shells, wrappers } from './words.js'
import { globTarget } from './glob.js'
import { batchFor, batchIf, powershell } from './windows.js'
import { mailCommand } from './mail.js'
import { charSet, meets, type Chars } from '../chars.js'

export type CmdiRule =
  'cmdi-separator' | 'cmdi-substitution' | 'cmdi-shellshock' | 'cmdi-windows' | 'cmdi-ssi' | 'cmdi-command-line' | 'cmdi-glob' | 'cmdi-mail' | 'cmdi-php-eval'

export interface CmdiFinding {
  readonly rule: CmdiRule
  readonly confidence: number
}

// Expansions that leave nothing in a word: special parameters, unset variables, empty substitutions.
const emptyExpansion = /\$(?=['"])|\$[@*#?$!_0-9-]|\$\{[^}\s]{0,40}\}|\$[A-Za-z_]\w{0,40}|\$\(\)|``|[<>]\(\)/g

/** What the shell would make of a word: quotes, backslashes and empty expansions removed. */
export function shellWord(w: string): string {
  if (/^\$\{?(?:SHELL|BASH)\}?$|^\$0$/.test(w)) return 'sh'
  // C:\Windows\System32\cmd.exe -> cmd; elsewhere '\' escapes a letter (`c\at`)
  const windows = /^[A-Za-z]:\\/.test(w)
  let out = windows ? w.slice(w.lastIndexOf('\\') + 1) : w
  // an odd quote inside a word opens a string that runs past it ("I'd" is no `id`); at either
  // end it closes or opens the app's own quoting: `'whoami`, `htop'`
  out = out
    .replace(/\$\{IFS\}|\$IFS\b/g, '')
    .replace(emptyExpansion, '')
    .replace(/\\(["'])/g, '$1')
  out = out.replace(pairedQuotes(out), '')
  if (!windows) out = out.replace(/\\/g, '')
  // a one-character class is that character: `/usr/bin/[u]name`
  out = out.replace(/\[([^\]!^])\]/g, '$1')
  return lookup(
    out
      .replace(/^.*\//, '') // /bin/cat -> cat
      .replace(/\.exe$/i, '')
      .toLowerCase(),
  )
}

function count(s: string, ch: string): number {
  let n = 0
  for (let i = s.indexOf(ch); i !== -1; i = s.indexOf(ch, i + 1)) n++
  return n
}

const quoteSets: Record<string, RegExp> = { '': /\^/g, "'": /['^]/g, '"': /["^]/g, both: /["'^]/g }

/** The quotes the shell removes from a word: those that come in pairs or sit at an end (and cmd.exe's '^'). */
function pairedQuotes(w: string): RegExp {
  const single = count(w, "'") % 2 === 0 || w[0] === "'" || w[w.length - 1] === "'"
  const double = count(w, '"') % 2 === 0 || w[0] === '"' || w[w.length - 1] === '"'
  return quoteSets[single && double ? 'both' : single ? "'" : double ? '"' : '']!
}

/** Quotes, escapes or expansions between the letters of a word: `'wh'oami`, `c\at`, `cu$@rl`, `pi$()ng`. */
function obfuscated(raw: string): boolean {
  if (/^[A-Za-z]:\\/.test(raw)) return false
  // a lone apostrophe is English ("I'd", "P's"), not a pair of quotes hiding letters
  raw = raw.replace(/\\(["'])/g, '$1')
  if (count(raw, "'") % 2 === 1) raw = raw.replace(/'/g, ' ')
  if (count(raw, '"') % 2 === 1) raw = raw.replace(/"/g, ' ')
  return /[A-Za-z0-9_][\\'"$`^][^\s]*[A-Za-z0-9]|^(['"])[A-Za-z]+\1[A-Za-z]|\$\(\)|``|[<>]\(\)/.test(raw)
}

type Context = 'separator' | 'pipe' | 'substitution' | 'start'

// What comes before the command word: blanks, `{ ( !`, backticks, a terminal escape
const prefix = /^(?:[\s{(!`]|\x1b\[[0-9;]{0,8}[A-Za-z])*/
// an unset variable standing alone expands to nothing: `;$u cat …`
const loneVariable = /^\$\{?[A-Za-z_]\w{0,40}\}?$/
const plainWord = /^[A-Za-z][\w.-]{0,40}$/
// words that open a construct judged apart from the command list
const constructs = new Set(['for', 'if', 'alias'])
const wordRe = /^(?:\$\(\)|``|[<>]\(\)|\$\{[^}\s]{0,40}\}|[^\s;|&<>(){}`])+/

// Code for an interpreter that reaches the system: processes, sockets, files.
const dangerousCode =
  /\b(?:system|exec|spawn|popen|passthru|shell_exec|subprocess|child_process|socket|fsockopen|Runtime|readline|os\.|pty|IO\.popen|open\s*\()/

// Paths an attacker's command line aims at. Deep: names a file or directory worth taking; shallow:
// the root of a drive or the file system, or a scratch directory.
const deepTarget =
  /(?:^|[\s=<>'"(,:])(?:\/etc(?:\/|\b)|\/bin\/|\/sbin\/|\/usr\/(?:local\/)?s?bin\b|\/dev\/(?:tcp|udp)\/|\/proc\/|\/root\b|\/var\/(?:www|log|spool|mail)\b|~\/\.ssh|[A-Za-z]:\\(?:windows|winnt|boot\.ini|inetpub|documents and settings|users)|HK(?:LM|CU|EY_[A-Z_]+)\\)/i
const shallowTarget = /(?:^|[\s=<>'"(,:])(?:\/(?=\s|$)|\/tmp\b|\/home\b|[A-Za-z]:\\(?=\s|$|\*)|[A-Za-z]:\\[\w ]{0,30}\\\*)/

/** A plausible argument after a separator: a flag, a path, an address, a redirect, more shell. */
function shellArgument(rest: string, word: string): boolean {
  const a = rest.trimStart()
  if (a === '') return false
  if (
    /^(?:-{1,2}[A-Za-z]|\+[A-Za-z]\b|\/(?:[\w.~*?[-]|\s|$)|~\/|\.{1,2}\/|[A-Za-z]:\\|\\\\[\w.]|\$[({\w]|`|["']?(?:https?|ftp):\/\/|%[A-Za-z]+%|>>?\s*[/\w.~-]|<\s*[/\w.~-]|\d{1,3}(?:\.\d{1,3}){3}\b)/.test(
      a,
    )
  )
    return true
  // `; sleep 5` but not "; sleep 8 hours"
  // `;echo 1;`: a statement that proves code runs
  if (word === 'echo' && /^\d+\s*;/.test(a)) return true
  if ((word === 'sleep' || word === 'timeout' || word === 'usleep') && /^\d+(?:\.\d+)?[smhd]?\s*(?:$|[;|&#\n`)])/.test(a)) return true
  if (/^(?:'[^']*'|"[^"]*")\s*(?:$|[>|;&])/.test(a)) return true
  if (english.has(word)) return false
  // (not a bare number: "Perl 5", "PHP 8")
  if (/^\(/.test(a)) return word === 'iex' || word === 'iwr' || word === 'irm'
  return /^(?:[<>]|\S*\/\S*|[\w-]+(?:\.[\w-]+){1,4}\s*(?:$|[;|&#\n]))/.test(a)
}

const netSubcommand = /^\s+(?:user|localgroup|view|share|use|start|stop|session|accounts|group)\b/i

/** How surely the text at `i` is a command in the given position: 0 when it is none. */
const cmdletName = /^[A-Z][a-z]+-[A-Z][A-Za-z]+$/

function commandAt(s: string, i: number, ctx: Context, vars: ReadonlyMap<string, string> | null, depth = 0): number {
  if (depth > 3) return 0
  let text = s.slice(i, i + 256)
  // `&&+ls+/etc`: a value that spells its spaces '+' (form encoding decoded once too often)
  if (text[0] === '+' && ctx !== 'start') text = text.replace(/\+/g, ' ')
  if (text.indexOf('IFS') !== -1) text = text.replace(/\$\{IFS\}|\$IFS\b/g, ' ')
  const lead = prefix.exec(text)![0]
  let at = lead.length
  const strong = ctx === 'substitution' ? 0.9 : 0.85
  // brace expansion: `{cat,/etc/passwd}`, `{,ifconfig}`
  if (lead.includes('{') && text[at - 1] === '{') {
    const close = text.indexOf('}', at)
    const inner = close === -1 ? '' : text.slice(at, close)
    if (inner.includes(',') && !/[\s{]/.test(inner.replace(/\t/g, ''))) {
      const line =
        inner
          .split(',')
          .filter((p) => p !== '')
          .join(' ') + text.slice(close + 1)
      // `{,ifconfig}`: an empty first element is written only to hide a command word
      // `{id,}` is also a list of fields: without the empty head it needs an argument
      const parts = line.split(' ').length
      const r =
        inner.startsWith(',') || parts >= 2
          ? commandAt(line, 0, inner.startsWith(',') ? 'substitution' : ctx === 'start' ? 'separator' : ctx, vars, depth + 1)
          : 0
      if (r > 0) return strong
    }
  }
  // brace expansion splitting a word: `c{a,oun}t` runs `cat count`, `{l,-lh}s` runs `ls -lhs`
  if (text.indexOf('{') !== -1) {
    const from = lead.endsWith('{') ? at - 1 : at
    const split = /^([\w/.-]{0,20})\{([^{}\s,]{0,20}),[^{}\s]{0,60}\}([\w.-]{0,20})/.exec(text.slice(from, from + 140))
    if (split !== null && split[1]! + split[3]! !== '' && isCommand(shellWord(split[1]! + split[2]! + split[3]!))) return strong
  }
  let m = wordRe.exec(text.slice(at))
  // cheap first: a plain word that names no command and starts no construct ends it here
  if (m !== null && plainWord.test(m[0]) && !isCommand(lookup(m[0].toLowerCase())) && !constructs.has(m[0].toLowerCase()) && !/^[\w-]+-[\w]+$/.test(m[0]))
    return 0
  // A substitution (`$( )`, backticks) is the Unix shell's, where command names are
  // case-sensitive: `Su` or `W` (random text such as a password) runs nothing. PowerShell's
  // `$(Get-Process)` names a Verb-Noun cmdlet.
  if (ctx === 'substitution' && m !== null && /[A-Z]/.test(m[0]) && m[0][0] !== '$' && !cmdletName.test(m[0])) return 0
  // `$SHELL -c …` is a shell; an unknown `$u` before a word is nothing, written to hide the word
  let skipped = false
  for (let k = 0; k < 3 && m !== null && loneVariable.test(m[0]) && !/^\$\{?(?:SHELL|BASH)\}?$/.test(m[0]) && !vars?.has(m[0].replace(/[${}]/g, '')); k++) {
    const skip = /^\s+/.exec(text.slice(at + m[0].length))
    if (skip === null) break
    at += m[0].length + skip[0].length
    m = wordRe.exec(text.slice(at))
    skipped = true
  }
  if (m === null) return 0
  let raw = m[0].slice(0, 80)
  at += m[0].length
  const after = text.slice(at, at + 160)
  // a variable assigned earlier in the value: `a=nc&&$a -nlvp 555`
  let assembled = false
  if (vars !== null && raw.includes('$')) {
    const expanded = raw.replace(/\$\{?([A-Za-z_]\w{0,40})\}?/g, (x, name: string) => vars.get(name) ?? x)
    if (expanded !== raw && isCommand(shellWord(expanded))) {
      raw = expanded
      assembled = true
    }
  }
  const word = shellWord(raw)
  const hidden = assembled || (skipped && word.length >= 2) || (word.length >= 2 && obfuscated(raw))

  if (globTarget(raw.replace(/["'\\]/g, ''))) return strong
  if (word === 'for' && batchFor(text.slice(lead.length))) return strong
  if (word === 'if' && batchIf(text.slice(lead.length))) return strong
  if (powershell(word, after)) return strong
  // sqlite3's `.shell` / `.system` run the rest as a command
  if ((word === '.shell' || word === '.system') && commandAt(after, 0, 'substitution', vars, depth + 1) > 0) return strong
  if (word === 'alias') return aliasOfCommand(after) ? strong : 0
  if (!isCommand(word)) return 0
  if (hidden) return strong
  // an editor told to run a shell command: `vim x +silent\ !id +wq`, `vi -c ':!id'`
  if (editors.has(word) && editorShell.test(after)) return strong
  // the whole value a download of a URL (`wget http://x/y.sh`, `curl -o /tmp/x https://…`): an
  // app that runs it fetches the attacker's payload
  if (ctx === 'start' && downloaders.has(word) && downloadArgs(after.replace(emptyExpansion, ''))) return strong
  // here-string into a command: `cat<<<id`, `$0<<<…`
  if (after.startsWith('<<<')) return strong
  if (wrappers.has(word)) {
    // `time ifconfig`, `nohup sh -c id`, `cpulimit -l 100 -f whoami`: judge the wrapped command
    const w = /^(?:\s+(?:-{1,2}[\w-]+|\d+|\/))*\s+/.exec(after.slice(0, 80))
    if (w !== null) {
      const r = commandAt(after, w[0].length, ctx === 'start' ? 'start' : ctx, vars, depth + 1)
      if (r > 0) return r
    }
  }
  const expanded = after.replace(emptyExpansion, '')
  if (ctx === 'substitution') return strong
  // a command handed over as a string: `trap 'rm -rf x' EXIT`, `su -c "id"`, `at 2:00 "…"`
  const quoted = /^(?:\s+(?:-{1,2}[\w-]+|[\d:]+))*\s+(['"])([^'"]{1,120})\1/.exec(expanded)
  if (quoted !== null && commandAt(quoted[2]!, 0, 'separator', vars, depth + 1) > 0) return strong
  if (word === 'net' || word === 'net1') return netSubcommand.test(expanded) ? strong : 0
  if (word === 'netsh') return /^\s+\w/.test(expanded) ? strong : 0
  if (word === 'reg') return /^\s+(?:add|query|delete|save|export|import)\s+["']?HK/i.test(expanded) ? strong : 0
  const next = expanded.trimStart()
  if (ctx === 'separator' || ctx === 'pipe') {
    if (bare.has(word) && (next === '' || /^[;|&\n`)'"#]|^-[A-Za-z]|^\//.test(next))) return strong
    // `… | sh` pipes what came before into a shell
    if (ctx === 'pipe' && shells.has(word) && (next === '' || /^[;&\n#]/.test(next))) return strong
    return shellArgument(expanded, word) ? strong : 0
  }
  // the whole value as a command line
  // (`id` and `hostname` are also column names: "id;name;email" is a CSV header)
  if (
    recon.has(word) &&
    (next === '' || /^(?:-{1,2}[A-Za-z]|\/[A-Za-z]+\s*$)/.test(next) || (!fieldNames.has(word) && /^[;|&\n`#]\s*(?:$|[^A-Za-z\s])/.test(next)))
  )
    return strong
  if (shells.has(word) || interpreters.has(word)) {
    // `sh -c id`, `bash -i >& …`, `powershell -enc …`, `perl -e 'system(…)'`
    const flag = /^(?:-[A-Za-z]*([ceirE])\b|\/[ck]\b|-(?:enc|nop|noni|w|ExecutionPolicy|EncodedCommand)\b)\s*(['"]?)([^'"]{0,120})/i.exec(next)
    if (flag !== null) {
      if (flag[1] === 'i' || (flag[1] === undefined && word !== 'cmd')) return strong
      if (commandAt(flag[3]!, 0, 'substitution', vars, depth + 1) > 0) return strong
      if (dangerousCode.test(flag[3]!)) return strong
      // inline code for an interpreter is code execution; a shell running some other program less clearly
      return interpreters.has(word) && !english.has(word) && flag[2] !== '' ? 0.8 : 0.7
    }
  }
  const cleanArgs = ' ' + expanded.replace(/["'\\]/g, (q) => (q === '\\' ? '\\' : ' '))
  // English command words need the rest to read as arguments, not a sentence: "type c:\windows\x to open it"
  const prose = english.has(word) && /(?:^|\s)[A-Za-z]+\s+[A-Za-z]+\s+[A-Za-z]+(?:[\s.,!?]|$)/.test(next)
  if (!prose && deepTarget.test(cleanArgs)) return strong
  if (!english.has(word) && shallowTarget.test(cleanArgs)) return strong
  if (/^(?:\/usr(?:\/local)?)?\/s?bin\//.test(raw) && next !== '') return strong
  // writing a script where the server runs it, or over a system file: `echo '<?php …' > x.php`
  if (
    (word === 'echo' || word === 'printf') &&
    /[^-=>&\d\s]\s*>>?\s*(?:[\w./~-]*\.(?:php\d?|phtml|jsp|aspx?|sh|py|pl|cgi)|\/etc\/\S+|\S*authorized_keys|\S*\/cron\S*)\s*$/i.test(next)
  )
    return strong
  if (shellArgument(expanded, word) && /^\s*\S+\s+(?:-{1,2}[A-Za-z]|\/(?:etc|bin|usr|tmp|var|dev|proc|home|root)\b|[A-Za-z]:\\)/.test(text.slice(lead.length)))
    return 0.6
  return 0
}

const fieldNames = new Set(['id', 'hostname'])

const editors = new Set(['vi', 'vim', 'nvim', 'rvim', 'ex', 'view', 'vimdiff'])
// `+cmd`, `-c cmd`, `--cmd cmd` whose ex command is `!` (a shell escape), `silent` or `:` before it
const editorShell = /(?:^|\s)(?:\+|-c\s*|--cmd\s*)['"]?:?[\w\\ ]{0,30}!\s*[\w/.$]/

const downloaders = new Set(['wget', 'curl', 'aria2c', 'lwp-download', 'axel'])
const urlArg = /^(?:https?|ftps?|tftp):\/\/\S/
const optionArg = /^-{1,2}[\w-]+(?:=\S*)?$/
// an option's value or an output file: a path or a file name, not an English word
const fileArg = /^[\w~.][\w.~-]*[./][\w./~-]*$/

/** Arguments that are a URL and nothing but options, file names and shell operators after it. */
function downloadArgs(args: string): boolean {
  const tokens = args.trim().split(/\s+/, 10)
  let url = false
  for (const token of tokens) {
    if (/^[;|&>]/.test(token)) break
    const t = token.replace(/^['"]|['"]$/g, '')
    if (urlArg.test(t)) url = true
    else if (!optionArg.test(t) && !fileArg.test(t)) return false
  }
  return url
}

/**
 * Whether a pipe is fed by a command line: the pipeline (from the value's start or the last
 * separator) opens with a command that has an argument. "Shell: bash | sh" is a list.
 */
function pipeFed(value: string, pipe: number): boolean {
  let from = 0
  for (let k = pipe - 1; k >= 0 && k > pipe - 400; k--) {
    const c = value[k]
    if (c === ';' || c === '&' || c === '\n') {
      from = k + 1
      break
    }
  }
  for (const start of from === 0 ? [0] : [0, from]) {
    // (`code=time id | sh`: form data sent as plain text)
    const left = value.slice(start, Math.min(pipe, start + 200)).replace(/^\s*[\w.-]{1,40}=/, '')
    const m = /^\s*([^\s|;&]{1,64})[ \t]+[^\s|]/.exec(left)
    if (m !== null && isCommand(shellWord(m[1]!))) return true
    if (/^\s*[^\s|;&]{1,64}<<</.test(left)) return true
  }
  return false
}

/** `alias x=curl`, `alias -p a='ls -al'`: a new name for a command. */
function aliasOfCommand(after: string): boolean {
  const m = /^(?:\s+[-+][A-Za-z+]{1,6})*\s+(?:'[^']{1,40}'|"[^"]{1,40}"|[^\s=]{1,40})=('[^']{1,80}'|"[^"]{1,80}"|[^\s;&|]{1,80})/.exec(after)
  if (m === null) return false
  const value = m[1]!.replace(/^(['"])(.*)\1$/, '$2').trimStart()
  return isCommand(shellWord(value.split(/\s/)[0]!))
}

// Assignments `name=value` at a command position, for `a=nc;$a -e sh`.
const assignName = /(?:^|(?<=[\s;&|`(=]))([A-Za-z_]\w{0,30})=/g
const assignValue = /^(?:'[^']{0,40}'|"[^"]{0,40}"|[^\s;&|`)=]{0,40})/

function assignments(value: string): Map<string, string> | null {
  if (value.indexOf('=') === -1 || value.indexOf('$') === -1) return null
  let vars: Map<string, string> | null = null
  assignName.lastIndex = 0
  for (let m = assignName.exec(value); m !== null; m = assignName.exec(value)) {
    if (vars === null) vars = new Map()
    const v = assignValue.exec(value.slice(assignName.lastIndex, assignName.lastIndex + 84))![0]
    vars.set(m[1]!, v.replace(/^(['"])(.*)\1$/, '$2'))
  }
  return vars
}

// system('id'), eval('sleep 5'), passthru("cat /etc/passwd"): a command handed to a language's shell call
const shellCall = /\b(?:eval|system|exec|passthru|shell_exec|popen|proc_open|os\.system|subprocess\.\w+|Runtime\.getRuntime\(\)\.exec)\s*\(\s*["']/

// PHP's complex (curly) syntax calling a function, the `@` that silences it, or a probe that
// only asks PHP to identify itself
const phpEval = /\{\$\{\s*@?[A-Za-z_]\w{0,40}\s*\(|\$\{\s*@[A-Za-z_]\w{0,40}\s*\(|(?:^|[;|&]\s{0,4})php(?:info|version|credits)\s*\(\s*\)\s*(?:;|$)/

// Where inline code (markdown) starts and ends: a backtick after these is a code span, not a substitution.
const spanBefore = new Set([' ', '\t', '\n', '\r', '(', '[', '"', "'", '*', '_', '>', ':', ','])

// Characters of shell syntax beyond words and blanks, and anything outside ASCII: one class, for
// a regular expression's class scan is several times quicker than a loop over long prose.
const shellSyntaxOrWide = /[;|&`$(){}<>\n\r'"\\*?[~%!^+=\u0080-\uffff]/
// its ASCII characters, for a caller that knows the value's (chars.ts)
const shellSyntax = charSet(';|&`$(){}<>\n\r\'"\\*?[~%!^+=')
const firstWord = /^\s*([A-Za-z][\w./-]{0,80})/

/**
 * Cheap first: a value of words and blanks alone can only be a command line itself, and then its
 * first word is a command (or `for`, `if`, a cmdlet). Most text fields end here.
 */
function onlyWords(value: string, chars: Chars | null): boolean {
  if (chars !== null ? meets(chars, shellSyntax) : shellSyntaxOrWide.test(value)) return false
  const m = firstWord.exec(value)
  // `/usr/bin/id`, `./x`: a path may be the command
  if (m === null) return !/^\s*[/.]/.test(value)
  const w = m[1]!.slice(m[1]!.lastIndexOf('/') + 1).toLowerCase()
  return !isCommand(lookup(w)) && !constructs.has(w) && w.indexOf('-') === -1
}

export function analyzeCmdi(value: string, chars: Chars | null = null): CmdiFinding | null {
  return analyze(value, true, chars)
}

// `Mozilla/5.0`, `curl/8.4.0`, `okhttp/4.12`: a User-Agent opens with a product token
const productToken = /^[\w.!#$%&*+^|~-]{1,64}\//

/**
 * A User-Agent is a list of product tokens; one that is a command line instead (`env --version`,
 * `set -o history`, `ansible all -m ping`) is a probe for the apps that hand it to a shell (CGI
 * puts it in the environment, log pipelines run scripts over it). The first word must be a
 * command; an English one needs a flag after it ("Chef report bot" is a name).
 */
export function analyzeCmdiAgent(value: string): CmdiFinding | null {
  if (value.length > 256 || productToken.test(value)) return null
  const m = /^\s*(['"]?)([A-Za-z][\w.-]{0,40})\1(\s+\S.*)?$/s.exec(value)
  if (m === null || m[3] === undefined) return null
  const word = lookup(m[2]!.toLowerCase())
  if (!isCommand(word)) return null
  if (english.has(word) && !/\s-{1,2}[A-Za-z]/.test(m[3])) return null
  return { rule: 'cmdi-command-line', confidence: 0.85 }
}

/**
 * For the URL path: the whole path is not a command line (`/id`, `/users/whoami` are ordinary
 * endpoints), but separators, substitutions and the rest still are.
 */
export function analyzeCmdiPath(value: string, chars: Chars | null = null): CmdiFinding | null {
  return analyze(value, false, chars)
}

function analyze(value: string, wholeLine: boolean, chars: Chars | null): CmdiFinding | null {
  if (onlyWords(value, chars)) return null
  // Shellshock: a function definition in a header value
  if (value.indexOf('()') !== -1 && /\(\)\s*\{[^}]{0,20}\}\s*;|\(\)\s*\{\s*:\s*;\s*\}|^\s*\(\)\s*\{/.test(value))
    return { rule: 'cmdi-shellshock', confidence: 0.95 }
  const lt = value.indexOf('<')
  // Server-side includes: <!--#exec cmd="…"-->
  if (lt !== -1 && /<!--\s*#\s*exec\b/i.test(value)) return { rule: 'cmdi-ssi', confidence: 0.95 }
  // PHP's backtick operator runs a shell command: <?=`…`
  if (lt !== -1 && /<\?(?:php\b|=)?\s*`/i.test(value)) return { rule: 'cmdi-substitution', confidence: 0.9 }
  // PHP code evaluated from a string: `{${phpinfo()}}`, `${@system(…)}`, `;phpinfo();`
  if (value.indexOf('(') !== -1 && phpEval.test(value)) return { rule: 'cmdi-php-eval', confidence: 0.85 }
  const vars = assignments(value)
  const call = shellCall.exec(value)
  if (call !== null && commandAt(value, call.index + call[0].length, 'substitution', vars) > 0) return { rule: 'cmdi-substitution', confidence: 0.8 }
  if ((value.charCodeAt(0) === 13 || value.charCodeAt(0) === 10 || value.indexOf('\n') !== -1) && mailCommand(value))
    return { rule: 'cmdi-mail', confidence: 0.85 }
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!
    if (c === '$' && value[i + 1] === '(' && value[i + 2] !== '(') {
      if (commandAt(value, i + 2, 'substitution', vars) > 0) return { rule: 'cmdi-substitution', confidence: 0.9 }
    } else if ((c === '<' || c === '>') && value[i + 1] === '(' && value[i - 1] !== c) {
      // process substitution: <(cat file), >(tee log)
      if (commandAt(value, i + 2, 'substitution', vars) > 0) return { rule: 'cmdi-substitution', confidence: 0.9 }
    } else if (c === '`') {
      const close = value.indexOf('`', i + 1)
      const inner = value.slice(i + 1, close === -1 ? value.length : close)
      // `ls` alone is also how markdown quotes a command name; glued to a word or an operator it is shell
      const span = i === 0 || spanBefore.has(value[i - 1]!)
      if (!span && commandAt(inner, 0, 'substitution', vars) > 0) return { rule: 'cmdi-substitution', confidence: 0.9 }
      // a code span with arguments: markdown writes `ls -la` too, so it needs what a whole value would
      // (a value that is one code span and nothing else is no prose)
      const whole = i === 0 && close === value.length - 1
      if (/\S\s+\S/.test(inner.trim()) && commandAt(inner.trim(), 0, whole ? 'separator' : 'start', vars) >= 0.8)
        return { rule: 'cmdi-substitution', confidence: 0.9 }
      if (commandAt(inner, 0, 'substitution', vars) > 0) {
        // the whole value one code span holding a recon command or a binary's path: `` `whoami` ``
        const w = shellWord(inner.trim())
        if (whole && (recon.has(w) || /^\/(?:usr\/)?s?bin\/\w+$/.test(inner.trim()))) return { rule: 'cmdi-substitution', confidence: 0.8 }
        return { rule: 'cmdi-substitution', confidence: 0.6 }
      }
      if (close !== -1) i = close - 1 // the closing backtick opens nothing
    } else if (c === ';' || c === '|' || c === '&' || c === '\n' || c === '\r') {
      let j = i + 1
      while (value[j] === '|' || value[j] === '&') j++
      const ctx: Context = c === '|' && j === i + 1 && pipeFed(value, i) ? 'pipe' : 'separator'
      if (commandAt(value, j, ctx, vars) > 0) return { rule: 'cmdi-separator', confidence: 0.85 }
      i = j - 1
    } else if (c === '%' && /^%(?:COMSPEC|SYSTEMROOT|WINDIR|PROGRAMFILES)%/i.test(value.slice(i, i + 16))) {
      return { rule: 'cmdi-windows', confidence: 0.8 }
    }
  }
  // the whole value as a command line (an app that runs a parameter as a command)
  let whole = wholeLine ? commandAt(value, 0, 'start', vars) : 0
  // `code=time ifconfig`: form data sent as plain text, or a shell assignment before the command
  const eq = whole === 0 && wholeLine ? /^[\w.-]{1,40}=/.exec(value) : null
  if (eq !== null) whole = commandAt(value, eq[0].length, 'start', vars)
  if (whole > 0) return { rule: 'cmdi-command-line', confidence: whole }
  // a glob that spells a sensitive file or a binary in any argument: `cat /e??/pa[s]swd`
  if (value.indexOf('/') !== -1 && /[?*[]/.test(value)) {
    for (const token of value.split(/[\s;|&<>(){}=,+]+/)) {
      if (token.length > 2 && token.length <= 80 && globTarget(token.replace(/["'\\]/g, ''))) return { rule: 'cmdi-glob', confidence: 0.85 }
    }
  }
  return null
}
