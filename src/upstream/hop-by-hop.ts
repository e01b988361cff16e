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
