/**
 * Event handlers injected into an attribute without a tag of their own: the value lands inside
 * `<input value="…">` and breaks out with a quote or a space (`" onfocus=alert(1) autofocus="`,
 * `x onerror=alert(1)>`). The attribute reading: `on<event>` after a separator, then `=`, then a
 * value that runs script. Linear: one pass, each value read once.
 */
import { htmlDecode } from '../normalize.js'
import { analyzeJs, hasProse } from './js.js'

export interface HandlerFinding {
  readonly rule: 'xss-event-handler'
  readonly confidence: number
}

// Event handler attributes browsers run (HTML, SVG, and vendor ones payload lists use).
const eventNames: ReadonlySet<string> = new Set(
  (
    'abort activate afterprint afterscriptexecute animationcancel animationend animationiteration animationstart auxclick ' +
    'beforeactivate beforecopy beforecut beforedeactivate beforeinput beforematch beforepaste beforeprint beforescriptexecute ' +
    'beforetoggle beforeunload begin blur bounce canplay canplaythrough change click close contentvisibilityautostatechange ' +
    'contextmenu copy cuechange cut dblclick deactivate drag dragend dragenter dragexit dragleave dragover dragstart drop ' +
    'durationchange emptied end ended error finish focus focusin focusout formdata fullscreenchange hashchange help input ' +
    'invalid keydown keypress keyup load loadeddata loadedmetadata loadend loadstart losecapture message mousedown mouseenter ' +
    'mouseleave mousemove mouseout mouseover mouseup mousewheel mozfullscreenchange offline online pagehide pagereveal pageshow ' +
    'paste pause play playing pointercancel pointerdown pointerenter pointerleave pointermove pointerout pointerover ' +
    'pointerrawupdate pointerup popstate progress propertychange ratechange readystatechange repeat reset resize scroll ' +
    'scrollend scrollsnapchange search securitypolicyviolation seeked seeking select selectionchange selectstart show slotchange ' +
    'stalled start storage submit suspend timeupdate toggle touchcancel touchend touchmove touchstart transitioncancel ' +
    'transitionend transitionrun transitionstart unhandledrejection unload volumechange waiting webkitanimationend ' +
    'webkitanimationiteration webkitanimationstart webkitplaybacktargetavailabilitychanged webkittransitionend wheel zoom'
  ).split(' '),
)

const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122)

/** A separator that can end a previous attribute or value: start, space or control, quote, `/`, `;`, `+`. */
function separates(c: number): boolean {
  // '+': a space to servers that decode cookies and paths as forms
  return Number.isNaN(c) || c <= 32 || c === 34 || c === 39 || c === 96 || c === 47 || c === 59 || c === 43 || c === 0x2028 || c === 0x2029 || c === 0xa0
}

/** Whether an attribute value runs as script: a call, an arrow, a function, or a script URL. */
function runsScript(value: string): boolean {
  const v = htmlDecode(value)
  if (/^\s*(?:java|vb)script\s*:/i.test(v)) return true
  if (/[\w$\])]\s*[(`]|=>|\bfunction\b/.test(v)) return true
  // onerror=alert without a call still runs when the event fires with an argument; x=alert;throw 1
  if (/\b(?:alert|prompt|confirm|eval)\b/.test(v)) return true
  // onmouseover="document.cookie=…", onclick="location='…'": the page's objects, touched
  return /\b(?:document|window|self|top|parent)\s*\.\s*[a-z]|\blocation\s*=/i.test(v)
}

export function injectedHandler(s: string): HandlerFinding | null {
  let best = 0
  let proseChecked = false
  let prose = false
  for (let i = 0; i + 3 < s.length; i++) {
    if ((s.charCodeAt(i) | 32) !== 111 || (s.charCodeAt(i + 1) | 32) !== 110) continue
    if (!separates(i === 0 ? NaN : s.charCodeAt(i - 1))) continue
    let j = i + 2
    while (j < s.length && isAlpha(s.charCodeAt(j))) j++
    if (j - i < 4) continue
    const name = s.slice(i + 2, j).toLowerCase()
    let k = j
    while (k < s.length && (s.charCodeAt(k) <= 32 || s.charCodeAt(k) === 47)) k++
    if (s[k] !== '=') {
      i = j - 1
      continue
    }
    k++
    while (k < s.length && s.charCodeAt(k) <= 32) k++
    let value: string
    const q = s[k]
    if (q === '"' || q === "'" || q === '`') {
      const close = s.indexOf(q, k + 1)
      value = s.slice(k + 1, close === -1 ? s.length : close)
      k = close === -1 ? s.length : close + 1
    } else {
      const vs = k
      while (k < s.length && s.charCodeAt(k) > 32 && s[k] !== '>') k++
      value = s.slice(vs, k)
    }
    const at = i
    i = Math.max(i, k - 1)
    if (!runsScript(value)) continue
    if (!proseChecked) {
      prose = hasProse(s)
      proseChecked = true
    }
    const known = eventNames.has(name)
    const strong = analyzeJs(htmlDecode(value))
    // after a quote or a control character the value left an attribute: prose around it is cover
    let b = at - 1
    while (b > 0 && b > at - 8 && (s.charCodeAt(b) === 32 || s.charCodeAt(b) === 43)) b--
    const p = b < 0 ? 32 : s.charCodeAt(b)
    const breakout = p === 34 || p === 39 || p === 96 || p === 47 || (p < 32 && p !== 9 && p !== 10 && p !== 13) || s[k] === '>'
    // onChange={e => …}: a JSX prop in a code snippet
    const jsx = q === '{' || (q === undefined ? false : value.startsWith('{'))
    const c = prose && !breakout ? 0.6 : jsx ? 0.7 : known ? 0.9 : strong !== null && strong.confidence >= 0.8 ? 0.8 : 0.7
    if (c > best) best = c
    if (best >= 0.9) break
  }
  return best === 0 ? null : { rule: 'xss-event-handler', confidence: best }
}
