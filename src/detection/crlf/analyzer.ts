/**
 * CRLF injection and HTTP response splitting (RFC 9112 §2.2). A value that reaches
 * a response header (a redirect target, a cookie) and carries a line break can add headers of
 * its own (`\r\nSet-Cookie: x=y`, `\nLocation: http://evil`) or end the header block and write a
 * body (`\r\n\r\n<html>`). Line breaks also come disguised: U+2028/U+2029/U+0085, and code points
 * whose low byte is CR or LF (U+560D U+560A, "嘍嘊") which Latin-1 truncation in old HTTP stacks
 * turned back into "\r\n". Multi-line prose in a JSON body is normal: a bare "\n" scores high only
 * when the next line is a real header with a header-like value, so "Note:\nSee you" passes.
 */

export type CrlfRule = 'crlf-header' | 'crlf-response-splitting'

export interface CrlfFinding {
  readonly rule: CrlfRule
  readonly confidence: number
}

// Response headers worth forging (lower case); any `x-…` header also counts.
const headers = new Set([
  'set-cookie',
  'set-cookie2',
  'location',
  'refresh',
  'content-type',
  'content-length',
  'content-disposition',
  'content-encoding',
  'content-security-policy',
  'content-security-policy-report-only',
  'transfer-encoding',
  'cache-control',
  'pragma',
  'expires',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-allow-headers',
  'access-control-allow-methods',
  'access-control-expose-headers',
  'strict-transport-security',
  'www-authenticate',
  'proxy-authenticate',
  'authorization',
  'cookie',
  'host',
  'connection',
  'keep-alive',
  'upgrade',
  'link',
  'server',
  'vary',
  'etag',
  'last-modified',
  'referer',
  'referrer-policy',
  'user-agent',
  'origin',
  'forwarded',
  'via',
  'age',
  'date',
  'allow',
  'retry-after',
  'accept',
  'accept-encoding',
  'accept-language',
  'content-language',
  'content-location',
  'content-range',
  'range',
  'trailer',
  'te',
  'permissions-policy',
  'cross-origin-opener-policy',
  'cross-origin-embedder-policy',
  'cross-origin-resource-policy',
  'timing-allow-origin',
  'alt-svc',
  'clear-site-data',
])

// Headers that change what the browser does with the response: a bare "\n" before one of these,
// with a value of the right shape, is an attack even without a CR (many servers accept bare LF).
const dangerous = new Set([
  'set-cookie',
  'set-cookie2',
  'location',
  'refresh',
  'content-type',
  'content-length',
  'content-disposition',
  'transfer-encoding',
  'content-security-policy',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'link',
])

/**
 * The value with disguised line breaks made real: U+2028, U+2029, U+0085, and wide code points
 * whose low byte is CR or LF (what a Latin-1 truncating stack would send). `disguised` says
 * whether any was found: no legitimate client spells a line break that way in a header.
 */
export function foldBreaks(value: string): { text: string; disguised: boolean } {
  let out = ''
  let disguised = false
  let last = 0
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    let r = ''
    if (c === 0x2028 || c === 0x2029 || c === 0x85) r = '\n'
    else if (c > 0xff && (c & 0xff) === 10) r = '\n'
    else if (c > 0xff && (c & 0xff) === 13) r = '\r'
    if (r === '') continue
    out += value.slice(last, i) + r
    last = i + 1
    disguised = true
  }
  return disguised ? { text: out + value.slice(last), disguised } : { text: value, disguised }
}

// A header line: name, colon, value (RFC 9110 token characters in the name).
const headerLine = /^[ \t]{0,4}([A-Za-z0-9!#$%&'*+.^_`|~-]{1,64})[ \t]{0,4}:[ \t]{0,8}([^\r\n]{0,200})/
const bodyStart = /^(?:[ \t]{0,4}<|HTTP\/\d)/i
// A request line (RFC 9112 §3): after a line break it smuggles a second request into a proxy's stream.
const requestLine = /^(?:GET|POST|HEAD|PUT|DELETE|OPTIONS|CONNECT|TRACE|PATCH) +(?:\/|[a-z][a-z0-9+.-]{0,20}:\/\/|\*)[^ \r\n]{0,2048} +HTTP\/\d/i

function plausibleValue(name: string, v: string): boolean {
  const value = v.trim()
  switch (name) {
    case 'set-cookie':
    case 'set-cookie2':
    case 'cookie':
      return /^[^=\s;]{1,64}=/.test(value)
    case 'location':
    case 'content-location':
    case 'refresh':
      return /^(?:\d+\s*;\s*url=|[a-z][a-z0-9+.-]{0,20}:|\/)/i.test(value)
    case 'content-type':
      return /^[\w.+-]{1,64}\/[\w.+*-]{1,64}/.test(value)
    case 'content-length':
    case 'age':
    case 'retry-after':
      return /^\d{1,12}$/.test(value)
    default:
      return value.length > 0
  }
}

export function analyzeCrlf(value: string): CrlfFinding | null {
  if (value.indexOf('\r') === -1 && value.indexOf('\n') === -1 && !/[\u0085\u0100-\uffff]/.test(value)) {
    return requestLine.test(value) ? { rule: 'crlf-response-splitting', confidence: 0.7 } : null
  }
  const { text, disguised } = foldBreaks(value)
  let best = 0
  let rule: CrlfRule = 'crlf-header'
  for (let i = 0; i < text.length; i++) {
    const c0 = text.charCodeAt(i)
    if (c0 !== 13 && c0 !== 10) continue
    // the whole run of breaks: one line end, or a blank line that ends the header block
    let j = i
    let lf = 0
    let cr = false
    while (j < text.length && (text.charCodeAt(j) === 13 || text.charCodeAt(j) === 10)) {
      if (text.charCodeAt(j) === 10) lf++
      else cr = true
      j++
    }
    // "\r\r" ends a block for servers that accept a bare CR
    const blank = lf >= 2 || (lf === 0 && j - i >= 2)
    const strong = cr || disguised
    const first = i === 0
    i = j - 1
    if (blank) {
      if (bodyStart.test(text.slice(j, j + 16))) {
        const c = strong ? 0.95 : 0.85
        if (c > best) {
          best = c
          rule = 'crlf-response-splitting'
        }
      }
      continue
    }
    const line = text.slice(j, j + 2100)
    if (requestLine.test(line)) {
      const c = strong ? 0.95 : 0.85
      if (c > best) {
        best = c
        rule = 'crlf-response-splitting'
      }
      continue
    }
    const m = headerLine.exec(line)
    if (m === null) continue
    const name = m[1]!.toLowerCase()
    const known = headers.has(name) || name.startsWith('x-')
    // "Date: Monday" or "Host: Alice" on the next line of a note is prose; after a CR it is not
    let c = 0
    if (strong && known) c = plausibleValue(name, m[2]!) ? 0.95 : 0.8
    // a value that starts with a line break has nothing to be a paragraph of: `%0d%0aRemote-Addr: x`
    else if (strong && first) c = 0.85
    // a lone CR: browsers send form line breaks as CRLF, so only a crafted value has one
    else if (cr && lf === 0) c = 0.85
    else if (strong) c = 0.5
    else if (dangerous.has(name) || name.startsWith('x-')) c = plausibleValue(name, m[2]!) ? 0.9 : 0.6
    else if (known) c = 0.5
    if (c > best) {
      best = c
      rule = 'crlf-header'
    }
    if (best >= 0.95) break
  }
  if (best < 0.7 && requestLine.test(text)) return { rule: 'crlf-response-splitting', confidence: 0.7 }
  return best === 0 ? null : { rule, confidence: best }
}

/**
 * One input name (a query/form parameter, cookie or header name). No legitimate name contains a
 * line break: one that does (`parameter%0d%0a=x`) is aimed at a server that echoes names into
 * headers or logs.
 */
export function analyzeCrlfName(name: string): CrlfFinding | null {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c === 13 || c === 10) return { rule: 'crlf-header', confidence: 0.9 }
  }
  return null
}
