/**
 * Cross-site scripting by meaning. Three readings of a value:
 * - as HTML: a tag scanner (WHATWG tokenizer rules, simplified) flags script-capable tags, event
 *   handler attributes on any tag, URL attributes whose scheme runs script, srcdoc, and CSS that
 *   executes; `<b>`, `<i>` and `<a href="https://…">` in markdown pass;
 * - as the inside of a JavaScript string: a quote followed by an operator and a call
 *   (`'-alert(1)-'`, `";alert(1)//`) breaks out and runs code;
 * - as a URL: a `javascript:`/`vbscript:`/`data:text/html` value.
 * Linear: one pass per reading, bounded look-ahead.
 */
import { htmlDecode } from '../normalize.js'
import { charSet, holds, meets, type Chars } from '../chars.js'
import { analyzeJs, hasProse } from './js.js'
import { injectedHandler } from './handlers.js'

export type XssRule =
  | 'xss-script-tag'
  | 'xss-event-handler'
  | 'xss-script-url'
  | 'xss-srcdoc'
  | 'xss-css'
  | 'xss-js-breakout'
  | 'xss-sink'
  | 'xss-js-call'
  | 'xss-js-eval'
  | 'xss-js-obfuscation'

export interface XssFinding {
  readonly rule: XssRule
  readonly confidence: number
}

const scriptTags = new Set([
  'script',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'base',
  'meta',
  'link',
  'xml',
  'import',
  'portal',
  'isindex',
  'handler',
  'listener',
  'layer',
  'ilayer',
  'vmlframe',
])
const urlAttributes = new Set([
  'href',
  'src',
  'action',
  'formaction',
  'data',
  'xlink:href',
  'background',
  'poster',
  'lowsrc',
  'dynsrc',
  'code',
  'codebase',
  'from',
  'to',
  'values',
  'by',
  'content',
  'ping',
  'cite',
  'srcset',
  'manifest',
])

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 12 || c === 13
const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122)

/** Strips what browsers ignore inside a URL scheme (`java\tscript:`, leading spaces, control chars). */
function schemeOf(v: string): string {
  // no ':', no scheme: most values end here, before any string is built
  if (v.indexOf(':') === -1) return ''
  let out = ''
  for (let i = 0; i < v.length && out.length < 16; i++) {
    const c = v.charCodeAt(i)
    if (c <= 32 || c === 127) continue
    if (c === 58) return out.toLowerCase()
    out += v[i]
  }
  return ''
}

export function isScriptUrl(v: string): boolean {
  const scheme = schemeOf(v)
  if (scheme === 'javascript' || scheme === 'vbscript' || scheme === 'livescript' || scheme === 'mocha') return true
  if (scheme === 'data') {
    const rest = v
      .slice(v.indexOf(':') + 1)
      .trimStart()
      .toLowerCase()
    return (
      rest.startsWith('text/html') ||
      rest.startsWith('image/svg') ||
      rest.startsWith('application/xhtml') ||
      rest.startsWith('text/xml') ||
      rest.startsWith('application/x-shockwave')
    )
  }
  return false
}

function stripComments(v: string): string {
  let out = ''
  let from = 0
  for (let at = v.indexOf('/*'); at !== -1; at = v.indexOf('/*', from)) {
    out += v.slice(from, at)
    const end = v.indexOf('*/', at + 2)
    if (end === -1) return out
    from = end + 2
  }
  return out + v.slice(from)
}

/** CSS that runs script, read as the browser reads it: comments and `\XX` escapes undone. */
function cssRuns(css: string): boolean {
  let v = css
  if (v.indexOf('/*') !== -1) v = stripComments(v)
  if (v.indexOf('\\') !== -1)
    v = v.replace(/\\([0-9a-fA-F]{1,6})\s?/g, (_m, h: string) => String.fromCodePoint(Math.min(parseInt(h, 16), 0x10ffff))).replace(/\\(.)/g, '$1')
  return /expression\s*\(|javascript:|vbscript:|-moz-binding|behavior\s*:|@import/i.test(v)
}

// Characters some parsers, charsets or filters turn into angle brackets: fullwidth forms, and
// ¼ ¾ (0xBC, 0xBE) which a 7-bit charset reads as < and >.
const bracketLookalikes = /[\uff1c\uff1e\u00bc\u00be\u2039\u203a]/
const bracketLookalikesAll = new RegExp(bracketLookalikes.source, 'g')
const bracketOf: Readonly<Record<string, string>> = { '\uff1c': '<', '\uff1e': '>', '\u00bc': '<', '\u00be': '>', '\u2039': '<', '\u203a': '>' }

const anyScriptTag = /<\/?script[\s/>]/i
// CSS that runs script, injected into a style attribute or block without a tag of its own
const cssInjection = /-moz-binding\s*:\s*url|behavior\s*:\s*url|url\s*\(\s*['"]?\s*(?:java|vb)script\s*:|\bexpression\(/i

const utf7Brackets = /\+AD[w4]-?/g

// `<\tscript>`, `<\u202escript>`: filler after '<' that a sloppy parser or filter skips
const spacedScriptTag = /<[\s\u0000-\u001f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff%]+(?:script|iframe|svg|img|object|embed)(?![a-z])/i

function htmlTags(s: string): XssFinding | null {
  let at = s.indexOf('<')
  while (at !== -1) {
    let i = at + 1
    if (s.charCodeAt(i) === 47)
      i++ // </script> breaks out of a script block too
    else if (s.charCodeAt(i) === 63 && /^import\b/i.test(s.slice(i + 1, i + 8))) i++ // <?import implementation=…htc> (IE behaviours)
    const nameStart = i
    while (i < s.length && (isAlpha(s.charCodeAt(i)) || (i > nameStart && /[0-9:_-]/.test(s[i]!)))) i++
    if (i > nameStart) {
      const qname = s.slice(nameStart, i).toLowerCase()
      // `<x:script xmlns:x="http://www.w3.org/1999/xhtml">`: the prefix is the attacker's choice
      const name = qname.slice(qname.lastIndexOf(':') + 1)
      if (scriptTags.has(name)) return { rule: 'xss-script-tag', confidence: 0.9 }
      let typeJs = false
      // attributes, until '>' or the end of the value (an open tag still runs when reflected)
      while (i < s.length && s.charCodeAt(i) !== 62) {
        const c = s.charCodeAt(i)
        // '+' separates too: servers that decode cookies and paths as forms read it as a space
        if (isSpace(c) || c === 47 || c === 34 || c === 39 || c === 43) {
          i++
          continue
        }
        // `<scr<script>ipt>`: a tag hidden inside another's name survives a filter that strips the outer one
        if (c === 60) break
        const attrStart = i
        while (i < s.length && !isSpace(s.charCodeAt(i)) && s[i] !== '/' && s[i] !== '>' && s[i] !== '=' && s[i] !== '<' && s[i] !== '+') i++
        const attr = s.slice(attrStart, i).toLowerCase()
        while (i < s.length && isSpace(s.charCodeAt(i))) i++
        let value = ''
        if (s[i] === '=') {
          i++
          while (i < s.length && isSpace(s.charCodeAt(i))) i++
          const q = s[i]
          if (q === '"' || q === "'" || q === '`') {
            const close = s.indexOf(q, i + 1)
            value = s.slice(i + 1, close === -1 ? s.length : close)
            i = close === -1 ? s.length : close + 1
          } else {
            const vs = i
            while (i < s.length && !isSpace(s.charCodeAt(i)) && s[i] !== '>') i++
            value = s.slice(vs, i)
          }
        }
        if (attr.length > 2 && attr.startsWith('on') && /^on[a-z]+$/.test(attr)) return { rule: 'xss-event-handler', confidence: 0.9 }
        if (attr === 'srcdoc') return { rule: 'xss-srcdoc', confidence: 0.9 }
        // browsers decode character references in attribute values: href="jav&#x09;ascript:…"
        if (urlAttributes.has(attr) && isScriptUrl(htmlDecode(value))) return { rule: 'xss-script-url', confidence: 0.9 }
        if (attr === 'style' && cssRuns(value)) return { rule: 'xss-css', confidence: 0.8 }
        if (attr === 'type' && /script/i.test(value)) typeJs = true
        if (attr === 'attributename' && /^on|href/i.test(value)) return { rule: 'xss-event-handler', confidence: 0.8 }
        if (attrStart === i) i++
      }
      if (name === 'style' && s[nameStart - 1] !== '/') {
        // <style type="text/javascript"> ran as script in old browsers
        if (typeJs) return { rule: 'xss-script-tag', confidence: 0.8 }
        if (cssRuns(s.slice(i, i + 2000))) return { rule: 'xss-css', confidence: 0.8 }
      }
    }
    // continue after this tag: a '<' inside its attributes belongs to them (and rescanning would be quadratic)
    at = s.indexOf('<', Math.max(i, at + 1))
  }
  return null
}

// Functions attackers call to prove or use execution; `eval`-likes run strings.
const sinks =
  /\b(?:alert|prompt|confirm|eval|setTimeout|setInterval|Function|fetch|import|atob|fromCharCode)\s*(?:\(|`)|\bdocument\s*\.\s*(?:cookie|domain|write)|\blocation\s*(?:\.\s*(?:href|hash)\s*)?=|\.innerHTML\s*=|constructor\s*\.\s*constructor|\bwindow\s*\[|\btop\s*\[|\bself\s*\[|\bparent\s*\[/

function multiLine(s: string): boolean {
  const first = s.indexOf('\n')
  return first !== -1 && s.indexOf('\n', first + 1) !== -1 && s.length > 60
}

const quoteChar = /['"`]/

// `print(`, `window.open(`, `showModalDialog\``: a name as code spells it (lower-case words,
// camelCase, dotted), then a call or a tagged template.
const namedCall = /^\s*((?:[a-z_$][a-z0-9_$]*(?:[A-Z][a-z0-9_$]+)*\.)*[a-z_$][a-z0-9_$]*(?:[A-Z][a-z0-9_$]+)*)\s*([(`])/

/**
 * Whether `s` begins with a call of a function that is not one of the known sinks: the name must
 * read like code (random text such as a password holds `drG\`` or `Jl(` by chance) and the call
 * must close (`)` or the template's closing backtick).
 */
function calls(s: string): boolean {
  const m = namedCall.exec(s)
  if (m === null || m[1]!.length < 3) return false
  return s.indexOf(m[2] === '(' ? ')' : '`', m[0].length) !== -1
}

/** `'-alert(1)-'`, `";alert(1)//`, `\'};alert(1);//`: out of a string, then a call. */
function jsBreakout(s: string): XssFinding | null {
  // no quote, no string to break out of (a class scan: prose is long)
  if (!quoteChar.test(s)) return null
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c !== "'" && c !== '"' && c !== '`') continue
    let j = i + 1
    while (j < s.length && j - i < 4 && (s[j] === ' ' || s[j] === ')' || s[j] === '}' || s[j] === ']')) j++
    if (!'-+*/;,|&^%?:'.includes(s[j] ?? 'x') || s[j] === undefined) continue
    const ahead = s.slice(j + 1, j + 80)
    if (sinks.test(ahead) || calls(ahead.replace(/^[-+*/;,|&^%?:\s]+/, ''))) {
      // a quote then a call is every line of a multi-line code snippet
      return { rule: 'xss-js-breakout', confidence: multiLine(s) ? 0.6 : 0.8 }
    }
  }
  return null
}

// `url=javascript:alert(1)`, `#goto,javascript:…`: a script URL inside a longer value
const innerScriptUrl = /(?:^|[^a-z0-9])(?:java|vb)script[\s\u0000-\u001f]*:/i

function scriptUrlInside(s: string): XssFinding | null {
  const m = innerScriptUrl.exec(s)
  if (m === null) return null
  const rest = s.slice(m.index + m[0].length, m.index + m[0].length + 300)
  if (!/[\w$\])]\s*[(`]|=>/.test(rest)) return null
  return { rule: 'xss-script-url', confidence: hasProse(s) ? 0.6 : 0.85 }
}

// The characters one of the readings below needs (a scheme's ':', a tag's '<', UTF-7's '+', a
// handler's '=', a call's '(' or '`', a quote to break out of); anything outside ASCII may be a
// look-alike. A value with none of them can only be a bare sink (`document.cookie`).
const needed = charSet(':<+=(\'"`')

/**
 * 0: the value holds one of `needed` (or a non-ASCII character); 1: none, and no bare sink is
 * possible either; 2: none, but a bare sink may be there. Without a call, '=' or '[', the sinks
 * left are `document.cookie` and `constructor.constructor`: a '.' after either word (blanks
 * allowed). Judged in the same pass, for prose is long and mostly ends here.
 */
function onlySink(value: string, chars: Chars | null): 0 | 1 | 2 {
  if (chars !== null) {
    if (meets(chars, needed)) return 0
    if (holds(chars, 91 /* [ */)) return 2
    if (!holds(chars, 46 /* . */)) return 1
    for (let dot = value.indexOf('.'); dot !== -1; dot = value.indexOf('.', dot + 1)) if (sinkWordBefore(value, dot)) return 2
    return 1
  }
  let may = false
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c >= 128 || holds(needed, c)) return 0
    if (c === 91 /* [ */) may = true
    else if (c === 46 /* . */ && !may) may = sinkWordBefore(value, i)
  }
  return may ? 2 : 1
}

/** Whether `document` or `constructor` ends just before `dot` (ASCII blanks between). */
function sinkWordBefore(value: string, dot: number): boolean {
  let k = dot
  while (k > 0 && isBlank(value.charCodeAt(k - 1))) k--
  return value.startsWith('document', k - 8) || value.startsWith('constructor', k - 11)
}

const isBlank = (c: number) => c === 32 || (c >= 9 && c <= 13)

// A short tag glued inside a word (`o<x>nmouseover`, `alert<x>(1)`): sanitizers that strip tags
// (PHP's strip_tags, "remove HTML" filters) join the word back together after the check.
const gluedTag = /[A-Za-z]<[A-Za-z/][^<>\s]{0,12}>[A-Za-z(]/
const shortTags = /<[A-Za-z/][^<>\s]{0,12}>/g

export function analyzeXss(value: string, chars: Chars | null = null): XssFinding | null {
  const found = analyzeValue(value, chars)
  if ((found !== null && found.confidence >= 0.9) || value.indexOf('<') === -1 || !gluedTag.test(value)) return found
  const joined = analyzeValue(value.replace(shortTags, ''), null)
  return joined !== null && (found === null || joined.confidence > found.confidence) ? joined : found
}

function analyzeValue(value: string, chars: Chars | null): XssFinding | null {
  // cheap checks first: prose such as "12 Main Street, Apt. #3" ends here
  const only = onlySink(value, chars)
  if (only !== 0) return only === 2 && sinks.test(value) ? { rule: 'xss-sink', confidence: 0.5 } : null
  if (isScriptUrl(value)) return { rule: 'xss-script-url', confidence: 0.9 }
  let best: XssFinding | null = null
  const keep = (f: XssFinding | null) => {
    if (f !== null && (best === null || f.confidence > best.confidence)) best = f
  }
  if (value.indexOf('<') !== -1) {
    const h = htmlTags(value)
    if (h !== null && h.confidence >= 0.9) return h
    keep(h)
    if (spacedScriptTag.test(value)) keep({ rule: 'xss-script-tag', confidence: 0.8 })
    // a script tag inside a quoted attribute: parser differentials (mutation XSS, comments,
    // <noscript>, CDATA) let it out, and no ordinary value carries one
    else if (anyScriptTag.test(value)) keep({ rule: 'xss-script-tag', confidence: 0.9 })
  }
  // UTF-7 (`+ADw-script+AD4-`): a page served without a charset was once read as UTF-7
  if (value.indexOf('+AD') !== -1) {
    const h = htmlTags(value.replace(utf7Brackets, (m) => (m[3] === 'w' ? '<' : '>')))
    if (h !== null) keep(h)
  }
  if (bracketLookalikes.test(value)) {
    const h = htmlTags(value.replace(bracketLookalikesAll, (c) => bracketOf[c] ?? c))
    if (h !== null && h.rule === 'xss-script-tag') keep(h)
  }
  if (value.indexOf('=') !== -1) keep(injectedHandler(value))
  if ((value.indexOf('(') !== -1 && value.indexOf(':') !== -1) || value.indexOf('expression(') !== -1) {
    const css = value.indexOf('/*') === -1 ? value : stripComments(value)
    if (cssInjection.test(css)) keep({ rule: 'xss-css', confidence: hasProse(css) ? 0.6 : 0.8 })
  }
  if (value.indexOf(':') !== -1) keep(scriptUrlInside(value))
  keep(jsBreakout(value))
  keep(analyzeJs(value))
  if (best !== null) return best
  // a bare sink call: strong in a form field, ordinary in a code snippet; scored low
  if (sinks.test(value)) return { rule: 'xss-sink', confidence: 0.5 }
  return null
}
