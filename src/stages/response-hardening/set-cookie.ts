/**
 * Set-Cookie hardening (RFC 6265 §4.1, RFC 6265bis SameSite): adds Secure on HTTPS, HttpOnly
 * unless the cookie is meant for scripts, and SameSite=Lax unless the cookie sets Strict (None
 * is downgraded unless allowed). Only attribute names are read: the value before the first ';'
 * is never parsed or changed.
 */

export interface CookieOptions {
  readonly scriptReadable: ReadonlySet<string>
  readonly allowSameSiteNone: ReadonlySet<string>
}

export function hardenSetCookie(value: string, secure: boolean, o: CookieOptions): string {
  const firstSemi = value.indexOf(';')
  const pair = firstSemi === -1 ? value : value.slice(0, firstSemi)
  const eq = pair.indexOf('=')
  const name = (eq === -1 ? '' : pair.slice(0, eq)).trim()
  const attrs = firstSemi === -1 ? [] : value.slice(firstSemi + 1).split(';')
  let hasSecure = false
  let hasHttpOnly = false
  let sameSite = -1
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs[i]!.trim()
    const aeq = a.indexOf('=')
    const key = (aeq === -1 ? a : a.slice(0, aeq)).trim().toLowerCase()
    if (key === 'secure') hasSecure = true
    else if (key === 'httponly') hasHttpOnly = true
    else if (key === 'samesite') sameSite = i
  }
  let out = pair
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs[i]!.trim()
    if (a === '') continue
    if (i === sameSite) {
      const v = a
        .slice(a.indexOf('=') + 1)
        .trim()
        .toLowerCase()
      if (v === 'strict') out += '; SameSite=Strict'
      else if (v === 'none' && o.allowSameSiteNone.has(name)) out += '; SameSite=None'
      else out += '; SameSite=Lax'
      continue
    }
    out += '; ' + a
  }
  if (sameSite === -1) out += '; SameSite=Lax'
  // SameSite=None requires Secure (RFC 6265bis §5.4.7); __Secure-/__Host- prefixes too (§4.1.3).
  const mustBeSecure = secure || name.startsWith('__Secure-') || name.startsWith('__Host-')
  if (!hasSecure && mustBeSecure) out += '; Secure'
  if (!hasHttpOnly && !o.scriptReadable.has(name)) out += '; HttpOnly'
  return out
}
