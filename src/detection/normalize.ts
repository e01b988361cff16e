/**
 * Normalisation: the readings of a value that an analyzer must see. Attackers hide payloads
 * behind one or two layers of encoding (`%2527`, `&#x3c;`, `\u003c`, `%c0%ae%c0%ae/`, base64),
 * so besides the value as sent we produce the value decoded layer by layer until nothing changes
 * (at most `maxRounds` rounds), and the text inside base64- or hex-looking values.
 * Bounded: every pass is linear, the number of passes is fixed, and inputs are capped by the
 * caller's byte limit. Analyzer-specific folding (SQL comments, whitespace) lives with the
 * analyzers.
 */
import { isUtf8 } from 'node:buffer'
import type { Reading, Transform } from './types.js'
import { javaBase64Token } from './code/java-token.js'
import { charSet, meets, type Chars } from './chars.js'

export const maxRounds = 4

/** Decodes %XX (and %uXXXX, IIS style); invalid escapes stay as they are. UTF-8 is decoded leniently. */
export function urlDecode(s: string, plus: boolean): { text: string; changed: boolean; overlong: boolean } {
  const pct = s.indexOf('%')
  if (pct === -1 && !(plus && s.indexOf('+') !== -1)) return { text: s, changed: false, overlong: false }
  const bytes: number[] = []
  let out = ''
  let overlong = false
  const flush = () => {
    if (bytes.length === 0) return
    const r = decodeUtf8Lenient(bytes)
    out += r.text
    overlong ||= r.overlong
    bytes.length = 0
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 37 /* % */) {
      const hi = hex(s.charCodeAt(i + 1))
      const lo = hex(s.charCodeAt(i + 2))
      if (hi !== -1 && lo !== -1) {
        bytes.push(hi * 16 + lo)
        i += 2
        continue
      }
      if ((s.charCodeAt(i + 1) | 32) === 117 /* u */) {
        const cp = hex4(s, i + 2)
        if (cp !== -1) {
          flush()
          out += String.fromCharCode(cp)
          i += 5
          continue
        }
      }
    }
    flush()
    out += plus && c === 43 ? ' ' : s[i]
  }
  flush()
  return { text: out, changed: out !== s, overlong }
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  const l = c | 32
  if (l >= 97 && l <= 102) return l - 87
  return -1
}

function hex4(s: string, at: number): number {
  let v = 0
  for (let k = 0; k < 4; k++) {
    const h = hex(s.charCodeAt(at + k))
    if (h === -1) return -1
    v = v * 16 + h
  }
  return v
}

/**
 * UTF-8 that accepts overlong forms (`C0 AE` is '.', `E0 80 AF` is '/'): servers that decoded
 * them leniently were the target of classic traversal bypasses, so we read them as the
 * character they spell and say so. Stray bytes become their Latin-1 character.
 */
export function decodeUtf8Lenient(bytes: readonly number[]): { text: string; overlong: boolean } {
  let out = ''
  let overlong = false
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    if (b < 0x80) {
      out += String.fromCharCode(b)
      continue
    }
    const len = b >= 0xf0 && b < 0xf8 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0
    if (len === 0 || b >= 0xf8 || i + len > bytes.length) {
      out += String.fromCharCode(b)
      continue
    }
    let cp = b & (len === 2 ? 0x1f : len === 3 ? 0x0f : 0x07)
    let ok = true
    for (let k = 1; k < len; k++) {
      const cb = bytes[i + k]!
      if ((cb & 0xc0) !== 0x80) {
        ok = false
        break
      }
      cp = (cp << 6) | (cb & 0x3f)
    }
    if (!ok || cp > 0x10ffff) {
      out += String.fromCharCode(b)
      continue
    }
    const shortest = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4
    if (shortest < len) overlong = true
    out += String.fromCodePoint(cp)
    i += len - 1
  }
  return { text: out, overlong }
}

// Named references that matter for hiding markup and script (HTML Living Standard §13.5); the
// numeric forms cover the rest.
const entities: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
  colon: ':',
  semi: ';',
  comma: ',',
  period: '.',
  sol: '/',
  bsol: '\\',
  lpar: '(',
  rpar: ')',
  lsqb: '[',
  rsqb: ']',
  lbrack: '[',
  rbrack: ']',
  lcub: '{',
  rcub: '}',
  lbrace: '{',
  rbrace: '}',
  excl: '!',
  quest: '?',
  num: '#',
  dollar: '$',
  percnt: '%',
  ast: '*',
  plus: '+',
  equals: '=',
  grave: '`',
  verbar: '|',
  vert: '|',
  tab: '\t',
  newline: '\n',
  nbsp: '\u00a0',
  hyphen: '-',
  dash: '-',
  lowbar: '_',
  commat: '@',
  hat: '^',
}

/** Decodes `&lt;`, `&#60;`, `&#x3c;` (the ';' is optional, as browsers allow). */
export function htmlDecode(s: string): string {
  if (s.indexOf('&') === -1) return s
  let out = ''
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) !== 38) {
      out += s[i]
      continue
    }
    let j = i + 1
    if (s.charCodeAt(j) === 35 /* # */) {
      j++
      const isHex = (s.charCodeAt(j) | 32) === 120
      if (isHex) j++
      let cp = 0
      // leading zeros are free (`&#0000060;` is '<' to a browser); the digits after them are bounded
      const zeros = j
      while (s.charCodeAt(j) === 48) j++
      const start = j
      while (j < s.length && j - start < 8) {
        const d = isHex ? hex(s.charCodeAt(j)) : s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57 ? s.charCodeAt(j) - 48 : -1
        if (d === -1) break
        cp = cp * (isHex ? 16 : 10) + d
        j++
      }
      if (j > zeros && cp <= 0x10ffff) {
        out += String.fromCodePoint(cp === 0 ? 0xfffd : cp)
        i = s.charCodeAt(j) === 59 ? j : j - 1
        continue
      }
    } else {
      while (j < s.length && j - i <= 10 && /[A-Za-z]/.test(s[j]!)) j++
      const name = s.slice(i + 1, j).toLowerCase()
      let v = entities[name]
      // without ';' the longest known prefix counts, as browsers read `&ltscript` or `&lparalert`
      let end = j
      if (v === undefined && s.charCodeAt(j) !== 59) {
        for (let k = name.length - 1; k >= 2 && v === undefined; k--) {
          v = entities[name.slice(0, k)]
          if (v !== undefined) end = i + 1 + k
        }
      }
      if (v !== undefined) {
        out += v
        i = s.charCodeAt(end) === 59 ? end : end - 1
        continue
      }
    }
    out += '&'
  }
  return out
}

/** Decodes `\uXXXX`, `\u{X…}`, `\xXX` and octal `\NNN` (JavaScript, JSON, shell $'…', Python). */
export function jsUnescape(s: string): string {
  if (s.indexOf('\\') === -1) return s
  let out = ''
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) !== 92 || i + 1 >= s.length) {
      out += s[i]
      continue
    }
    const n = s[i + 1]!
    if (n === 'u' && s[i + 2] === '{') {
      const close = s.indexOf('}', i + 3)
      if (close !== -1 && close - i <= 10) {
        const cp = parseInt(s.slice(i + 3, close), 16)
        if (Number.isFinite(cp) && cp <= 0x10ffff && /^[0-9a-fA-F]+$/.test(s.slice(i + 3, close))) {
          out += String.fromCodePoint(cp)
          i = close
          continue
        }
      }
    } else if (n === 'u') {
      const cp = hex4(s, i + 2)
      if (cp !== -1) {
        out += String.fromCharCode(cp)
        i += 5
        continue
      }
    } else if (n === 'x') {
      const hi = hex(s.charCodeAt(i + 2))
      const lo = hex(s.charCodeAt(i + 3))
      if (hi !== -1 && lo !== -1) {
        out += String.fromCharCode(hi * 16 + lo)
        i += 3
        continue
      }
    } else if (!/[A-Za-z0-9]/.test(n)) {
      // `\/`, `\.`, `\'`: an escaped punctuation character is the character (JSON, JS, shells)
      out += n
      i++
      continue
    } else if (n === 'n' || n === 'r' || n === 't') {
      // literal "\n" in a value is how payload lists and JSON carry a newline: `;id\n`
      out += n === 'n' ? '\n' : n === 'r' ? '\r' : '\t'
      i++
      continue
    } else if (n >= '0' && n <= '7') {
      let j = i + 1
      let v = 0
      while (j < s.length && j - i <= 3 && s[j]! >= '0' && s[j]! <= '7') v = v * 8 + (s.charCodeAt(j++) - 48)
      if (v <= 0xff) {
        out += String.fromCharCode(v)
        i = j - 1
        continue
      }
    }
    out += '\\'
  }
  return out
}

/**
 * The readings of one value: as sent, then decoded a layer at a time (URL, HTML entities,
 * escapes; NULs dropped) until nothing changes, then the text inside base64/hex values.
 * Identical readings are not repeated.
 */
export function readings(value: string, formEncoded: boolean, chars: Chars | null = null): Reading[] {
  // Most values hold no escape of any layer and no base64 or hex: one reading, nothing built
  const may = chars === null ? mayDecode(value, formEncoded) : meets(chars, formEncoded ? escapesOrPlus : escapes)
  if (!may && decodeEmbedded(value) === null) return [{ text: value, transforms: asSent }]
  return readingsOf(value, formEncoded)
}

function readingsOf(value: string, formEncoded: boolean): Reading[] {
  const out: Reading[] = [{ text: value, transforms: asSent }]
  // Without JS unescaping first: `\` is also a Windows path separator (`..\..\win.ini`), and
  // reading `\.` as an escaped dot would erase it. Most values hold no escape of any layer.
  const plain = mayDecode(value, formEncoded) ? decodeLayers(value, formEncoded, false) : { text: value, transforms: asSent }
  // JS unescaping needs a backslash, and decoding never removes one: without one in the
  // decoded text, the pass with JS unescaping would repeat this one step for step.
  const full = plain.text.indexOf('\\') === -1 ? plain : decodeLayers(value, formEncoded, true)
  let last = value
  for (const r of [plain, full]) {
    if (r.text === value || out.some((o) => o.text === r.text)) continue
    out.push(r)
    last = r.text
  }
  // In a query or form, base64's '+' arrives raw and the '+'-as-space reading breaks it
  let source = last
  let inner = decodeEmbedded(last)
  if (inner === null && formEncoded && last !== value && value.indexOf('+') !== -1) inner = decodeEmbedded((source = value))
  if (inner !== null) {
    const transforms = [...(source === value ? [] : full.transforms), inner.transform]
    out.push({ text: inner.text, transforms })
    // Tools encode the payload for the URL before wrapping it in base64 (`JTNDc2NyaXB0...`),
    // and JS-escape it under that (`al%5Cu0065rt(1)`, `al\145rt`): the same layers as above,
    // the JS pass only where a backslash is left.
    let decoded: Reading | null = null
    if (inner.text.indexOf('%') !== -1 || inner.text.indexOf('&') !== -1) {
      decoded = decodeLayers(inner.text, true, false)
      if (decoded.text !== inner.text) out.push({ text: decoded.text, transforms: [...transforms, ...decoded.transforms] })
    }
    if ((decoded === null ? inner.text : decoded.text).indexOf('\\') !== -1) {
      const js = decodeLayers(inner.text, true, true)
      if (!out.some((o) => o.text === js.text)) out.push({ text: js.text, transforms: [...transforms, ...js.transforms] })
    }
  }
  return out
}

// The transforms of a value read as sent (shared: readings are never changed once made)
const asSent: readonly Transform[] = Object.freeze([])

// mayDecode's characters, for a caller that knows the value's (chars.ts)
const escapes = charSet('%&\\\0')
const escapesOrPlus = charSet('%&\\\0+')

/** Whether decodeLayers could change `value`: it holds a `%`, `&`, `\\` or NUL (or `+` in a form). */
function mayDecode(value: string, formEncoded: boolean): boolean {
  return (
    value.indexOf('%') !== -1 ||
    value.indexOf('&') !== -1 ||
    value.indexOf('\\') !== -1 ||
    value.indexOf('\0') !== -1 ||
    (formEncoded && value.indexOf('+') !== -1)
  )
}

/** URL, HTML entity (and, with `js`, JS escape) layers undone until nothing changes; NULs dropped. */
function decodeLayers(value: string, formEncoded: boolean, js: boolean): Reading {
  let text = value
  const transforms: Transform[] = []
  for (let round = 0; round < maxRounds; round++) {
    let changed = false
    const u = urlDecode(text, formEncoded && round === 0)
    if (u.changed) {
      text = u.text
      transforms.push(formEncoded && round === 0 ? 'plus' : 'url')
      if (u.overlong) transforms.push('overlong-utf8')
      changed = true
    }
    const h = htmlDecode(text)
    if (h !== text) {
      text = h
      transforms.push('html-entity')
      changed = true
    }
    if (js) {
      const j = jsUnescape(text)
      if (j !== text) {
        text = j
        transforms.push('js-escape')
        changed = true
      }
    }
    if (!changed) break
  }
  if (text.indexOf('\0') !== -1) {
    text = text.replaceAll('\0', '')
    transforms.push('null-byte')
  }
  return { text, transforms }
}

const base64Re = /^[A-Za-z0-9+/_-]{8,}={0,2}$/
// The characters of both patterns (hex's `0x` included): one outside them rules both out
const encodedAlphabet = new Uint8Array(128)
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-=') encodedAlphabet[ch.charCodeAt(0)] = 1
const hexRe = /^(?:0x)?[0-9a-fA-F]{8,}$/

/** Text hidden in a base64 or hex value, when the decoded bytes are mostly printable UTF-8. */
export function decodeEmbedded(value: string): { text: string; transform: Transform } | null {
  const v = value.trim()
  if (v.length < 8 || v.length > 1 << 20) return null
  // Cheap first: most values have a character of neither alphabet (a blank, punctuation) early on
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i)
    if (c >= 128 || encodedAlphabet[c] === 0) return null
  }
  if (hexRe.test(v) && (v.length - (v.startsWith('0x') ? 2 : 0)) % 2 === 0) {
    const text = printable(Buffer.from(v.replace(/^0x/, ''), 'hex'))
    if (text !== null) return { text, transform: 'hex' }
  }
  if (textShaped(v) && base64Re.test(v) && !/^[0-9]+$/.test(v) && !/^[a-zA-Z]+$/.test(v)) {
    const text = printable(Buffer.from(v, v.includes('-') || v.includes('_') ? 'base64url' : 'base64'))
    if (text !== null) return { text, transform: 'base64' }
  }
  return null
}

// Base64 of printable ASCII: every fourth character holds the top 6 bits of a byte from 0x20 to
// 0x7f, so it is one of `I-Z` or `a-f`. Random tokens (ids, hashes, keys) fail this at once,
// without decoding; some misses are allowed for UTF-8 text with a few non-ASCII characters.
function textShaped(v: string): boolean {
  let misses = 0
  let quartets = 0
  for (let i = 0; i < v.length && v.charCodeAt(i) !== 61; i += 4) {
    quartets++
    const c = v.charCodeAt(i)
    if (!((c >= 73 && c <= 90) || (c >= 97 && c <= 102))) misses++
  }
  return misses * 8 <= quartets
}

function printable(bytes: Buffer): string | null {
  if (bytes.length < 4) return null
  // Control bytes first: random bytes (most base64-looking tokens) fail here, before any
  // UTF-8 validation, which costs more than the whole rest of a typical request's inspection
  let control = 0
  let high = false
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    if (b < 32 && b !== 9 && b !== 10 && b !== 13) control++
    else if (b >= 128) high = true
  }
  if (control * 20 > bytes.length) return null
  // ASCII only: the count above is the whole verdict
  if (!high) return bytes.toString('latin1')
  if (!isUtf8(bytes)) return null
  // UTF-8 text is shorter than its bytes and may spell U+FFFD: count again on the characters
  const text = bytes.toString('utf8')
  let bad = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 0xfffd) bad++
  }
  return bad * 20 <= text.length ? text : null
}

// Characters that cannot, alone, form any attack the analyzers look for: letters, digits and a
// few separators. A value made only of these, with no '..', skips the analyzers (cheap checks
// first). Space is excluded on purpose: `1 or true` is numeric-context SQL injection.
const javaPackage = /^(?:javax?|sun|com\.sun|com\.opensymphony|jdk|org\.(?:omg|apache|codehaus)|convert|string|zlib)\.|(?:^|\.)(?:runtime|processbuilder)\./i
const plain = new Uint8Array(128)
for (let c = 48; c <= 57; c++) plain[c] = 1
for (let c = 65; c <= 90; c++) plain[c] = 1
for (let c = 97; c <= 122; c++) plain[c] = 1
for (const ch of '_-.,@') plain[ch.charCodeAt(0)] = 1

// Dates, times and timestamps (ISO 8601 / RFC 3339) and signed decimal numbers: their ':' and
// '+' would otherwise send every JSON timestamp through the analyzers.
const timestamp = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/
const number = /^[+-]?\d{1,30}(?:\.\d{1,30})?(?:[eE][+-]?\d{1,3})?$/

export function isPlainValue(value: string): boolean {
  // Every charCodeAt below stays in bounds: one out-of-bounds read teaches V8 to call the generic
  // charCodeAt for every character of every value (measured: ~100 instructions a character).
  const n = value.length
  if (n === 0) return true
  const c0 = value.charCodeAt(0)
  if (n <= 40 && ((c0 >= 48 && c0 <= 57) || c0 === 43 || c0 === 45) && (timestamp.test(value) || number.test(value))) return true
  // '.', ',' and '@' are in neither the base64 nor the hex alphabet: with one, decodeEmbedded has nothing to decode
  let encodable = true
  let dot = false
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i)
    if (c >= 128 || plain[c] === 0) return false
    if (c === 46) {
      if (i + 1 < n && value.charCodeAt(i + 1) === 46) return false
      dot = true
      encodable = false
    } else if (c === 44 || c === 64) encodable = false
    // `0x2e0x2e0x2f` spells `../` in letters and digits
    else if ((c === 120 || c === 88) && i > 0 && value.charCodeAt(i - 1) === 48) return false
  }
  // `.htaccess`, `.env`: a dotfile's name is all plain characters
  if (c0 === 46) return false
  // `java.lang.Runtime`, `runtime.InvokerTransformer`: Java class names for a deserializer;
  // `convert.iconv.UTF8.CSISO2022KR`: a link of a php://filter chain
  if (dot && value.length >= 8 && javaPackage.test(value)) return false
  // A long run of letters and digits may be base64 or hex hiding text: not plain if it is, nor
  // if it spells a Java class name at an offset that decodes to no text (CRS 944300). A value
  // with '.', ',' or '@' is in neither alphabet.
  if (value.length < 6 || !encodable) return true
  return (value.length < 8 || decodeEmbedded(value) === null) && !javaBase64Token(value)
}
