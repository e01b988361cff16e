/**
 * The auth endpoints Drawbridge answers itself, under one prefix:
 *   POST login (JSON or the OAuth2 password form), POST refresh, POST logout, GET me,
 *   GET csrf, POST register (when enabled), GET login (the login page), GET jwks.json
 *   (also at /.well-known/jwks.json).
 * Two delivery modes, chosen per request: a browser (it sends Fetch Metadata or Origin, or asks
 * for HTML) gets `__Host-` cookies and never sees a token in a body; an API client gets the
 * tokens in the body, shaped like an OAuth2 token response so FastAPI-style clients work as is.
 */
import { randomBytes } from 'node:crypto'
import type { Transaction } from '../../pipeline/transaction.js'
import type { PipelineContext, RequestBody, ResponseHeaders, Terminal } from '../../pipeline/types.js'
import { errorBody, sendAnswer, sendError } from '../../pipeline/respond.js'
import type { DrawbridgeErrorCode } from '../../errors.js'
import type { Identity, TokenPair } from '../../identity/index.js'
import type { ClientInfo } from '../../identity/sessions.js'
import type { OriginMatcher } from '../../net/origin.js'
import { sameOriginRequest } from '../csrf/index.js'
import { ApiKeys } from '../../identity/api-keys.js'
import { accessCookie, loginCookie, bearerToken, readCookie, refreshCookie } from '../../net/credentials.js'
import { clearedCookies, csrfCookieHeader, loginCookieHeader, sessionCookies } from './cookies.js'
import { loginPage, loginPageCsp, safeReturnTo } from './login-page.js'

const challenge: readonly (readonly [string, string])[] = [['www-authenticate', 'Bearer realm="drawbridge"']]

type Fields = Record<string, unknown>

export interface AuthEndpointOptions {
  readonly identity: Identity
  readonly allowedOrigins: OriginMatcher
}

/**
 * The auth endpoints as a terminal: the pipeline has read the body (small: the route's limit)
 * and ran the route's head stages; a rejected promise (a store that cannot answer) is answered
 * by the one fault mapping (503, never a login refused as if the password were wrong).
 */
export function createAuthEndpoints(o: AuthEndpointOptions): Terminal {
  const { identity, allowedOrigins } = o
  const s = identity.settings
  const prefix = s.prefix.toLowerCase()
  const loginPath = `${s.prefix}/login`

  return async function authEndpoint(rt: PipelineContext, tx: Transaction, body: RequestBody): Promise<void> {
    const path = tx.canonicalPath
    const name = path === '/.well-known/jwks.json' ? 'jwks.json' : path.startsWith(prefix + '/') ? path.slice(prefix.length + 1) : ''
    const m = tx.method
    const get = m === 'GET' || m === 'HEAD'
    if (name === 'login' && get) return showLogin(rt, tx, null, '', readCookie(tx.req.headers.cookie, loginCookie))
    if (name === 'login' && m === 'POST') return withBody(rt, tx, body, (f, form) => login(rt, tx, f, form))
    if (name === 'refresh' && m === 'POST') return withBody(rt, tx, body, (f) => refresh(rt, tx, f), true)
    if (name === 'logout' && m === 'POST') return withBody(rt, tx, body, (f) => logout(rt, tx, f), true)
    if (name === 'me' && get) return me(rt, tx)
    if (name === 'csrf' && get) return csrf(rt, tx)
    if (name === 'register' && m === 'POST' && s.registration) return withBody(rt, tx, body, (f) => register(rt, tx, f))
    if (name === 'jwks.json' && get) return json(rt, tx, 200, identity.jwtRing.jwks(), [], 'public, max-age=300')
    sendError(rt, tx, 404, 'DRAWBRIDGE_ERR_NOT_FOUND', 'auth', 'no such auth endpoint')
  }

  function client(tx: Transaction): ClientInfo {
    return { ip: tx.clientIp, userAgent: String(tx.req.headers['user-agent'] ?? '') }
  }

  /** Browsers send Fetch Metadata (or at least Origin on a POST); API clients send neither. */
  function isBrowser(tx: Transaction): boolean {
    const h = tx.req.headers
    return (
      h['sec-fetch-site'] !== undefined ||
      h['sec-fetch-mode'] !== undefined ||
      h.origin !== undefined ||
      (typeof h.accept === 'string' && h.accept.startsWith('text/html'))
    )
  }

  async function login(rt: PipelineContext, tx: Transaction, f: Fields, form: boolean): Promise<void> {
    const browser = isBrowser(tx)
    const fromPage = form && browser
    if (browser && !sameOriginRequest(tx, allowedOrigins)) return fail(rt, tx, 403, 'DRAWBRIDGE_ERR_CSRF', 'cross-site login')
    // Login CSRF: the page's form carries a token bound to a pre-session cookie.
    const preSession = readCookie(tx.req.headers.cookie, loginCookie)
    if (fromPage && (preSession === null || typeof f['csrf_token'] !== 'string' || !(await identity.csrf.verify(f['csrf_token'], `login:${preSession}`)))) {
      return fail(rt, tx, 403, 'DRAWBRIDGE_ERR_CSRF', 'login csrf token missing or wrong')
    }
    if (f['grant_type'] !== undefined && f['grant_type'] !== 'password') return fail(rt, tx, 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'unsupported grant_type')
    const username = f['username']
    const password = f['password']
    if (typeof username !== 'string' || typeof password !== 'string' || username === '' || password === '') {
      return fail(rt, tx, 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'username and password required')
    }
    const r = await identity.login(username, password, client(tx))
    if (!r.ok) {
      authEvent(
        rt,
        tx,
        r.reason === 'locked' ? 'auth-login-locked' : 'auth-login-failed',
        identity.loggedUsername(username),
        r.reason === 'locked' ? 'blocked' : 'logged',
      )
      // Failed logins count toward an automatic ban of the client IP (when bans are on).
      if (r.reason === 'invalid' || r.justLocked) rt.bans?.offence(tx.clientIp, 'login', tx.id)
      if (r.reason === 'locked') {
        const retry = Math.max(1, Math.ceil((r.until - identity.clock()) / 1000))
        return fail(rt, tx, 429, 'DRAWBRIDGE_ERR_TOO_MANY_ATTEMPTS', 'login locked', [['retry-after', String(retry)]])
      }
      if (fromPage) return showLogin(rt, tx, 'Invalid username or password.', username, preSession, 401)
      return fail(rt, tx, 401, 'DRAWBRIDGE_ERR_INVALID_CREDENTIALS', 'invalid credentials', challenge)
    }
    if (!browser) return tokenResponse(rt, tx, r.pair, 200)
    const csrfToken = identity.csrf.issue(r.pair.sid)
    const cookies = sessionCookies(r.pair.access_token, r.pair.access_expires_at, r.pair.refresh_token, r.pair.refresh_expires_at, csrfToken, identity.clock())
    if (fromPage) return redirect(rt, tx, safeReturnTo(f['return_to']), cookies)
    return json(
      rt,
      tx,
      200,
      { user: publicUser(r.user), access_expires_at: iso(r.pair.access_expires_at), refresh_expires_at: iso(r.pair.refresh_expires_at), csrf_token: csrfToken },
      cookies,
    )
  }

  async function refresh(rt: PipelineContext, tx: Transaction, f: Fields): Promise<void> {
    const fromCookie = readCookie(tx.req.headers.cookie, refreshCookie)
    const browser = fromCookie !== null
    if (browser && !sameOriginRequest(tx, allowedOrigins)) return fail(rt, tx, 403, 'DRAWBRIDGE_ERR_CSRF', 'cross-site refresh')
    if (f['grant_type'] !== undefined && f['grant_type'] !== 'refresh_token') return fail(rt, tx, 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'unsupported grant_type')
    const token = fromCookie ?? f['refresh_token']
    if (typeof token !== 'string' || token === '') return fail(rt, tx, 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'refresh_token required')
    const r = await identity.sessions.refresh(token, client(tx))
    if (!r.ok) {
      if (r.reason === 'reused') authEvent(rt, tx, 'auth-refresh-reuse', `user=${r.userId} session=${r.sid}`, 'blocked')
      return fail(rt, tx, 401, 'DRAWBRIDGE_ERR_UNAUTHORIZED', `refresh ${r.reason}`, browser ? clearedCookies().map((c) => ['set-cookie', c] as const) : [])
    }
    if (!browser) return tokenResponse(rt, tx, r.pair, 200)
    const csrfToken = identity.csrf.issue(r.pair.sid)
    const cookies = sessionCookies(r.pair.access_token, r.pair.access_expires_at, r.pair.refresh_token, r.pair.refresh_expires_at, csrfToken, identity.clock())
    return json(
      rt,
      tx,
      200,
      { access_expires_at: iso(r.pair.access_expires_at), refresh_expires_at: iso(r.pair.refresh_expires_at), csrf_token: csrfToken },
      cookies,
    )
  }

  async function logout(rt: PipelineContext, tx: Transaction, f: Fields): Promise<void> {
    const h = tx.req.headers
    const fromCookie = readCookie(h.cookie, refreshCookie)
    const browser = fromCookie !== null || readCookie(h.cookie, accessCookie) !== null
    if (browser && !sameOriginRequest(tx, allowedOrigins)) return fail(rt, tx, 403, 'DRAWBRIDGE_ERR_CSRF', 'cross-site logout')
    const caller = await bearerOrCookie(tx)
    const everywhere = f['everywhere'] === true || f['everywhere'] === 'true' || tx.query === 'everywhere=true'
    if (everywhere) {
      if (caller === null) return fail(rt, tx, 401, 'DRAWBRIDGE_ERR_UNAUTHORIZED', 'logout everywhere needs a session', challenge)
      await identity.sessions.endAll(caller.sub, 'logout-everywhere')
    } else {
      const token = fromCookie ?? (typeof f['refresh_token'] === 'string' ? f['refresh_token'] : undefined)
      const ended = token === undefined ? null : await identity.sessions.end({ refreshToken: token })
      if (ended === null && caller?.sid != null) await identity.sessions.end({ sid: caller.sid })
      if (ended === null && caller === null) return fail(rt, tx, 401, 'DRAWBRIDGE_ERR_UNAUTHORIZED', 'no session to end', challenge)
    }
    identity.access.forget()
    send(rt, tx, 204, {}, '', browser ? clearedCookies() : [])
  }

  async function me(rt: PipelineContext, tx: Transaction): Promise<void> {
    const h = tx.req.headers
    const authz = h.authorization
    const key = bearerToken(authz) ?? h[s.api_keys.header]
    if (typeof key === 'string' && ApiKeys.looksLikeKey(key)) {
      const k = await identity.apiKeys.verify(key)
      if (k === null)
        return fail(rt, tx, 401, 'DRAWBRIDGE_ERR_UNAUTHORIZED', 'invalid api key', [['www-authenticate', 'Bearer realm="drawbridge", error="invalid_token"']])
      return json(rt, tx, 200, { ...publicUser(k.user), auth: 'api-key', scopes: k.key.scopes, api_key: k.key.prefix })
    }
    const claims = await bearerOrCookie(tx)
    const user = claims === null ? null : await identity.stores.users.byId(claims.sub)
    if (claims === null || user === null || user.disabled) return fail(rt, tx, 401, 'DRAWBRIDGE_ERR_UNAUTHORIZED', 'no valid session', challenge)
    return json(rt, tx, 200, {
      ...publicUser(user),
      auth: readCookie(h.cookie, accessCookie) !== null && authz === undefined ? 'cookie' : 'bearer',
      expires_at: iso(claims.exp * 1000),
    })
  }

  async function csrf(rt: PipelineContext, tx: Transaction): Promise<void> {
    const token = readCookie(tx.req.headers.cookie, accessCookie)
    const claims = token === null ? null : await identity.verifyAccess(token, s.revocation_check)
    if (claims === null || claims.sid === null) {
      return fail(rt, tx, 401, 'DRAWBRIDGE_ERR_UNAUTHORIZED', 'no cookie session', challenge)
    }
    const value = identity.csrf.issue(claims.sid)
    return json(rt, tx, 200, { csrf_token: value }, [csrfCookieHeader(value, s.refresh_ttl)])
  }

  async function register(rt: PipelineContext, tx: Transaction, f: Fields): Promise<void> {
    if (isBrowser(tx) && !sameOriginRequest(tx, allowedOrigins)) return fail(rt, tx, 403, 'DRAWBRIDGE_ERR_CSRF', 'cross-site registration')
    const { username, email, password } = f
    if (typeof username !== 'string' || typeof password !== 'string' || (email !== undefined && email !== null && typeof email !== 'string')) {
      return fail(rt, tx, 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'username and password required')
    }
    const r = await identity.register(username, typeof email === 'string' ? email : null, password)
    if (r.ok) return json(rt, tx, 201, publicUser(r.user))
    if (r.reason === 'taken') return fail(rt, tx, 409, 'DRAWBRIDGE_ERR_CONFLICT', 'username or email taken')
    const code: DrawbridgeErrorCode = r.reason === 'bad_username' || r.reason === 'bad_email' ? 'DRAWBRIDGE_ERR_BAD_REQUEST' : 'DRAWBRIDGE_ERR_WEAK_PASSWORD'
    tx.rejectedBy = 'auth'
    tx.rejectReason = r.reason
    // The reason is the client's to know here (which rule the password broke), not an internal.
    const body = errorBody(code, tx.id).slice(0, -1) + `,"reason":"${r.reason}"}`
    send(rt, tx, 400, { 'content-type': 'application/json' }, body)
  }

  async function bearerOrCookie(tx: Transaction) {
    const h = tx.req.headers
    const token = bearerToken(h.authorization) ?? readCookie(h.cookie, accessCookie)
    return token === null ? null : identity.verifyAccess(token, s.revocation_check)
  }

  async function showLogin(
    rt: PipelineContext,
    tx: Transaction,
    error: string | null,
    username: string,
    preSession: string | null,
    status = 200,
  ): Promise<void> {
    const cookies: string[] = []
    let binding = preSession
    if (binding === null) {
      binding = randomBytes(18).toString('base64url')
      cookies.push(loginCookieHeader(binding))
    }
    const html = loginPage({
      action: loginPath,
      csrfToken: identity.csrf.issue(`login:${binding}`),
      returnTo: safeReturnTo(new URLSearchParams(tx.query).get('return_to')),
      error,
      username,
    })
    send(rt, tx, status, { 'content-type': 'text/html; charset=utf-8' }, html, cookies, loginPageCsp)
  }

  function tokenResponse(rt: PipelineContext, tx: Transaction, pair: TokenPair, status: number): void {
    const now = identity.clock()
    json(rt, tx, status, {
      access_token: pair.access_token,
      token_type: 'bearer',
      expires_in: Math.max(0, Math.round((pair.access_expires_at - now) / 1000)),
      refresh_token: pair.refresh_token,
      refresh_expires_in: Math.max(0, Math.round((pair.refresh_expires_at - now) / 1000)),
    })
  }
}

function publicUser(u: { id: string; username: string; email: string | null; roles: readonly string[] }) {
  return { id: u.id, username: u.username, email: u.email, roles: u.roles }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

function fail(
  rt: PipelineContext,
  tx: Transaction,
  status: number,
  code: DrawbridgeErrorCode,
  reason: string,
  extra: readonly (readonly [string, string])[] = [],
): void {
  sendError(rt, tx, status, code, 'auth', reason, extra)
}

function json(rt: PipelineContext, tx: Transaction, status: number, value: unknown, cookies: string[] = [], cacheControl = 'no-store'): void {
  send(rt, tx, status, { 'content-type': 'application/json', 'cache-control': cacheControl }, JSON.stringify(value), cookies)
}

function redirect(rt: PipelineContext, tx: Transaction, location: string, cookies: string[]): void {
  send(rt, tx, 303, { location }, '', cookies)
}

/** Answers through the responder; cookies, CSP and caching are set after the response stages (they are ours, already hardened). */
function send(
  rt: PipelineContext,
  tx: Transaction,
  status: number,
  base: ResponseHeaders,
  body: string,
  cookies: string[] = [],
  csp: string | null = null,
): void {
  if (tx.res!.destroyed) return
  const after: ResponseHeaders = {}
  if (base['cache-control'] !== undefined) after['cache-control'] = base['cache-control']
  if (csp !== null) after['content-security-policy'] = csp
  if (cookies.length > 0) after['set-cookie'] = cookies
  sendAnswer(rt, tx, status, { ...base }, body, after)
}

/** Parses the small JSON or form body the endpoints take (read by the pipeline); 400/415 otherwise. */
function withBody(
  rt: PipelineContext,
  tx: Transaction,
  body: RequestBody,
  then: (fields: Fields, form: boolean) => Promise<void>,
  emptyOk = false,
): Promise<void> {
  const type = String(tx.req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase()
  const bytes = Buffer.isBuffer(body) ? body : null
  if ((bytes === null || bytes.length === 0) && emptyOk) return then({}, false)
  if (type !== 'application/json' && type !== 'application/x-www-form-urlencoded') {
    sendError(rt, tx, 415, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'auth', 'unsupported content type')
    return Promise.resolve()
  }
  const text = bytes === null ? '' : bytes.toString('utf8')
  let fields: Fields
  if (type === 'application/json') {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      sendError(rt, tx, 400, 'DRAWBRIDGE_ERR_MALFORMED_BODY', 'auth', 'malformed json')
      return Promise.resolve()
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      sendError(rt, tx, 400, 'DRAWBRIDGE_ERR_MALFORMED_BODY', 'auth', 'json body must be an object')
      return Promise.resolve()
    }
    fields = parsed as Fields
  } else {
    fields = Object.fromEntries(new URLSearchParams(text))
  }
  return then(fields, type !== 'application/json')
}

/** Security events for the auth stage (failed logins, lockouts, refresh reuse): the store and the log, never a password. */
function authEvent(rt: PipelineContext, tx: Transaction, rule: string, detail: string, action: 'blocked' | 'logged'): void {
  rt.events.record(
    {
      requestId: tx.id,
      clientIp: tx.clientIp,
      method: tx.method,
      path: tx.path,
      route: tx.route.name,
      score: 0,
      action,
      findings: [{ category: 'auth', rule, confidence: 1, location: 'body', name: 'username', matched: detail }],
    },
    rt.redact,
  )
}
