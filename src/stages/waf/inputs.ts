/**
 * Turns a request into the detection engine's plain inputs: path segments, query
 * parameters, selected headers, cookies, and parsed bodies (body.ts). Values stay raw (the
 * engine decodes them itself and records how); names are decoded once so that `user%5B%24ne%5D`
 * reads as `user[$ne]`.
 *
 * Limits bound the work an attacker can ask for: inputs counted, bytes counted. Past a limit the
 * collector stops and says which one, and the stage applies `limits.on_exceed`.
 */
import { parse as parseCookie } from 'cookie'
import type { IncomingHttpHeaders } from 'node:http'
import type { Input, InputLocation } from '../../detection/types.js'
import { urlDecode } from '../../detection/normalize.js'

export type LimitHit = 'inputs' | 'bytes' | 'depth'

export interface InputLimits {
  readonly maxInputs: number
  readonly maxBytes: number
  readonly maxDepth: number
}

/** Collects inputs under the limits; `hit` says which limit stopped it. */
export class InputCollector {
  readonly inputs: Input[] = []
  hit: LimitHit | null = null
  /** Keys of the JSON objects walked, and one repeated with another value in one object (json-duplicates.ts). */
  jsonKeys = 0
  duplicateKey: string | null = null
  /**
   * The body could not be parsed as its declared type but was still judged as text (an XML
   * DOCTYPE the parser refuses): refused as malformed unless it is blocked as an attack.
   */
  unparsed = false
  #bytes = 0
  readonly limits: InputLimits

  constructor(limits: InputLimits) {
    this.limits = limits
  }

  /** False once a limit is reached: the caller stops collecting. */
  add(location: InputLocation, name: string, value: string, formEncoded: boolean): boolean {
    if (this.hit !== null) return false
    this.#bytes += value.length + name.length
    if (this.inputs.length >= this.limits.maxInputs) this.hit = 'inputs'
    else if (this.#bytes > this.limits.maxBytes) this.hit = 'bytes'
    if (this.hit !== null) return false
    this.inputs.push({ location, name, value, formEncoded })
    return true
  }
}

export function decodeName(raw: string, formEncoded: boolean): string {
  if (raw.indexOf('%') === -1 && (!formEncoded || raw.indexOf('+') === -1)) return raw
  return urlDecode(raw, formEncoded).text
}

// What an ordinary object key is made of (`items[0][name]`, `filter[$ne]` is the NoSQL analyzer's)
const ordinaryKey = /^[\w.$-]*$/

/**
 * `user[0 ;select sleep(8)]=x`: PHP, Rails and qs read the bracket parts of a name as object keys
 * that the app then uses (as JSON keys are). Whole, the name reads as a bracket-quoted SQL
 * identifier and hides them: keys that are not ordinary are judged as values of their own.
 */
function addBracketKeys(c: InputCollector, location: InputLocation, name: string): boolean {
  let open = name.indexOf('[')
  for (let n = 0; open !== -1 && n < 8; n++) {
    const close = name.indexOf(']', open + 1)
    if (close === -1) return true
    const key = name.slice(open + 1, close)
    if (!ordinaryKey.test(key) && !c.add(location, name, key, false)) return false
    open = name.indexOf('[', close + 1)
  }
  return true
}

function onlyPadding(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) !== 61 /* = */) return false
  return true
}

/** `a=1&b=2` as sent: names decoded, values raw (query strings and url-encoded bodies). */
export function addUrlEncoded(c: InputCollector, location: InputLocation, s: string): void {
  if (s === '') return
  let start = 0
  while (start <= s.length) {
    let end = s.indexOf('&', start)
    if (end === -1) end = s.length
    if (end > start) {
      const pair = s.slice(start, end)
      const eq = pair.indexOf('=')
      const name = eq === -1 ? pair : pair.slice(0, eq)
      const value = eq === -1 ? '' : pair.slice(eq + 1)
      const decoded = decodeName(name, true)
      if (!c.add(location, decoded, value, true)) return
      if (decoded.indexOf('[') !== -1 && !addBracketKeys(c, location, decoded)) return
      // A parameter without a value (`?PHNjcmlwdD4...`, base64's '=' padding read as an empty
      // value) is data in its name: apps that read the raw query string see it whole. The name
      // above is decoded ('+' as a space breaks base64): the pair as sent is judged as a value too.
      if (name !== '' && onlyPadding(value) && !c.add(location, '', pair, true)) return
    }
    start = end + 1
  }
}

/** Path segments as sent (still percent-encoded: `..%2f` must stay visible), and the whole path. */
export function addPath(c: InputCollector, path: string): void {
  if (!c.add('path', '', path, false)) return
  let start = 1
  let n = 0
  while (start < path.length) {
    let end = path.indexOf('/', start)
    if (end === -1) end = path.length
    if (end > start && !c.add('path', String(n++), path.slice(start, end), false)) return
    start = end + 1
  }
}

// Checked elsewhere: Host by host-check, Cookie parsed below, the framing headers by the
// listener. Every other header is an input, custom ones included; the engine decides which
// analyzers look at which (detection/analyzers.ts, lowRiskHeaders).
const notInputs = new Set(['host', 'cookie', 'content-length', 'transfer-encoding'])

export function addHeaders(c: InputCollector, headers: IncomingHttpHeaders): void {
  for (const name in headers) {
    const v = headers[name]
    if (v === undefined || notInputs.has(name)) continue
    if (typeof v === 'string') {
      if (!c.add('header', name, v, false)) return
    } else {
      for (const one of v) if (!c.add('header', name, one, false)) return
    }
  }
}

/** Cookies parsed with the `cookie` package (RFC 6265 rules); values raw, undecoded. */
export function addCookies(c: InputCollector, header: string | undefined): void {
  if (header === undefined || header === '') return
  const jar = parseCookie(header, { decode: (s) => s })
  for (const name in jar) {
    const v = jar[name]
    if (v !== undefined && !c.add('cookie', name, v, false)) return
  }
}
