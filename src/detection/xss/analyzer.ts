/**
 * Cross-site scripting by meaning (design.md §4). Three readings of a value:
 * - as HTML: a tag scanner (WHATWG tokenizer rules, simplified) flags script-capable tags, event
 *   handler attributes on any tag, URL attributes whose scheme runs script, srcdoc, and CSS that
 *   executes; `<b>`, `<i>` and `<a href="https://…">` in markdown pass;
 * - as the inside of a JavaScript string: a quote followed by an operator and a call
 *   (`'-alert(1)-'`, `";alert(1)//`) breaks out and runs code;
 * - as a URL: a `javascript:`/`vbscript:`/`data:text/html` value.
 * Linear: one pass per reading, bounded look-ahead.
 */
import { htmlDecode } from '../normalize.js'

export type XssRule = 'xss-script-tag' | 'xss-event-handler' | 'xss-script-url' | 'xss-srcdoc' | 'xss-css' | 'xss-js-breakout' | 'xss-sink'

export interface XssFinding {
  readonly rule: XssRule
  readonly confidence: number
}

const scriptTags = new Set(['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base', 'meta', 'link', 'xml', 'import', 'portal', 'isindex', 'handler', 'listener'])
const urlAttributes = new Set(['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'background', 'poster', 'lowsrc', 'dynsrc', 'code', 'codebase', 'from', 'to', 'values', 'by', 'content', 'ping', 'cite', 'srcset', 'manifest'])

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 12 || c === 13
const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122)

/** Strips what browsers ignore inside a URL scheme (`java\tscript:`, leading spaces, control chars). */
function schemeOf(v: string): string {
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
    const rest = v.slice(v.indexOf(':') + 1).trimStart().toLowerCase()
    return rest.startsWith('text/html') || rest.startsWith('image/svg') || rest.startsWith('application/xhtml') || rest.startsWith('text/xml') || rest.startsWith('application/x-shockwave')
  }
  return false
}

function htmlTags(s: string): XssFinding | null {
  let at = s.indexOf('<')
  while (at !== -1) {
    let i = at + 1
    if (s.charCodeAt(i) === 47) i++ // </script> breaks out of a script block too
    const nameStart = i
    while (i < s.length && (isAlpha(s.charCodeAt(i)) || (i > nameStart && /[0-9:_-]/.test(s[i]!)))) i++
    if (i > nameStart) {
      const name = s.slice(nameStart, i).toLowerCase()
      if (scriptTags.has(name)) return { rule: 'xss-script-tag', confidence: 0.9 }
      // attributes, until '>' or the end of the value (an open tag still runs when reflected)
      while (i < s.length && s.charCodeAt(i) !== 62) {
        const c = s.charCodeAt(i)
        if (isSpace(c) || c === 47 || c === 34 || c === 39) {
          i++
          continue
        }
        const attrStart = i
        while (i < s.length && !isSpace(s.charCodeAt(i)) && s[i] !== '/' && s[i] !== '>' && s[i] !== '=') i++
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
        if (attr === 'style' && /expression\s*\(|javascript:|-moz-binding|behavior\s*:/i.test(value)) return { rule: 'xss-css', confidence: 0.8 }
        if (attr === 'attributename' && /^on|href/i.test(value)) return { rule: 'xss-event-handler', confidence: 0.8 }
        if (attrStart === i) i++
      }
      if (name === 'style' && /expression\s*\(|javascript:|-moz-binding|@import/i.test(s.slice(i, i + 2000))) {
        return { rule: 'xss-css', confidence: 0.8 }
      }
    }
    // continue after this tag: a '<' inside its attributes belongs to them (and rescanning would be quadratic)
    at = s.indexOf('<', Math.max(i, at + 1))
  }
  return null
}

// Functions attackers call to prove or use execution; `eval`-likes run strings.
const sinks = /\b(?:alert|prompt|confirm|eval|setTimeout|setInterval|Function|fetch|import|atob|fromCharCode)\s*(?:\(|`)|\bdocument\s*\.\s*(?:cookie|domain|write)|\blocation\s*(?:\.\s*(?:href|hash)\s*)?=|\.innerHTML\s*=|constructor\s*\.\s*constructor|\bwindow\s*\[|\btop\s*\[|\bself\s*\[|\bparent\s*\[/

/** `'-alert(1)-'`, `";alert(1)//`, `\'};alert(1);//`: out of a string, then a call. */
function jsBreakout(s: string): XssFinding | null {
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c !== "'" && c !== '"' && c !== '`') continue
    let j = i + 1
    while (j < s.length && j - i < 4 && (s[j] === ' ' || s[j] === ')' || s[j] === '}' || s[j] === ']')) j++
    if (!'-+*/;,|&^%?:'.includes(s[j] ?? 'x') || s[j] === undefined) continue
    const ahead = s.slice(j + 1, j + 80)
    if (sinks.test(ahead) || /^\s*[A-Za-z_$][\w$.]*\s*(?:\(|`)/.test(ahead.replace(/^[-+*/;,|&^%?:\s]+/, ''))) {
      return { rule: 'xss-js-breakout', confidence: 0.8 }
    }
  }
  return null
}

export function analyzeXss(value: string): XssFinding | null {
  if (isScriptUrl(value)) return { rule: 'xss-script-url', confidence: 0.9 }
  if (value.indexOf('<') !== -1) {
    const h = htmlTags(value)
    if (h !== null) return h
  }
  const j = jsBreakout(value)
  if (j !== null) return j
  // a bare sink call: strong in a form field, ordinary in a code snippet; scored low
  if (sinks.test(value)) return { rule: 'xss-sink', confidence: 0.5 }
  return null
}
