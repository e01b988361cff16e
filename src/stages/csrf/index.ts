/**
 * CSRF (OWASP CSRF Prevention Cheat Sheet): for requests authenticated by the session
 * cookie with an unsafe method, the browser's own signals must not say cross-site
 * (`Sec-Fetch-Site`, `Origin` against this host and the CORS allowlist), and the double-submit
 * token must be present twice (cookie and `X-CSRF-Token` header), equal, and bound by its MAC
 * to the caller's session. Bearer and API-key requests are exempt: a browser never attaches
 * those on its own.
 */
import type { Stage, Verdict } from '../../pipeline/types.js'
import { verdict } from '../../pipeline/types.js'
import type { Transaction } from '../../pipeline/transaction.js'
import type { Identity } from '../../identity/index.js'
import type { OriginMatcher } from '../../net/origin.js'
import { safeEqual } from '../../identity/secrets.js'
import { csrfCookie, readCookie } from '../../net/credentials.js'

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])
const crossSite = verdict('csrf', 403, 'DRAWBRIDGE_ERR_CSRF', 'cross-site request')
const badToken = verdict('csrf', 403, 'DRAWBRIDGE_ERR_CSRF', 'csrf token missing or wrong')

/** Whether the browser says this request comes from a page of ours (or an allowed origin). */
export function sameOriginRequest(tx: Transaction, allowed: OriginMatcher): boolean {
  const h = tx.req.headers
  const site = h['sec-fetch-site']
  const origin = h.origin
  if (typeof origin === 'string' && origin !== 'null') {
    const own = `${tx.secure ? 'https' : 'http'}://${tx.authority.toLowerCase()}`
    if (origin.toLowerCase() !== own && !allowed.matches(origin)) return false
    return true
  }
  // No Origin: old browsers and non-browser clients. A browser that sends Fetch Metadata and
  // says cross-site is refused; `same-site` (a sibling subdomain) is not trusted either.
  if (typeof site === 'string') return site === 'same-origin' || site === 'none'
  return origin !== 'null'
}

export function createCsrfStage(identity: Identity, allowedOrigins: OriginMatcher): Stage {
  async function checkToken(tx: Transaction): Promise<Verdict | undefined> {
    const header = tx.req.headers['x-csrf-token']
    const cookie = readCookie(tx.req.headers.cookie, csrfCookie)
    if (typeof header !== 'string' || cookie === null || !safeEqual(header, cookie)) return badToken
    return (await identity.csrf.verify(header, tx.identity!.sid ?? '')) ? undefined : badToken
  }
  return {
    id: 'csrf',
    requestHeaders: function csrf(tx: Transaction): Verdict | undefined | Promise<Verdict | undefined> {
      if (tx.identity === null || tx.identity.via !== 'cookie' || safeMethods.has(tx.method)) return undefined
      if (!sameOriginRequest(tx, allowedOrigins)) return crossSite
      return checkToken(tx)
    },
  }
}
