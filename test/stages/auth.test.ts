/**
 * Identity at the edge, end to end through the real gateway in front of a real
 * upstream, with a movable clock instead of sleeping.
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { SignJWT, base64url, generateKeyPair } from 'jose'
import { createHmac, randomUUID } from 'node:crypto'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { request, type TestResponse } from '../helpers/http.js'
import { startAuthGateway, type AuthGateway } from '../helpers/auth.js'

const password = 'correct horse battery staple'
const browser = { origin: 'http://localhost', 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' }

function cookiesOf(r: TestResponse): Record<string, string> {
  const out: Record<string, string> = {}
  const raw = r.headers['set-cookie']
  for (const c of Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]) {
    const [pair] = c.split(';')
    const i = pair!.indexOf('=')
    out[pair!.slice(0, i)] = decodeURIComponent(pair!.slice(i + 1))
  }
  return out
}

function cookieHeader(c: Record<string, string>): string {
  return Object.entries(c)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ')
}

async function apiLogin(gw: AuthGateway, username = 'alice', pw = password): Promise<TestResponse> {
  return request(`${gw.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: pw }) })
}

describe('auth: login, tokens and sessions', () => {
  let up: TestUpstream
  let gw: AuthGateway

  before(async () => {
    up = await startUpstream()
    gw = await startAuthGateway(
      { upstream: up.url },
      {
        policies: [
          { match: { path: '/public' }, access: 'public' },
          { match: { path: '/admin' }, roles: ['admin'] },
        ],
      },
    )
    const a = await gw.identity.register('alice', 'alice@example.com', password, ['user'])
    assert.equal(a.ok, true)
    const b = await gw.identity.register('root', null, 'an admin pass phrase 2026', ['admin'])
    assert.equal(b.ok, true)
  })
  after(async () => {
    await gw.close()
    await up.close()
  })

  test('API login (JSON) returns an OAuth2-shaped token pair; the token opens protected routes', async () => {
    const r = await apiLogin(gw)
    assert.equal(r.status, 200)
    const body = r.json()
    assert.equal(body.token_type, 'bearer')
    assert.equal(body.expires_in, 900)
    assert.equal(body.refresh_expires_in, 7 * 86400)
    assert.match(body.refresh_token, /^dbr_/)
    assert.equal(r.headers['set-cookie'], undefined)
    const before = up.seen.length
    const ok = await request(`${gw.url}/orders`, { headers: { authorization: `Bearer ${body.access_token}` } })
    assert.equal(ok.status, 200)
    const seen = up.seen[before]!
    assert.equal(seen.headers['x-drawbridge-user'], 'alice')
    assert.equal(seen.headers['x-drawbridge-roles'], 'user')
    assert.equal(seen.headers['x-drawbridge-auth'], 'bearer')
    assert.equal(seen.headers['x-drawbridge-token'], body.access_token)
    assert.equal(seen.headers.authorization, undefined)
  })

  test('OAuth2 password form login works like FastAPI clients send it', async () => {
    const r = await request(`${gw.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=password&username=alice&password=${encodeURIComponent(password)}`,
    })
    assert.equal(r.status, 200)
    assert.equal(r.json().token_type, 'bearer')
  })

  test('wrong password and unknown user get the same 401 invalid_credentials', async () => {
    const wrong = await apiLogin(gw, 'alice', 'not the password at all')
    const unknown = await apiLogin(gw, 'nobody-here', 'not the password at all')
    assert.equal(wrong.status, 401)
    assert.equal(unknown.status, 401)
    assert.equal(wrong.json().code, 'DRAWBRIDGE_ERR_INVALID_CREDENTIALS')
    assert.equal(unknown.json().code, 'DRAWBRIDGE_ERR_INVALID_CREDENTIALS')
    assert.equal(wrong.json().error, unknown.json().error)
    await gw.identity.bruteForce.succeeded('alice')
  })

  test('no credentials: 401 with WWW-Authenticate for APIs, a redirect to the login page for page navigations; public routes pass', async () => {
    const before = up.seen.length
    const api = await request(`${gw.url}/orders`)
    assert.equal(api.status, 401)
    assert.equal(api.json().code, 'DRAWBRIDGE_ERR_UNAUTHORIZED')
    assert.match(String(api.headers['www-authenticate']), /^Bearer/)
    const page = await request(`${gw.url}/orders?x=1`, { headers: { accept: 'text/html,application/xhtml+xml', 'sec-fetch-mode': 'navigate' } })
    assert.equal(page.status, 302)
    assert.equal(page.headers.location, '/auth/login?return_to=%2Forders%3Fx%3D1')
    assert.equal(up.seen.length, before)
    const pub = await request(`${gw.url}/public`)
    assert.equal(pub.status, 200)
  })

  test('roles: a user without the role gets 403, one with it passes', async () => {
    const alice = (await apiLogin(gw)).json().access_token
    const root = (await apiLogin(gw, 'root', 'an admin pass phrase 2026')).json().access_token
    assert.equal((await request(`${gw.url}/admin`, { headers: { authorization: `Bearer ${alice}` } })).status, 403)
    assert.equal((await request(`${gw.url}/admin`, { headers: { authorization: `Bearer ${root}` } })).status, 200)
  })

  test('identity headers sent by a client are stripped, always', async () => {
    const before = up.seen.length
    const r = await request(`${gw.url}/public`, { headers: { 'x-drawbridge-user': 'root', 'x-drawbridge-roles': 'admin', 'X-Drawbridge-Token': 'forged' } })
    assert.equal(r.status, 200)
    const seen = up.seen[before]!
    assert.equal(seen.headers['x-drawbridge-user'], undefined)
    assert.equal(seen.headers['x-drawbridge-roles'], undefined)
    assert.equal(seen.headers['x-drawbridge-token'], undefined)
    const token = (await apiLogin(gw)).json().access_token
    const n = up.seen.length
    await request(`${gw.url}/orders`, { headers: { authorization: `Bearer ${token}`, 'x-drawbridge-roles': 'admin' } })
    assert.equal(up.seen[n]!.headers['x-drawbridge-roles'], 'user')
  })

  test('access tokens expire: accepted before exp (+ skew), refused after', async () => {
    const token = (await apiLogin(gw)).json().access_token
    gw.clock.advance(14 * 60_000)
    assert.equal((await request(`${gw.url}/orders`, { headers: { authorization: `Bearer ${token}` } })).status, 200)
    gw.clock.advance(2 * 60_000)
    const late = await request(`${gw.url}/orders`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(late.status, 401)
    assert.match(String(late.headers['www-authenticate']), /invalid_token/)
  })

  test('refresh rotates the token; reusing a rotated token revokes the whole family', async () => {
    const first = (await apiLogin(gw)).json()
    const refresh = (t: string, ua = 'client-a') =>
      request(`${gw.url}/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': ua },
        body: JSON.stringify({ refresh_token: t }),
      })
    const second = await refresh(first.refresh_token)
    assert.equal(second.status, 200)
    const pair2 = second.json()
    assert.notEqual(pair2.refresh_token, first.refresh_token)
    gw.clock.advance(60_000)
    const third = await refresh(pair2.refresh_token)
    assert.equal(third.status, 200)
    const pair3 = third.json()
    // The first token again, long after its rotation: reuse.
    const reuse = await refresh(first.refresh_token)
    assert.equal(reuse.status, 401)
    // The whole family is gone, including the newest token.
    assert.equal((await refresh(pair3.refresh_token)).status, 401)
    await gw.gateway.events.flush()
    const events = await gw.gateway.events.store.list({ limit: 10, rule: 'auth-refresh-reuse' })
    assert.equal(events.length >= 1, true)
    assert.equal(events[0]!.snippet.includes(pair3.refresh_token), false)
  })

  test('a concurrent refresh from the same client within the grace window gets the same pair', async () => {
    const first = (await apiLogin(gw)).json()
    const body = JSON.stringify({ refresh_token: first.refresh_token })
    const headers = { 'content-type': 'application/json', 'user-agent': 'tab' }
    const [a, b] = await Promise.all([
      request(`${gw.url}/auth/refresh`, { method: 'POST', headers, body }),
      request(`${gw.url}/auth/refresh`, { method: 'POST', headers, body }),
    ])
    assert.equal(a.status, 200, a.text)
    assert.equal(b.status, 200, b.text)
    assert.equal(a.json().refresh_token, b.json().refresh_token)
    assert.equal(a.json().access_token, b.json().access_token)
    // The pair still works: the family was not revoked.
    const next = await request(`${gw.url}/auth/refresh`, { method: 'POST', headers, body: JSON.stringify({ refresh_token: a.json().refresh_token }) })
    assert.equal(next.status, 200)
    // Another client with the old token, or the same one after the grace window: reuse.
    const other = await request(`${gw.url}/auth/refresh`, { method: 'POST', headers: { ...headers, 'user-agent': 'thief' }, body })
    assert.equal(other.status, 401)
  })

  test('logout revokes the family: the refresh token stops working (and with revocation_check, the access token at once)', async () => {
    const pair = (await apiLogin(gw)).json()
    const out = await request(`${gw.url}/auth/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: pair.refresh_token }),
    })
    assert.equal(out.status, 204)
    const again = await request(`${gw.url}/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: pair.refresh_token }),
    })
    assert.equal(again.status, 401)
  })

  test('disabling a user blocks logins and refreshes at once', async () => {
    const r = await gw.identity.register('bob', null, 'a long pass phrase for b', [])
    assert.equal(r.ok, true)
    const pair = (await apiLogin(gw, 'bob', 'a long pass phrase for b')).json()
    await gw.identity.setDisabled(r.ok ? r.user.id : '', true)
    assert.equal((await apiLogin(gw, 'bob', 'a long pass phrase for b')).status, 401)
    const refresh = await request(`${gw.url}/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: pair.refresh_token }),
    })
    assert.equal(refresh.status, 401)
  })

  test('GET /auth/me and the JWKS', async () => {
    const token = (await apiLogin(gw)).json().access_token
    const me = await request(`${gw.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(me.status, 200)
    assert.equal(me.json().username, 'alice')
    assert.equal(me.json().email, 'alice@example.com')
    assert.equal((await request(`${gw.url}/auth/me`)).status, 401)
    const jwks = await request(`${gw.url}/.well-known/jwks.json`)
    assert.equal(jwks.status, 200)
    const keys = jwks.json().keys
    assert.equal(keys.length, 1)
    assert.equal(keys[0].kty, 'OKP')
    assert.equal(keys[0].d, undefined)
  })
})

describe('auth: forged and tampered tokens are rejected', () => {
  let up: TestUpstream
  let gw: AuthGateway
  let good: string

  before(async () => {
    up = await startUpstream()
    gw = await startAuthGateway({ upstream: up.url })
    await gw.identity.register('alice', null, password, ['user'])
    good = (await apiLogin(gw)).json().access_token
  })
  after(async () => {
    await gw.close()
    await up.close()
  })

  const get = (token: string) => request(`${gw.url}/orders`, { headers: { authorization: `Bearer ${token}` } })
  const parts = () => good.split('.') as [string, string, string]
  const payload = () => JSON.parse(Buffer.from(parts()[1], 'base64url').toString())

  test('the genuine token passes', async () => {
    assert.equal((await get(good)).status, 200)
  })

  test('alg none', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: JSON.parse(Buffer.from(parts()[0], 'base64url').toString()).kid }))
    assert.equal((await get(`${header}.${parts()[1]}.`)).status, 401)
  })

  test('HS256 signed with the public key as the secret', async () => {
    const jwk = (await request(`${gw.url}/.well-known/jwks.json`)).json().keys[0]
    const header = base64url.encode(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid }))
    const signingInput = `${header}.${parts()[1]}`
    const sig = createHmac('sha256', JSON.stringify(jwk)).update(signingInput).digest('base64url')
    const sig2 = createHmac('sha256', Buffer.from(jwk.x, 'base64url')).update(signingInput).digest('base64url')
    assert.equal((await get(`${signingInput}.${sig}`)).status, 401)
    assert.equal((await get(`${signingInput}.${sig2}`)).status, 401)
  })

  test('a payload changed after signing (roles raised)', async () => {
    const p = { ...payload(), roles: ['admin'] }
    assert.equal((await get(`${parts()[0]}.${base64url.encode(JSON.stringify(p))}.${parts()[2]}`)).status, 401)
  })

  test('a token signed by a key not in the ring, and a wrong kid', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const kid = JSON.parse(Buffer.from(parts()[0], 'base64url').toString()).kid
    const forged = await new SignJWT(payload()).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(privateKey)
    assert.equal((await get(forged)).status, 401)
    const unknownKid = await new SignJWT(payload()).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'jwt-unknown' }).sign(privateKey)
    assert.equal((await get(unknownKid)).status, 401)
  })

  test('expired, wrong audience and wrong issuer tokens', async () => {
    const key = gw.identity.jwtRing.current()
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT({ ...payload(), ...claims }).setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid }).sign(key.signing)
    const now = Math.floor(gw.clock.now / 1000)
    assert.equal((await get(await sign({}))).status, 200)
    assert.equal((await get(await sign({ exp: now - 3600, iat: now - 4000 }))).status, 401)
    assert.equal((await get(await sign({ aud: 'another-service' }))).status, 401)
    assert.equal((await get(await sign({ iss: 'https://evil.example' }))).status, 401)
  })

  test('garbage in the Authorization header is a 401, never a 500', async () => {
    for (const t of ['x', 'a.b.c', '...', 'e30.e30.e30', '%%%.%%%.%%%', 'A'.repeat(5000)]) {
      assert.equal((await get(t)).status, 401, t.slice(0, 20))
    }
  })
})

describe('auth: browser sessions, cookies and CSRF', () => {
  let up: TestUpstream
  let gw: AuthGateway

  before(async () => {
    up = await startUpstream()
    gw = await startAuthGateway({ upstream: up.url, cors: { allow_origins: ['https://app.example.com'], allow_credentials: true } })
    await gw.identity.register('alice', null, password, ['user'])
  })
  after(async () => {
    await gw.close()
    await up.close()
  })

  async function browserLogin(): Promise<{ cookies: Record<string, string>; csrf: string; res: TestResponse }> {
    const res = await request(`${gw.url}/auth/login`, {
      method: 'POST',
      headers: { ...browser, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password }),
    })
    assert.equal(res.status, 200, res.text)
    const cookies = cookiesOf(res)
    return { cookies, csrf: res.json().csrf_token, res }
  }

  test('a browser login gets __Host- cookies (HttpOnly tokens, Strict refresh, Lax access) and no token in the body', async () => {
    const { res, cookies, csrf } = await browserLogin()
    const body = res.json()
    assert.equal(body.access_token, undefined)
    assert.equal(body.refresh_token, undefined)
    assert.equal(body.user.username, 'alice')
    const raw = res.headers['set-cookie'] as string[]
    const find = (name: string) => raw.find((c) => c.startsWith(name + '='))!
    assert.match(find('__Host-drawbridge-access'), /HttpOnly/)
    assert.match(find('__Host-drawbridge-access'), /SameSite=Lax/)
    assert.match(find('__Host-drawbridge-refresh'), /HttpOnly/)
    assert.match(find('__Host-drawbridge-refresh'), /SameSite=Strict/)
    for (const c of raw) {
      assert.match(c, /Secure/)
      assert.match(c, /Path=\//)
      assert.doesNotMatch(c, /Domain=/i)
    }
    assert.doesNotMatch(find('__Host-drawbridge-csrf'), /HttpOnly/)
    assert.equal(cookies['__Host-drawbridge-csrf'], csrf)
  })

  test('the cookie session opens protected routes; the upstream never sees Drawbridge cookies', async () => {
    const { cookies } = await browserLogin()
    const before = up.seen.length
    const r = await request(`${gw.url}/orders`, { headers: { cookie: `${cookieHeader(cookies)}; theme=dark` } })
    assert.equal(r.status, 200)
    const seen = up.seen[before]!
    assert.equal(seen.headers['x-drawbridge-user'], 'alice')
    assert.equal(seen.headers['x-drawbridge-auth'], 'cookie')
    assert.equal(seen.headers.cookie, 'theme=dark')
  })

  test('CSRF: an unsafe cookie request needs the matching token: missing and wrong are 403, right passes', async () => {
    const { cookies, csrf } = await browserLogin()
    const post = (headers: Record<string, string>) =>
      request(`${gw.url}/orders`, {
        method: 'POST',
        headers: { cookie: cookieHeader(cookies), 'content-type': 'application/json', ...headers },
        body: '{"item":1}',
      })
    const before = up.seen.length
    const missing = await post({ ...browser })
    assert.equal(missing.status, 403)
    assert.equal(missing.json().code, 'DRAWBRIDGE_ERR_CSRF')
    const wrong = await post({ ...browser, 'x-csrf-token': csrf.slice(0, -2) + 'xx' })
    assert.equal(wrong.status, 403)
    assert.equal(up.seen.length, before)
    const right = await post({ ...browser, 'x-csrf-token': csrf })
    assert.equal(right.status, 200)
  })

  test('CSRF: a token from another session, even in both places, is refused', async () => {
    const a = await browserLogin()
    const b = await browserLogin()
    const cookies = { ...a.cookies, '__Host-drawbridge-csrf': b.csrf }
    const r = await request(`${gw.url}/orders`, {
      method: 'POST',
      headers: { ...browser, cookie: cookieHeader(cookies), 'x-csrf-token': b.csrf, 'content-type': 'application/json' },
      body: '{}',
    })
    assert.equal(r.status, 403)
  })

  test('Origin mismatch and cross-site Fetch Metadata are refused even with the right token; allowed origins pass', async () => {
    const { cookies, csrf } = await browserLogin()
    const post = (headers: Record<string, string>) =>
      request(`${gw.url}/orders`, {
        method: 'POST',
        headers: { cookie: cookieHeader(cookies), 'x-csrf-token': csrf, 'content-type': 'application/json', ...headers },
        body: '{}',
      })
    assert.equal((await post({ origin: 'https://evil.example' })).status, 403)
    assert.equal((await post({ 'sec-fetch-site': 'cross-site' })).status, 403)
    assert.equal((await post({ 'sec-fetch-site': 'same-site' })).status, 403)
    assert.equal((await post({ origin: 'https://app.example.com', 'sec-fetch-site': 'cross-site' })).status, 200)
  })

  test('bearer requests are exempt from CSRF checks', async () => {
    const token = (await apiLogin(gw)).json().access_token
    const r = await request(`${gw.url}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    })
    assert.equal(r.status, 200)
  })

  test('GET /auth/csrf gives a fresh token for the cookie session', async () => {
    const { cookies } = await browserLogin()
    const r = await request(`${gw.url}/auth/csrf`, { headers: { cookie: cookieHeader(cookies) } })
    assert.equal(r.status, 200)
    const token = r.json().csrf_token
    assert.equal(cookiesOf(r)['__Host-drawbridge-csrf'], token)
    const post = await request(`${gw.url}/orders`, {
      method: 'POST',
      headers: { ...browser, cookie: cookieHeader({ ...cookies, '__Host-drawbridge-csrf': token }), 'x-csrf-token': token, 'content-type': 'application/json' },
      body: '{}',
    })
    assert.equal(post.status, 200)
    assert.equal((await request(`${gw.url}/auth/csrf`)).status, 401)
  })

  test('cookie refresh rotates the cookies; cookie logout clears them and ends the session', async () => {
    const { cookies } = await browserLogin()
    const r = await request(`${gw.url}/auth/refresh`, { method: 'POST', headers: { ...browser, cookie: cookieHeader(cookies) } })
    assert.equal(r.status, 200)
    const next = cookiesOf(r)
    assert.notEqual(next['__Host-drawbridge-refresh'], cookies['__Host-drawbridge-refresh'])
    assert.equal(r.json().refresh_token, undefined)
    const cross = await request(`${gw.url}/auth/refresh`, { method: 'POST', headers: { origin: 'https://evil.example', cookie: cookieHeader(next) } })
    assert.equal(cross.status, 403)
    const out = await request(`${gw.url}/auth/logout`, { method: 'POST', headers: { ...browser, cookie: cookieHeader(next) } })
    assert.equal(out.status, 204)
    const cleared = cookiesOf(out)
    assert.equal(cleared['__Host-drawbridge-access'], '')
    const after = await request(`${gw.url}/auth/refresh`, { method: 'POST', headers: { ...browser, cookie: cookieHeader(next) } })
    assert.equal(after.status, 401)
  })

  test('the login page: strict CSP, no script; its form needs the login CSRF token; success goes back to a local path only', async () => {
    const page = await request(`${gw.url}/auth/login?return_to=%2Forders%3Fpage%3D2`, { headers: { accept: 'text/html' } })
    assert.equal(page.status, 200)
    const csp = String(page.headers['content-security-policy'])
    assert.match(csp, /default-src 'none'/)
    assert.doesNotMatch(csp, /script-src/)
    assert.doesNotMatch(page.text, /<script/i)
    const pre = cookiesOf(page)['__Host-drawbridge-login']!
    const token = /name="csrf_token" value="([^"]+)"/.exec(page.text)![1]!
    const form = (fields: Record<string, string>, cookie = `__Host-drawbridge-login=${pre}`, origin = 'http://localhost') =>
      request(`${gw.url}/auth/login`, {
        method: 'POST',
        headers: { origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie },
        body: new URLSearchParams(fields).toString(),
      })
    assert.equal((await form({ username: 'alice', password, return_to: '/orders' })).status, 403)
    assert.equal((await form({ username: 'alice', password, csrf_token: token }, '__Host-drawbridge-login=other')).status, 403)
    assert.equal((await form({ username: 'alice', password, csrf_token: token }, undefined, 'https://evil.example')).status, 403)
    const bad = await form({ username: 'alice', password: 'wrong password here', csrf_token: token })
    assert.equal(bad.status, 401)
    assert.match(bad.text, /Invalid username or password/)
    const ok = await form({ username: 'alice', password, csrf_token: token, return_to: '/orders?page=2' })
    assert.equal(ok.status, 303)
    assert.equal(ok.headers.location, '/orders?page=2')
    assert.ok(cookiesOf(ok)['__Host-drawbridge-access'])
    const evil = await form({ username: 'alice', password, csrf_token: token, return_to: '//evil.example/x' })
    assert.equal(evil.headers.location, '/')
  })
})

describe('auth: key rotation, API keys, brute force, registration', () => {
  let up: TestUpstream
  let gw: AuthGateway

  before(async () => {
    up = await startUpstream()
    gw = await startAuthGateway(
      { upstream: up.url, mode: 'development' },
      { default_policy: 'authenticated', policies: [{ match: { path: '/reports' }, roles: ['reports:read'] }], registration: 'on' },
    )
    await gw.identity.register('alice', null, password, ['user'])
  })
  after(async () => {
    await gw.close()
    await up.close()
  })

  const get = (path: string, headers: Record<string, string>) => request(`${gw.url}${path}`, { headers })

  test('signing-key rotation: new tokens use the new key, old tokens stay valid until they expire, then the old key leaves the JWKS', async () => {
    const old = (await apiLogin(gw)).json().access_token
    const oldKid = gw.identity.jwtRing.current().kid
    const newKid = await gw.identity.jwtRing.rotate()
    assert.notEqual(newKid, oldKid)
    const fresh = (await apiLogin(gw)).json().access_token
    assert.equal(JSON.parse(Buffer.from(fresh.split('.')[0], 'base64url').toString()).kid, newKid)
    const kids = () => request(`${gw.url}/.well-known/jwks.json`).then((r) => r.json().keys.map((k: { kid: string }) => k.kid))
    assert.deepEqual(await kids(), [oldKid, newKid])
    assert.equal((await get('/orders', { authorization: `Bearer ${old}` })).status, 200)
    gw.clock.advance(15 * 60_000 + 11_000)
    await gw.identity.jwtRing.reload()
    assert.deepEqual(await kids(), [newKid])
    assert.equal((await get('/orders', { authorization: `Bearer ${old}` })).status, 401)
  })

  test('API keys: accepted as X-API-Key or bearer, scopes act as roles, revocation is immediate', async () => {
    const alice = (await gw.identity.stores.users.byUsername('alice'))!
    const { secret, key } = await gw.identity.apiKeys.create(alice.id, { name: 'ci', scopes: ['reports:read'], expiresAt: null })
    assert.match(secret, /^dbk_[0-9a-f]{8}_/)
    const stored = await gw.identity.stores.apiKeys.byId(key.id)
    assert.equal(JSON.stringify(stored).includes(secret.slice(13)), false)
    const before = up.seen.length
    assert.equal((await get('/reports', { 'x-api-key': secret })).status, 200)
    assert.equal(up.seen[before]!.headers['x-api-key'], undefined)
    assert.equal(up.seen[before]!.headers['x-drawbridge-auth'], 'api-key')
    // The upstream still gets a JWT it can verify: short-lived, the key's scopes as roles.
    const internal = String(up.seen[before]!.headers['x-drawbridge-token'])
    const claims = JSON.parse(Buffer.from(internal.split('.')[1]!, 'base64url').toString())
    assert.deepEqual(claims.roles, ['reports:read'])
    assert.equal(claims.exp - claims.iat, 60)
    assert.equal(typeof (await gw.identity.access.verify(internal)), 'object')
    assert.equal((await get('/reports', { authorization: `Bearer ${secret}` })).status, 200)
    const token = (await apiLogin(gw)).json().access_token
    assert.equal((await get('/reports', { authorization: `Bearer ${token}` })).status, 403)
    assert.equal((await get('/reports', { 'x-api-key': secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A') })).status, 401)
    await gw.identity.apiKeys.revoke(key.id)
    assert.equal((await get('/reports', { 'x-api-key': secret })).status, 401)
  })

  test('API key rotation keeps the old key valid for the grace period only', async () => {
    const alice = (await gw.identity.stores.users.byUsername('alice'))!
    const first = await gw.identity.apiKeys.create(alice.id, { name: 'deploy', scopes: ['reports:read'], expiresAt: null })
    const second = await gw.identity.apiKeys.rotate(first.key.id, 7 * 86_400_000, null)
    assert.ok(second)
    assert.equal((await get('/reports', { 'x-api-key': first.secret })).status, 200)
    assert.equal((await get('/reports', { 'x-api-key': second.secret })).status, 200)
    gw.clock.advance(7 * 86_400_000 + 1000)
    assert.equal((await get('/reports', { 'x-api-key': first.secret })).status, 401)
    assert.equal((await get('/reports', { 'x-api-key': second.secret })).status, 200)
    const listed = await gw.identity.stores.apiKeys.list(alice.id)
    assert.ok(listed.find((k) => k.id === second.key.id)!.last_used_at !== null)
  })

  test('brute force: progressive delay, then a lock that looks the same for unknown accounts; recorded as security events', async () => {
    const attempt = (u: string, pw = 'wrong password guess') => apiLogin(gw, u, pw)
    assert.equal((await attempt('alice')).status, 401)
    assert.equal((await attempt('alice')).status, 401)
    assert.equal((await attempt('alice')).status, 401)
    // Third failure: the next attempt must wait a second, even with the right password.
    const waited = await attempt('alice', password)
    assert.equal(waited.status, 429)
    assert.equal(waited.headers['retry-after'], '1')
    gw.clock.advance(1100)
    assert.equal((await attempt('alice')).status, 401)
    gw.clock.advance(2100)
    const locked = await attempt('alice')
    assert.equal(locked.status, 429)
    assert.equal(locked.json().code, 'DRAWBRIDGE_ERR_TOO_MANY_ATTEMPTS')
    assert.equal((await attempt('alice', password)).status, 429)
    for (let i = 0; i < 3; i++) {
      await attempt('ghost')
      gw.clock.advance(60_000)
    }
    await attempt('ghost')
    gw.clock.advance(60_000)
    const ghost = await attempt('ghost')
    assert.equal(ghost.status, 429)
    assert.equal(ghost.json().code, locked.json().code)
    gw.clock.advance(15 * 60_000 + 1000)
    assert.equal((await attempt('alice', password)).status, 200)
    await gw.gateway.events.flush()
    const events = await gw.gateway.events.store.list({ limit: 50, category: 'auth' })
    assert.ok(events.some((e) => e.rule === 'auth-login-locked'))
    assert.ok(events.some((e) => e.rule === 'auth-login-failed'))
    assert.equal(
      events.some((e) => e.snippet.includes('wrong password')),
      false,
    )
  })

  test('brute force: concurrent guesses at one account are checked one at a time, so they cannot all slip in before the first failure counts', async () => {
    await gw.identity.register('sprayed', null, password, ['user'])
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => apiLogin(gw, 'sprayed', `wrong guess number ${i}`).then((r) => r.status)))
    // Three failures are checked; from then on the account waits (429), as for sequential guesses.
    assert.equal(statuses.filter((s) => s === 401).length, 3, statuses.join(' '))
    assert.equal(statuses.filter((s) => s === 429).length, 9, statuses.join(' '))
  })

  test('registration applies the password policy; a good registration can log in', async () => {
    const reg = (body: Record<string, unknown>) =>
      request(`${gw.url}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const cases: [Record<string, unknown>, string][] = [
      [{ username: 'carol', password: 'short' }, 'too_short'],
      [{ username: 'carol', password: 'x'.repeat(129) + 'yz' }, 'too_long'],
      [{ username: 'carol', password: 'carol-is-my-password' }, 'contains_username'],
      [{ username: 'carol', email: 'c.smith@example.com', password: 'c.smith-rules-forever' }, 'contains_email'],
      [{ username: 'carol', password: 'Password123456!' }, 'too_common'],
      [{ username: 'carol', password: 'qwertyuiop1234' }, 'too_common'],
      [{ username: 'carol', email: 'not-an-email', password: 'a fine long passphrase' }, 'bad_email'],
      [{ username: 'car ol<', password: 'a fine long passphrase' }, 'bad_username'],
    ]
    for (const [body, reason] of cases) {
      const r = await reg(body)
      assert.equal(r.status, 400, reason)
      assert.equal(r.json().reason, reason)
    }
    const ok = await reg({ username: 'carol', email: 'carol@example.com', password: 'a fine long passphrase' })
    assert.equal(ok.status, 201)
    assert.equal(ok.json().password_hash, undefined)
    assert.equal((await reg({ username: 'CAROL', password: 'another fine passphrase' })).status, 409)
    assert.equal((await apiLogin(gw, 'Carol', 'a fine long passphrase')).status, 200)
  })

  test('logout everywhere ends every session of the user', async () => {
    await gw.identity.register('dave', null, 'daves-secret-passphrase-x'.replace('daves', 'the'), [])
    const login = () => apiLogin(gw, 'dave', 'the-secret-passphrase-x')
    const a = (await login()).json()
    const b = (await login()).json()
    const out = await request(`${gw.url}/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.access_token}`, 'content-type': 'application/json' },
      body: '{"everywhere":true}',
    })
    assert.equal(out.status, 204)
    for (const t of [a.refresh_token, b.refresh_token]) {
      const r = await request(`${gw.url}/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: t }),
      })
      assert.equal(r.status, 401)
    }
  })
})

describe('auth: revocation_check ends access tokens at once', () => {
  test('after logout and after disabling, the access token is refused immediately', async () => {
    const up = await startUpstream()
    const gw = await startAuthGateway({ upstream: up.url }, { revocation_check: true })
    try {
      const r = await gw.identity.register('erin', null, password, [])
      assert.ok(r.ok)
      const a = (await apiLogin(gw, 'erin')).json()
      const session = { cookie: `__Host-drawbridge-access=${a.access_token}` }
      assert.equal((await request(`${gw.url}/x`, { headers: { authorization: `Bearer ${a.access_token}` } })).status, 200)
      assert.equal((await request(`${gw.url}/auth/csrf`, { headers: session })).status, 200)
      await request(`${gw.url}/auth/logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: a.refresh_token }),
      })
      assert.equal((await request(`${gw.url}/x`, { headers: { authorization: `Bearer ${a.access_token}` } })).status, 401)
      // nor does the ended session get a CSRF token
      assert.equal((await request(`${gw.url}/auth/csrf`, { headers: session })).status, 401)
      const b = (await apiLogin(gw, 'erin')).json()
      await gw.identity.setDisabled(r.user.id, true)
      assert.equal((await request(`${gw.url}/x`, { headers: { authorization: `Bearer ${b.access_token}` } })).status, 401)
    } finally {
      await gw.close()
      await up.close()
    }
  })
})

describe('auth: signing keys supplied by file', () => {
  test('the last key of the JWK Set signs, all verify; a key appended to the file takes over without a restart', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const { exportJWK } = await import('jose')
    const dir = mkdtempSync(join(tmpdir(), 'drawbridge-keys-'))
    const file = join(dir, 'keys.json')
    const make = async (kid: string) => {
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
      return { jwk: { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' }, privateKey }
    }
    const a = await make('file-a')
    const b = await make('file-b')
    writeFileSync(file, JSON.stringify({ keys: [a.jwk, b.jwk] }))
    const up = await startUpstream()
    const gw = await startAuthGateway({ upstream: up.url }, { signing_keys_file: file })
    try {
      await gw.identity.register('alice', null, password, [])
      const token = (await apiLogin(gw)).json().access_token
      assert.equal(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid, 'file-b')
      const jwks = (await request(`${gw.url}/.well-known/jwks.json`)).json().keys
      assert.deepEqual(
        jwks.map((k: { kid: string }) => k.kid),
        ['file-a', 'file-b'],
      )
      assert.equal(
        jwks.some((k: { d?: string }) => k.d !== undefined),
        false,
      )
      const byA = await new SignJWT(JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()))
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'file-a' })
        .sign(a.privateKey)
      assert.equal((await request(`${gw.url}/x`, { headers: { authorization: `Bearer ${byA}` } })).status, 200)
      const c = await make('file-c')
      writeFileSync(file, JSON.stringify({ keys: [b.jwk, c.jwk] }))
      await gw.identity.jwtRing.reload()
      const next = (await apiLogin(gw)).json().access_token
      assert.equal(JSON.parse(Buffer.from(next.split('.')[0], 'base64url').toString()).kid, 'file-c')
      assert.equal((await request(`${gw.url}/x`, { headers: { authorization: `Bearer ${token}` } })).status, 200)
    } finally {
      await gw.close()
      await up.close()
    }
  })
})

describe('auth: defaults and details', () => {
  test('production defaults: registration off (404), everything else needs a login; a custom prefix moves the endpoints', async () => {
    const up = await startUpstream()
    const gw = await startAuthGateway({ upstream: up.url }, { prefix: '/account' })
    try {
      const reg = await request(`${gw.url}/account/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"username":"x","password":"a fine long passphrase"}',
      })
      assert.equal(reg.status, 404)
      assert.equal((await request(`${gw.url}/anything`)).status, 401)
      await gw.identity.register('alice', null, password, [])
      const login = await request(`${gw.url}/account/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password }),
      })
      assert.equal(login.status, 200)
      // /auth is now an ordinary (protected) path of the app.
      assert.equal((await request(`${gw.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 401)
    } finally {
      await gw.close()
      await up.close()
    }
  })

  test('ES256 signing: tokens and the JWKS use P-256', async () => {
    const up = await startUpstream()
    const gw = await startAuthGateway({ upstream: up.url }, { algorithm: 'ES256' })
    try {
      await gw.identity.register('alice', null, password, [])
      const token = (await apiLogin(gw)).json().access_token
      assert.equal(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).alg, 'ES256')
      const keys = (await request(`${gw.url}/.well-known/jwks.json`)).json().keys
      assert.equal(keys[0].kty, 'EC')
      assert.equal(keys[0].crv, 'P-256')
      assert.equal((await request(`${gw.url}/x`, { headers: { authorization: `Bearer ${token}` } })).status, 200)
    } finally {
      await gw.close()
      await up.close()
    }
  })

  test('unknown and disabled users cost one argon2 verification too (against a dummy hash)', async () => {
    const up = await startUpstream()
    const gw = await startAuthGateway({ upstream: up.url })
    try {
      const r = await gw.identity.register('frank', null, password, [])
      assert.ok(r.ok)
      const calls: (string | null)[] = []
      const verify = gw.identity.hasher.verify.bind(gw.identity.hasher)
      gw.identity.hasher.verify = async (hash, pw) => {
        calls.push(hash)
        return verify(hash, pw)
      }
      await apiLogin(gw, 'nobody', 'some password guess')
      await apiLogin(gw, 'frank', 'some password guess')
      await gw.identity.setDisabled(r.user.id, true)
      await apiLogin(gw, 'frank', password)
      assert.equal(calls.length, 3)
      assert.equal(calls[0], null)
      assert.match(String(calls[1]), /^\$argon2id\$/)
      assert.match(String(calls[2]), /^\$argon2id\$/)
    } finally {
      await gw.close()
      await up.close()
    }
  })

  test('rotating the CSRF secret logs nobody out: tokens made with the old secret still pass', async () => {
    const up = await startUpstream()
    const gw = await startAuthGateway({ upstream: up.url })
    try {
      await gw.identity.register('alice', null, password, [])
      const res = await request(`${gw.url}/auth/login`, {
        method: 'POST',
        headers: { ...browser, 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password }),
      })
      const cookies = cookiesOf(res)
      const csrf = res.json().csrf_token
      await gw.identity.csrfRing.rotate()
      const post = await request(`${gw.url}/orders`, {
        method: 'POST',
        headers: { ...browser, cookie: cookieHeader(cookies), 'x-csrf-token': csrf, 'content-type': 'application/json' },
        body: '{}',
      })
      assert.equal(post.status, 200)
      assert.notEqual(gw.identity.csrf.issue('x').split('.')[0], csrf.split('.')[0])
    } finally {
      await gw.close()
      await up.close()
    }
  })
})

describe('auth: reload', () => {
  test('a reload applies new route policies and keeps the identity (sessions survive); other auth settings keep their running values', async () => {
    const { testConfig } = await import('../helpers/gateway.js')
    const { testKek } = await import('../helpers/auth.js')
    const up = await startUpstream()
    const gw = await startAuthGateway({ upstream: up.url }, { policies: [{ match: { path: '/open' }, access: 'public' }] })
    try {
      await gw.identity.register('alice', null, password, [])
      const token = (await apiLogin(gw)).json().access_token
      assert.equal((await request(`${gw.url}/open`)).status, 200)
      const next = testConfig(
        {
          upstream: up.url,
          auth: {
            key_encryption_key: { from_env: 'DRAWBRIDGE_SECRET_KEK' },
            access_ttl: '1m',
            policies: [{ match: { path: '/open' }, access: 'authenticated' }],
          },
        },
        { DRAWBRIDGE_SECRET_KEK: testKek },
      )
      await gw.gateway.reload(next)
      assert.equal((await request(`${gw.url}/open`)).status, 401)
      assert.equal((await request(`${gw.url}/open`, { headers: { authorization: `Bearer ${token}` } })).status, 200)
      assert.equal(gw.gateway.config.auth?.access_ttl, 15 * 60_000)
      assert.equal((await apiLogin(gw)).json().expires_in, 900)
    } finally {
      await gw.close()
      await up.close()
    }
  })
})

describe('auth: failed logins per client IP count IPv6 clients by their /64', () => {
  test('failures from two addresses in one /64 count together (no rotating through the /64 to reset the lock); IPv4 addresses stay apart', async () => {
    const up = await startUpstream()
    const gw = await startAuthGateway(
      { upstream: up.url, trusted_proxies: ['127.0.0.1/32'] },
      { brute_force: { max_failures_per_ip: 3, max_failures_per_account: 1000 } },
    )
    try {
      await gw.identity.register('alice', null, password, [])
      let n = 0
      // A fresh username each time: only the per-IP count is in play.
      const guess = (ip: string, u = `someone${n++}`, pw = 'not the password') =>
        request(`${gw.url}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
          body: JSON.stringify({ username: u, password: pw }),
        })
      assert.equal((await guess('2001:db8:1:2::a')).status, 401)
      assert.equal((await guess('2001:db8:1:2::b')).status, 401)
      // The third failure within the /64 locks it, whichever address sent it.
      assert.equal((await guess('2001:db8:1:2::a')).status, 429)
      const next = await guess('2001:db8:1:2:ffff:1:2:3', 'alice', password)
      assert.equal(next.status, 429)
      assert.equal(next.json().code, 'DRAWBRIDGE_ERR_TOO_MANY_ATTEMPTS')
      // Another /64 is another client.
      assert.equal((await guess('2001:db8:1:3::a', 'alice', password)).status, 200)
      // IPv4: one address each, as before.
      assert.equal((await guess('203.0.113.1')).status, 401)
      assert.equal((await guess('203.0.113.1')).status, 401)
      assert.equal((await guess('203.0.113.1')).status, 429)
      assert.equal((await guess('203.0.113.2', 'alice', password)).status, 200)
    } finally {
      await gw.close()
      await up.close()
    }
  })
})

describe('auth: access token lifetime bounds and tokens minted for API keys', () => {
  let up: TestUpstream
  let gw: AuthGateway
  let userId: string

  before(async () => {
    up = await startUpstream()
    gw = await startAuthGateway({ upstream: up.url }, { default_policy: 'authenticated' })
    const r = await gw.identity.register('alice', null, password, ['user'])
    assert.ok(r.ok)
    userId = r.user.id
  })
  after(async () => {
    await gw.close()
    await up.close()
  })

  /** A token signed with the gateway's own current key: only its times differ from a real one. */
  async function signed(iat: number, exp: number): Promise<string> {
    const key = gw.identity.jwtRing.current()
    return new SignJWT({ username: 'alice', roles: ['user'] })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .setSubject(userId)
      .setIssuer(gw.identity.settings.issuer)
      .setAudience(gw.identity.settings.audience)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(key.signing)
  }
  const bearer = (t: string) => request(`${gw.url}/orders`, { headers: { authorization: `Bearer ${t}` } })

  test('a token issued in the future (beyond clock_skew) is refused; within the skew it passes', async () => {
    const now = Math.floor(gw.clock.now / 1000)
    assert.equal((await bearer(await signed(now + 5, now + 5 + 900))).status, 200)
    const future = await bearer(await signed(now + 3600, now + 3600 + 900))
    assert.equal(future.status, 401)
    assert.match(String(future.headers['www-authenticate']), /invalid_token/)
  })

  test('a token whose life (exp - iat) is longer than access_ttl is refused even while young; one of access_ttl passes', async () => {
    const now = Math.floor(gw.clock.now / 1000)
    assert.equal((await bearer(await signed(now, now + 900))).status, 200)
    assert.equal((await bearer(await signed(now, now + 365 * 86_400))).status, 401)
    assert.equal((await bearer(await signed(now - 60, now + 900))).status, 401)
    const legit = (await apiLogin(gw)).json()
    assert.equal(legit.expires_in, 900)
    assert.equal((await bearer(legit.access_token)).status, 200)
  })

  test('the token minted for an API-key caller is bound to the key: after the key is revoked it is refused at once', async () => {
    const { secret, key } = await gw.identity.apiKeys.create(userId, { name: 'ci', scopes: ['user'], expiresAt: null })
    const before = up.seen.length
    assert.equal((await request(`${gw.url}/orders`, { headers: { 'x-api-key': secret } })).status, 200)
    const minted = String(up.seen[before]!.headers['x-drawbridge-token'])
    assert.equal(JSON.parse(Buffer.from(minted.split('.')[1]!, 'base64url').toString()).akid, key.id)
    // Presented back as a bearer (leaked by the app, say): accepted while the key lives...
    assert.equal((await bearer(minted)).status, 200)
    // ... and refused the moment `apikeys revoke` (this call) ends the key, within the token's minute.
    await gw.identity.apiKeys.revoke(key.id)
    assert.equal((await bearer(minted)).status, 401)
    assert.equal((await request(`${gw.url}/orders`, { headers: { 'x-api-key': secret } })).status, 401)
    // A user's own token is unaffected.
    assert.equal((await bearer((await apiLogin(gw)).json().access_token)).status, 200)
  })
})

describe('auth: failed-login security events', () => {
  test('a username that may be a password is masked in the event (a keyed fingerprint groups repeats); ordinary usernames stay readable', async () => {
    const up = await startUpstream()
    const gw = await startAuthGateway({ upstream: up.url }, { brute_force: { max_failures_per_account: 1000, max_failures_per_ip: 1000, base_delay: 1 } })
    try {
      await gw.identity.register('alice', null, password, [])
      const tries = ['Tr0ub4dor&3 horse', 'Tr0ub4dor&3 horse', 'Summer2024Pw', 'alice', 'nobody.here']
      for (const u of tries) {
        gw.clock.advance(60_000)
        assert.equal((await apiLogin(gw, u, 'wrong password guess')).status, 401, u)
      }
      // The legitimate login still works and records no failure.
      gw.clock.advance(60_000)
      assert.equal((await apiLogin(gw, 'alice', password)).status, 200)
      await gw.gateway.events.flush()
      const events = (await gw.gateway.events.store.list({ limit: 50, category: 'auth' })).filter((e) => e.rule === 'auth-login-failed')
      assert.equal(events.length, tries.length)
      const snippets = events.map((e) => e.snippet)
      const logged = JSON.stringify(gw.logs())
      for (const secret of ['Tr0ub4dor', 'Summer2024Pw']) {
        assert.equal(
          snippets.some((s) => s.includes(secret)),
          false,
          secret,
        )
        assert.equal(logged.includes(secret), false, secret)
      }
      const masked = snippets.filter((s) => s.startsWith('[MASKED '))
      assert.equal(masked.length, 3)
      assert.equal(new Set(masked).size, 2, 'the same value gets the same fingerprint')
      assert.ok(snippets.includes('alice'))
      assert.ok(snippets.includes('nobody.here'))
    } finally {
      await gw.close()
      await up.close()
    }
  })
})
