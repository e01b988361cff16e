/**
 * Hop-by-hop headers (RFC 9110 §7.6.1): meaningful for one connection only, so never forwarded,
 * in either direction, together with every header the Connection header names.
 */

export const hopByHop: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'http2-settings',
])

/** Lower-case names listed in a Connection header value (or null when there are none to strip). */
export function connectionListed(value: string | string[] | undefined): Set<string> | null {
  if (value === undefined) return null
  // The values nearly every client and upstream send name nothing to strip: no split for them
  if (value === 'keep-alive' || value === 'close' || value === 'Keep-Alive' || value === 'Close') return null
  const s = Array.isArray(value) ? value.join(',') : value
  let out: Set<string> | null = null
  for (const token of s.split(',')) {
    const t = token.trim().toLowerCase()
    if (t === '' || t === 'close' || t === 'keep-alive') continue
    ;(out ??= new Set()).add(t)
  }
  return out
}

/**
 * End-to-end headers the gateway decides on or sets itself. Honouring a client's `Connection:
 * content-type` would let the WAF judge a body by one type while the app, which never sees the
 * header, reads it as another (FastAPI takes an untyped body as JSON); likewise for the framing,
 * the credentials and the forwarded-for family.
 */
const endToEnd: ReadonlySet<string> = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'content-range',
  'transfer-encoding',
  'host',
  'cookie',
  'authorization',
  'origin',
  'referer',
  'x-csrf-token',
  'sec-fetch-site',
  'sec-fetch-mode',
  'sec-fetch-dest',
  'sec-fetch-user',
  'x-request-id',
  'x-real-ip',
  'forwarded',
  'expect',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
])

/**
 * Whether a request's Connection header names a header Drawbridge relies on end to end (then the
 * request is refused: RFC 9110 §7.6.1 lets the hop drop what Connection lists, and the gateway
 * and the app would see different requests). `apiKeyHeader` lower-case, or null without auth.
 */
export function connectionListsEndToEnd(value: string | string[] | undefined, apiKeyHeader: string | null): boolean {
  const listed = connectionListed(value)
  if (listed === null) return false
  for (let t of listed) {
    if (t.indexOf('_') !== -1) t = t.replaceAll('_', '-')
    if (endToEnd.has(t) || t === apiKeyHeader || t.startsWith('x-forwarded-') || t.startsWith('x-drawbridge-')) return true
  }
  return false
}
