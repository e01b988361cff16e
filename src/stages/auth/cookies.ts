/**
 * The session cookies (issue 4): `__Host-` prefixed (Secure, Path=/, no Domain: a sibling
 * subdomain can neither set nor read them), HttpOnly for the tokens, SameSite=Strict for the
 * refresh token (it is only ever sent to the refresh endpoint by the site itself) and Lax for
 * the access token (a link from elsewhere still opens the app signed in). The CSRF cookie is
 * the one the page's script must read.
 */
import { parse, serialize, type SerializeOptions } from 'cookie'

export const accessCookie = '__Host-drawbridge-access'
export const refreshCookie = '__Host-drawbridge-refresh'
export const csrfCookie = '__Host-drawbridge-csrf'
/** Pre-session cookie that binds the login form's CSRF token (login CSRF). */
export const loginCookie = '__Host-drawbridge-login'

const base: SerializeOptions = { path: '/', secure: true }

export function sessionCookies(access: string, accessExpires: number, refresh: string, refreshExpires: number, csrf: string, now: number): string[] {
  return [
    serialize(accessCookie, access, { ...base, httpOnly: true, sameSite: 'lax', maxAge: seconds(accessExpires - now) }),
    serialize(refreshCookie, refresh, { ...base, httpOnly: true, sameSite: 'strict', maxAge: seconds(refreshExpires - now) }),
    serialize(csrfCookie, csrf, { ...base, sameSite: 'strict', maxAge: seconds(refreshExpires - now) }),
  ]
}

export function clearedCookies(): string[] {
  return [accessCookie, refreshCookie, csrfCookie].map((n) => serialize(n, '', { ...base, httpOnly: n !== csrfCookie, sameSite: 'strict', maxAge: 0 }))
}

export function csrfCookieHeader(token: string, maxAgeMs: number): string {
  return serialize(csrfCookie, token, { ...base, sameSite: 'strict', maxAge: seconds(maxAgeMs) })
}

export function loginCookieHeader(value: string): string {
  return serialize(loginCookie, value, { ...base, httpOnly: true, sameSite: 'strict', maxAge: 3600 })
}

function seconds(ms: number): number {
  return Math.max(0, Math.floor(ms / 1000))
}

/** One cookie's value from the request, or null; cheap when the header does not mention it. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (header === undefined || header.indexOf(name) === -1) return null
  try {
    return parse(header)[name] ?? null
  } catch {
    return null
  }
}

/** The Cookie header minus Drawbridge's own cookies: the upstream never sees session tokens. */
export function withoutOwnCookies(header: string): string {
  if (header.indexOf('__Host-drawbridge-') === -1) return header
  return header
    .split(';')
    .filter((c) => !c.trim().startsWith('__Host-drawbridge-'))
    .join(';')
    .trim()
}

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1), or null. */
export function bearerToken(authorization: string | undefined): string | null {
  if (authorization === undefined || authorization.length <= 7 || authorization.slice(0, 7).toLowerCase() !== 'bearer ') return null
  return authorization.slice(7).trim()
}
