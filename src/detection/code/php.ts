/**
 * PHP code injection: the value read as PHP tokens (identifiers, variables, strings, comments
 * dropped), then judged by the calls it would make. A call is dangerous by what it reaches
 * (`system`, `eval`, `assert`, `passthru`...) and by what feeds it: request superglobals,
 * decoders that hide a payload (`base64_decode`, `gzinflate`, `chr`), a shell command. Shapes that
 * only obfuscation produces count on their own: a function name built from strings or brackets
 * and then called (`(sy.(st).em)('id')`, `"system"('id')`, `[system][0]('id')`), a comment between
 * a function name and its parenthesis, variable functions on superglobals or underscore names
 * (`$_GET['f']($_POST['a'])`, `$__[_](1)`). Plain code quoted in a ticket (`echo "hi"`,
 * `System.out.println`, `$this->save()`) stays below the blocking threshold.
 */
import type { CodeFinding } from './types.js'

type Kind = 'id' | 'var' | 'str' | 'num' | 'tick' | 'punct'

interface Token {
  readonly kind: Kind
  /** Lower-cased identifier or variable name (without `$`), string contents, or the punctuation. */
  readonly text: string
  /** A comment stood right before this token: a line (`#`, `//`) or a block comment. */
  readonly afterComment: false | 'line' | 'block'
}

// Work is bounded: beyond these the rest of the value is not read as PHP.
const maxTokens = 4096
const maxArgTokens = 128
const maxCalleeTokens = 64

// Run code or commands, or load code.
const execFunctions = new Set(['system', 'exec', 'shell_exec', 'passthru', 'popen', 'proc_open', 'pcntl_exec', 'assert', 'eval', 'create_function'])
// Take a callback by name: `call_user_func('system', 'id')`, `array_map('assert', ...)`.
const callbackFunctions = new Set([
  'call_user_func',
  'call_user_func_array',
  'array_map',
  'array_filter',
  'array_walk',
  'usort',
  'uasort',
  'uksort',
  'register_shutdown_function',
  'register_tick_function',
  'forward_static_call',
  'forward_static_call_array',
])
// Unwrap a hidden payload.
const decoders = new Set([
  'base64_decode',
  'gzinflate',
  'gzuncompress',
  'gzdecode',
  'str_rot13',
  'strrev',
  'hex2bin',
  'chr',
  'pack',
  'bzdecompress',
  'convert_uudecode',
  'rawurldecode',
  'urldecode',
  'hexdec',
])
// Write, load or reveal files and configuration.
const fileFunctions = new Set([
  'include',
  'include_once',
  'require',
  'require_once',
  'file_put_contents',
  'fwrite',
  'fputs',
  'move_uploaded_file',
  'file_get_contents',
  'readfile',
  'fopen',
  'unlink',
  'phpinfo',
  'fsockopen',
  'pfsockopen',
  'curl_exec',
  'copy',
  'symlink',
  'chmod',
  'ini_set',
  'putenv',
  'mail',
  'unserialize',
  'preg_replace',
  'extract',
  'parse_str',
  'get_defined_vars',
  'posix_getpwuid',
  'dl',
  'highlight_file',
  'show_source',
  'file',
  'scandir',
  'glob',
])
// Request input: what an injected call is fed with.
const superglobals = new Set(['_get', '_post', '_request', '_cookie', '_server', '_files', '_env', '_session', 'globals', 'http_raw_post_data'])
// A first word that makes a string a shell command (`system('id')`, `exec("cat /etc/passwd")`).
const shellCommands = new Set([
  'id',
  'whoami',
  'uname',
  'ls',
  'dir',
  'pwd',
  'cat',
  'tac',
  'head',
  'tail',
  'wget',
  'curl',
  'nc',
  'ncat',
  'bash',
  'sh',
  'ping',
  'nslookup',
  'echo',
  'ifconfig',
  'ipconfig',
  'netstat',
  'ps',
  'env',
  'printenv',
  'hostname',
  'rm',
  'chmod',
  'python',
  'python3',
  'perl',
  'php',
  'powershell',
  'cmd',
  'net',
  'type',
  'find',
  'sleep',
  'uptime',
  'systeminfo',
  'tasklist',
])
// Words before a `(` that do not make it a function call.
const notCalls = new Set([
  'function',
  'fn',
  'new',
  'if',
  'while',
  'for',
  'foreach',
  'switch',
  'catch',
  'array',
  'list',
  'isset',
  'empty',
  'return',
  'echo',
  'print',
])

const isIdStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 0x80
const isIdPart = (c: number) => isIdStart(c) || (c >= 48 && c <= 57)

/** PHP's reading of `s`: comments and whitespace dropped, strings unescaped. Linear. */
export function tokenize(s: string): Token[] {
  const out: Token[] = []
  let comment: Token['afterComment'] = false
  let i = 0
  const n = s.length
  const push = (kind: Kind, text: string) => {
    out.push({ kind, text, afterComment: comment })
    comment = false
  }
  while (i < n && out.length < maxTokens) {
    const c = s.charCodeAt(i)
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12) {
      i++
    } else if (c === 47 && s.charCodeAt(i + 1) === 42) {
      const end = s.indexOf('*/', i + 2)
      i = end === -1 ? n : end + 2
      comment = 'block'
    } else if ((c === 47 && s.charCodeAt(i + 1) === 47) || c === 35) {
      const end = s.indexOf('\n', i)
      i = end === -1 ? n : end + 1
      comment = 'line'
    } else if (isIdStart(c)) {
      const start = i
      while (i < n && isIdPart(s.charCodeAt(i))) i++
      push('id', s.slice(start, i).toLowerCase())
    } else if (c === 36) {
      // `$name`; `$$name` and `${...}` are variable variables: a `$` punct then the rest
      const start = ++i
      while (i < n && isIdPart(s.charCodeAt(i))) i++
      if (i > start) push('var', s.slice(start, i).toLowerCase())
      else push('punct', '$')
    } else if (c === 39 || c === 34 || c === 96) {
      i++
      let text = ''
      while (i < n && s.charCodeAt(i) !== c) {
        if (s.charCodeAt(i) === 92 && i + 1 < n) {
          const e = s[i + 1]!
          if (c === 34 && e === 'x' && /^[0-9a-fA-F]{1,2}/.test(s.slice(i + 2, i + 4))) {
            const hex = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 2, i + 4))![0]
            text += String.fromCharCode(parseInt(hex, 16))
            i += 2 + hex.length
            continue
          }
          text += e
          i += 2
          continue
        }
        text += s[i]
        i++
      }
      i++
      push(c === 96 ? 'tick' : 'str', text)
    } else if (c >= 48 && c <= 57) {
      const start = i
      while (i < n && isIdPart(s.charCodeAt(i))) i++
      push('num', s.slice(start, i))
    } else if ((c === 45 && s.charCodeAt(i + 1) === 62) || (c === 58 && s.charCodeAt(i + 1) === 58)) {
      push('punct', s.slice(i, i + 2))
      i += 2
    } else {
      push('punct', s[i]!)
      i++
    }
  }
  return out
}

/**
 * The name an indirect callee spells, read backwards from `end` (inclusive): bracket groups and
 * `.`-joined strings, identifiers and strings concatenated, indexes and casts left out
 * (`(sy.(st).em)`, `(string) "sys"."tem"`, `[system][0]` and `"\x73ystem"` all spell "system").
 */
function calleeName(t: readonly Token[], end: number): string {
  let name = ''
  let depth = 0
  // at depth 0, after a string or name: only `.` or a group may come before it
  let joined = true
  const stop = Math.max(0, end - maxCalleeTokens)
  for (let i = end; i >= stop; i--) {
    const k = t[i]!
    const close = k.kind === 'punct' && (k.text === ')' || k.text === ']' || k.text === '}')
    const open = k.kind === 'punct' && (k.text === '(' || k.text === '[' || k.text === '{')
    if (depth > 0) {
      if (close) depth++
      else if (open) depth--
      else if ((k.kind === 'str' || k.kind === 'id') && !casts.has(k.text)) name = k.text + name
      if (depth === 0) joined = false
      continue
    }
    if (close) depth = 1
    else if (k.kind === 'punct' && k.text === '.') joined = true
    else if ((k.kind === 'str' || k.kind === 'id') && joined) {
      name = k.text + name
      joined = false
    } else break
  }
  return name.replace(/\s+/g, '').toLowerCase()
}

const casts = new Set(['string', 'array', 'str', 'object'])

/** Whether strings joined with `.` spell an exec function somewhere (`'sys'.'tem'`). */
function concatenatesExec(t: readonly Token[]): boolean {
  let name = ''
  let parts = 0
  for (let i = 0; i < t.length; i++) {
    const k = t[i]!
    if (k.kind === 'str') {
      name += k.text
      parts++
      if (parts > 1 && execFunctions.has(name.replace(/\s+/g, '').toLowerCase())) return true
      if (t[i + 1]?.text !== '.' || name.length > 32) {
        name = ''
        parts = 0
      }
    } else if (!(k.kind === 'punct' && k.text === '.')) {
      name = ''
      parts = 0
    }
  }
  return false
}

interface Args {
  superglobal: boolean
  variable: boolean
  decoder: boolean
  tick: boolean
  /** The first argument when it is one string or bare word. */
  first: Token | null
  /** String contents that look like PHP code (for `eval("...")`). */
  code: boolean
  /** A string that names an exec function (a callback by name). */
  callback: boolean
}

function readArgs(t: readonly Token[], open: number): Args {
  const a: Args = { superglobal: false, variable: false, decoder: false, tick: false, first: null, code: false, callback: false }
  let depth = 0
  const end = Math.min(t.length, open + maxArgTokens)
  for (let i = open; i < end; i++) {
    const k = t[i]!
    if (k.kind === 'punct') {
      if (k.text === '(' || k.text === '[' || k.text === '{') depth++
      else if (k.text === ')' || k.text === ']' || k.text === '}') {
        depth--
        if (depth === 0) break
      }
      continue
    }
    if (i === open + 1 && (k.kind === 'str' || k.kind === 'id')) a.first = k
    if (k.kind === 'var') {
      a.variable = true
      if (superglobals.has(k.text)) a.superglobal = true
    } else if (k.kind === 'tick') a.tick = true
    else if (k.kind === 'id' && decoders.has(k.text) && t[i + 1]?.text === '(') a.decoder = true
    else if (k.kind === 'str') {
      if (/[;$]|\w\s*\(/.test(k.text)) a.code = true
      if (execFunctions.has(k.text.trim().toLowerCase())) a.callback = true
    }
  }
  return a
}

// Commands run bare, which a bare word argument may be (`system(whoami)`); `exec(cmd)` passes a variable.
const bareCommands = new Set(['id', 'whoami', 'uname', 'ls', 'pwd', 'ifconfig', 'ipconfig', 'hostname', 'netstat', 'systeminfo', 'tasklist', 'dir'])
const shellFirstWord = (k: Token) => (k.kind === 'id' ? bareCommands.has(k.text) : shellCommands.has((/^\s*([\w.-]+)/.exec(k.text)?.[1] ?? '').toLowerCase()))

// Names only obfuscators write: underscores alone, or runs of O and 0 (`$__`, `$OOO0O0`).
const obfuscatedName = /^(?:_+|[o0]{4,})$/

/** Where the PHP open tags are (`<?php`, `<?=`, `<? code`), not counting `<?xml`. */
function openTag(s: string): number {
  let from = 0
  for (;;) {
    const at = s.indexOf('<?', from)
    if (at === -1) return -1
    const rest = s.slice(at + 2, at + 6).toLowerCase()
    if (rest.startsWith('php') || rest.startsWith('=')) return at
    // `<? echo`, `<?\tphp`: code after whitespace; `<?xml ...` is XML
    if (/^\s+[a-z$@_]/.test(rest) && !/^\s*xml/.test(rest)) return at
    from = at + 2
  }
}

export function analyzePhp(s: string): CodeFinding | null {
  const tag = openTag(s)
  const hasParen = s.indexOf('(') !== -1
  const serialized = hasSerializedObject(s)
  if (tag === -1 && !hasParen && serialized === null) {
    return s.indexOf('$') !== -1 ? superglobalOnly(s) : null
  }
  let best: CodeFinding | null = serialized
  const take = (rule: CodeFinding['rule'], confidence: number) => {
    if (best === null || confidence > best.confidence) best = { rule, confidence }
  }
  // the whole value: code before a tag runs too when the file is included (`eval($x) <?=`)
  const t = tokenize(s)
  const inTag = tag !== -1
  let sawSuperglobal = false
  let concatenated: boolean | undefined
  for (let i = 0; i < t.length; i++) {
    const k = t[i]!
    if (k.kind === 'var' && superglobals.has(k.text)) sawSuperglobal = true
    if (k.kind === 'tick' && inTag) take('php-open-tag', 0.9)
    if (!(k.kind === 'punct' && k.text === '(')) {
      // `include $x;`, `require 'http://...'`: constructs called without parentheses
      if (inTag && k.kind === 'id' && (k.text === 'include' || k.text === 'require' || k.text === 'include_once' || k.text === 'require_once')) {
        const next = t[i + 1]
        if (next !== undefined && (next.kind === 'str' || next.kind === 'var')) take('php-open-tag', 0.9)
      }
      continue
    }
    if (i === 0) continue
    const p = t[i - 1]!
    const args = readArgs(t, i)
    const fed = args.superglobal || args.decoder || args.tick
    if (p.kind === 'id') {
      const before = t[i - 2]
      if (before !== undefined && before.kind === 'punct' && (before.text === '->' || before.text === '::')) continue
      if (before !== undefined && before.kind === 'id' && (before.text === 'function' || before.text === 'new' || before.text === 'fn')) continue
      // `obj.exec(...)`, `Runtime.getRuntime().exec(...)`: a Java or JS method; PHP's `.` joins
      // strings and variables (`'a'.system('id')`)
      const left = t[i - 3]
      if (before?.kind === 'punct' && before.text === '.' && left !== undefined && (left.kind === 'id' || left.text === ')' || left.text === ']')) continue
      const name = p.text
      if (notCalls.has(name)) continue
      const suppressed = before?.kind === 'punct' && before.text === '@'
      // a `#` or `//` comment is also how markdown tags and URLs look: it counts only before a
      // call that starts a statement ("Our system #1 (beta)" is prose)
      const hidden = k.afterComment === 'block' || (k.afterComment === 'line' && (before === undefined || before.kind === 'punct'))
      if (execFunctions.has(name)) {
        if (fed) take('php-code-execution', 0.95)
        else if (inTag) take('php-open-tag', 0.95)
        else if ((name === 'eval' || name === 'assert') && args.first?.kind === 'str' && args.code) take('php-code-execution', 0.9)
        else if (name !== 'eval' && name !== 'assert' && args.first !== null && shellFirstWord(args.first)) take('php-code-execution', 0.9)
        else if (hidden || suppressed) take('php-obfuscated-call', 0.85)
        else if (args.variable) take('php-code-execution', i === 1 ? 0.85 : 0.75)
        else take('php-code-execution', 0.6)
      } else if (callbackFunctions.has(name) && args.callback) {
        take('php-code-execution', fed || args.variable || args.first !== null ? 0.9 : 0.8)
      } else if (name === 'preg_replace' && args.first?.kind === 'str' && /\/[a-z]*e[a-z]*\s*$/i.test(args.first.text)) {
        take('php-code-execution', 0.9)
      } else if (decoders.has(name) || fileFunctions.has(name)) {
        if (inTag) take('php-open-tag', 0.9)
        else if (hidden) take('php-obfuscated-call', 0.85)
        else if (args.superglobal && fileFunctions.has(name)) take('php-code-execution', 0.85)
        else if (suppressed) take('php-obfuscated-call', 0.75)
      } else if (k.afterComment === 'block') {
        // `name/**/(`: nobody writes a call that way but to slip past filters
        take('php-obfuscated-call', 0.8)
      }
    } else if (p.kind === 'var') {
      // variable function: `$f(...)`, `$_GET['f'](...)`
      const before = t[i - 2]
      const method = before !== undefined && before.kind === 'punct' && (before.text === '->' || before.text === '::')
      if (superglobals.has(p.text) || args.superglobal) take('php-variable-function', 0.95)
      else if (obfuscatedName.test(p.text) || (before?.kind === 'punct' && (before.text === '$' || before.text === '@'))) take('php-variable-function', 0.85)
      else if (k.afterComment) take('php-variable-function', 0.85)
      else take('php-variable-function', method || before?.text === '.' ? 0.6 : inTag ? 0.85 : 0.7)
    } else if (p.kind === 'str' || (p.kind === 'punct' && (p.text === ')' || p.text === ']' || p.text === '}'))) {
      // indirect call: the callee is an expression; what name does it spell?
      const name = calleeName(t, i - 1)
      const head = indexedVariable(t, i - 1)
      if (execFunctions.has(name)) take('php-obfuscated-call', 0.95)
      else if ((concatenated ??= concatenatesExec(t))) take('php-obfuscated-call', 0.9)
      else if (head !== null) {
        if (superglobals.has(head) || args.superglobal) take('php-variable-function', 0.95)
        else if (head === '$' || obfuscatedName.test(head) || k.afterComment) take('php-variable-function', 0.85)
        else take('php-variable-function', 0.75)
      }
    }
  }
  if (inTag) take('php-open-tag', sawSuperglobal ? 0.9 : 0.7)
  else if (sawSuperglobal) take('php-superglobal', 0.7)
  return best
}

/** For `$a['x'](`, `$__[_]{_}(`, `${'a'}(`: the variable the indexed callee starts from. */
function indexedVariable(t: readonly Token[], end: number): string | null {
  let depth = 0
  const stop = Math.max(0, end - maxCalleeTokens)
  for (let i = end; i >= stop; i--) {
    const k = t[i]!
    if (k.kind === 'punct' && (k.text === ')' || k.text === ']' || k.text === '}')) depth++
    else if (k.kind === 'punct' && (k.text === '(' || k.text === '[' || k.text === '{')) {
      depth--
      if (depth < 0) return null
      // `${...}(`: a variable variable
      if (depth === 0 && k.text === '{' && t[i - 1]?.kind === 'punct' && t[i - 1]!.text === '$') return '$'
      if (depth === 0) {
        const prev = t[i - 1]
        if (prev === undefined) return null
        if (prev.kind === 'var') return prev.text
        if (!(prev.kind === 'punct' && (prev.text === ']' || prev.text === '}'))) return null
      }
    } else if (depth === 0) return null
  }
  return null
}

const superglobalRe = /\$(?:_(?:GET|POST|REQUEST|COOKIE|SERVER|FILES|ENV|SESSION)|GLOBALS)\s*\[/

function superglobalOnly(s: string): CodeFinding | null {
  return superglobalRe.test(s) ? { rule: 'php-superglobal', confidence: 0.7 } : null
}

const serializedRe = /[OC]:\+?(\d{1,4}):"/g

/**
 * `O:8:"stdClass":1:{...}`: a serialized PHP object, which `unserialize()` turns into an instance
 * of any class the attacker names (magic methods then run). The declared length must match the
 * class name, which text never does by chance.
 */
function hasSerializedObject(s: string): CodeFinding | null {
  if (s.indexOf(':"') === -1) return null
  serializedRe.lastIndex = 0
  for (let m = serializedRe.exec(s); m !== null; m = serializedRe.exec(s)) {
    const len = Number(m[1])
    const start = m.index + m[0].length
    if (len === 0 || s.charCodeAt(start + len) !== 34) continue
    const name = s.slice(start, start + len)
    if (!/^[A-Za-z_\\][\w\\]*$/.test(name)) continue
    if (/^:\+?\d{1,6}:\{/.test(s.slice(start + len + 1, start + len + 12))) return { rule: 'php-serialized-object', confidence: 0.9 }
  }
  return null
}
