/**
 * The session cookies: `__Host-` prefixed (Secure, Path=/, no Domain: a sibling
 * subdomain can neither set nor read them), HttpOnly for the tokens, SameSite=Strict for the
 * refresh token (it is only ever sent to the refresh endpoint by the site itself) and Lax for
 * the access token (a link from elsewhere still opens the app signed in). The CSRF cookie is
 * the one the page's script must read.
 */
import { serialize, type SerializeOptions } from 'cookie'
import { accessCookie, csrfCookie, loginCookie, refreshCookie } from '../../net/credentials.js'

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
