/**
 * Where a request carries Drawbridge's own credentials: the session cookie names (one prefix,
 * `__Host-drawbridge-`, so they can be told from the app's) and the bearer token. Read by the
 * auth stages and by the forwarder, which keeps them from the upstream.
 */
import { parse } from 'cookie'

export const accessCookie = '__Host-drawbridge-access'
export const refreshCookie = '__Host-drawbridge-refresh'
export const csrfCookie = '__Host-drawbridge-csrf'
/** Pre-session cookie that binds the login form's CSRF token (login CSRF). */
export const loginCookie = '__Host-drawbridge-login'

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
