/**
 * The auth stage: finds the caller's credentials (an access token in
 * `Authorization: Bearer` or the access cookie, or an API key in the API-key header or as a
 * bearer), verifies them, and applies the route's policy. API requests without valid
 * credentials get 401 with `WWW-Authenticate: Bearer`; HTML navigations are sent to the login
 * page. A public route with no credentials costs one policy lookup and nothing else.
 */
import type { Stage, Verdict } from '../../pipeline/types.js'
import { verdict } from '../../pipeline/types.js'
import type { RequestIdentity, Transaction } from '../../pipeline/transaction.js'
import type { Identity } from '../../identity/index.js'
import type { AuthConfig } from '../../config/types.js'
import { ApiKeys } from '../../identity/api-keys.js'
import { compilePolicies } from './policies.js'
import { accessCookie, bearerToken, readCookie } from '../../net/credentials.js'

export interface AuthStageOptions {
  readonly identity: Identity
  /** This configuration's auth section (policies and switches follow reloads; the identity outlives them). */
  readonly auth: AuthConfig
  /** Paths answered by the auth endpoints themselves (the prefix): never policed here. */
  readonly loginPath: string
}

const wwwAuthenticate = (error: string | null): readonly (readonly [string, string])[] => [
  ['www-authenticate', error === null ? 'Bearer realm="drawbridge"' : `Bearer realm="drawbridge", error="${error}"`],
]
const missing = verdict('auth', 401, 'DRAWBRIDGE_ERR_UNAUTHORIZED', 'no credentials', wwwAuthenticate(null))
const invalid = verdict('auth', 401, 'DRAWBRIDGE_ERR_UNAUTHORIZED', 'invalid credentials', wwwAuthenticate('invalid_token'))
const forbidden = verdict('auth', 403, 'DRAWBRIDGE_ERR_FORBIDDEN', 'role missing', wwwAuthenticate('insufficient_scope'))

type Credential = { readonly kind: 'jwt' | 'api-key'; readonly value: string; readonly via: RequestIdentity['via'] }

export function createAuthStage(o: AuthStageOptions): Stage {
  const identity = o.identity
  const settings = o.auth
  const policyFor = compilePolicies(settings)
  const apiKeyHeader = settings.api_keys.header
  // API-key callers have no JWT; the upstream still gets one it can check against the JWKS:
  // a one-minute token per key, minted at most every half minute (signing costs ~80 µs).
  const minted = new Map<string, { token: string; exp: number }>()
  async function internalToken(keyId: string, user: { id: string; username: string }, scopes: readonly string[]): Promise<string> {
    const now = identity.clock()
    const m = minted.get(keyId)
    if (m !== undefined && m.exp - now > 30_000) return m.token
    const { token, claims } = await identity.access.issue({ id: user.id, username: user.username, roles: scopes }, null, { ttlMs: 60_000, apiKeyId: keyId })
    if (minted.size >= 10_000) minted.clear()
    minted.set(keyId, { token, exp: claims.exp * 1000 })
    return token
  }

  function credential(tx: Transaction): Credential | null {
    const h = tx.req.headers
    const v = bearerToken(h.authorization)
    if (v !== null) {
      return ApiKeys.looksLikeKey(v) ? { kind: 'api-key', value: v, via: 'api-key' } : { kind: 'jwt', value: v, via: 'bearer' }
    }
    const key = h[apiKeyHeader]
    if (typeof key === 'string') return { kind: 'api-key', value: key.trim(), via: 'api-key' }
    const cookie = readCookie(h.cookie, accessCookie)
    if (cookie !== null) return { kind: 'jwt', value: cookie, via: 'cookie' }
    return null
  }

  async function establish(c: Credential): Promise<RequestIdentity | null> {
    if (c.kind === 'api-key') {
      const k = await identity.apiKeys.verify(c.value)
      if (k === null) return null
      const token = settings.forward_token ? await internalToken(k.key.id, k.user, k.key.scopes) : null
      return { userId: k.user.id, username: k.user.username, roles: k.key.scopes, via: 'api-key', sid: null, apiKeyId: k.key.id, token }
    }
    const claims = await identity.verifyAccess(c.value, settings.revocation_check)
    if (claims === null) return null
    return { userId: claims.sub, username: claims.username, roles: claims.roles, via: c.via, sid: claims.sid, apiKeyId: null, token: c.value }
  }

  /** A browser opening a page (not a script's fetch): it is sent to the login page instead of a 401. */
  function isNavigation(tx: Transaction): boolean {
    if (!settings.login_page || (tx.method !== 'GET' && tx.method !== 'HEAD')) return false
    const h = tx.req.headers
    const mode = h['sec-fetch-mode']
    if (mode !== undefined && mode !== 'navigate') return false
    return typeof h.accept === 'string' && h.accept.includes('text/html')
  }

  function toLogin(tx: Transaction): Verdict {
    const target = tx.query === '' ? tx.path : `${tx.path}?${tx.query}`
    return verdict('auth', 302, null, 'login required', [
      ['location', `${o.loginPath}?return_to=${encodeURIComponent(target)}`],
      ['cache-control', 'no-store'],
    ])
  }

  async function check(tx: Transaction, c: Credential | null, req: ReturnType<typeof policyFor>): Promise<Verdict | undefined> {
    const id = c === null ? null : await establish(c)
    tx.identity = id
    if (req.kind === 'public') return undefined
    if (id === null) {
      if (isNavigation(tx)) return toLogin(tx)
      return c === null ? missing : invalid
    }
    if (req.kind === 'roles' && !id.roles.some((r) => req.roles.has(r))) return forbidden
    return undefined
  }

  return {
    id: 'auth',
    requestHeaders: function auth(tx: Transaction): Verdict | undefined | Promise<Verdict | undefined> {
      const req = policyFor(tx.canonicalPath, tx.method, tx.path)
      const c = credential(tx)
      if (c === null && req.kind === 'public') return undefined
      return check(tx, c, req)
    },
  }
}
