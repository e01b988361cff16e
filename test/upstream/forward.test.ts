import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect } from 'node:net'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { request, rawRequest } from '../helpers/http.js'
import { startAuthGateway, type AuthGateway } from '../helpers/auth.js'
import { startWsgi, wsgiSkipReason, type WsgiHandle } from '../helpers/wsgi.js'
import { headerText } from '../../src/upstream/request-headers.js'

describe('proxying: headers both ways', () => {
  let up: TestUpstream
  let gw: TestGateway
  let trusted: TestGateway
  before(async () => {
    up = await startUpstream((req, res, body) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'keep-alive': 'timeout=5',
        'x-internal': 'secret-hop',
        connection: 'x-internal',
        'proxy-authenticate': 'Basic',
      })
      res.end(JSON.stringify({ headers: req.headers, body: body.toString() }))
    })
    gw = await startGateway({ upstream: up.url })
    trusted = await startGateway({ upstream: up.url, trusted_proxies: ['127.0.0.0/8'] })
  })
  after(async () => {
    await Promise.all([gw.close(), trusted.close()])
    await up.close()
  })

  test('hop-by-hop headers, and those named in Connection, are removed both ways (RFC 9110 §7.6.1)', async () => {
    const r = await rawRequest(
      gw.url,
      'GET /h HTTP/1.1\r\nHost: localhost\r\nConnection: close, X-Drop-Me\r\nX-Drop-Me: 1\r\nKeep-Alive: 300\r\nTE: trailers\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\nUpgrade: h2c\r\nX-Keep: yes\r\n\r\n',
    )
    assert.equal(r.status, 200)
    const seen = JSON.parse(r.body).headers
    for (const h of ['x-drop-me', 'keep-alive', 'te', 'proxy-authorization', 'upgrade']) assert.equal(seen[h], undefined, h)
    assert.equal(seen['x-keep'], 'yes')
    assert.equal(r.header('x-internal'), undefined)
    assert.equal(r.header('proxy-authenticate'), undefined)
  })

  test('untrusted clients cannot forge X-Forwarded-*, X-Real-IP or X-Request-ID', async () => {
    const r = await request(gw.url + '/h', {
      headers: {
        'x-forwarded-for': '6.6.6.6',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil.com',
        forwarded: 'for=6.6.6.6',
        'x-real-ip': '6.6.6.6',
        'x-request-id': 'forged-id',
      },
    })
    const seen = r.json().headers
    assert.equal(seen['x-forwarded-for'], '127.0.0.1')
    assert.equal(seen['x-forwarded-proto'], 'http')
    assert.equal(seen['x-forwarded-host'], 'localhost')
    assert.equal(seen['x-real-ip'], '127.0.0.1')
    assert.equal(seen['forwarded'], undefined)
    assert.notEqual(seen['x-request-id'], 'forged-id')
    assert.equal(seen['x-request-id'], r.headers['x-request-id'])
    assert.match(String(r.headers['x-request-id']), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })

  test("a trusted proxy's X-Forwarded-For and X-Request-ID are believed and extended", async () => {
    const r = await request(trusted.url + '/h', {
      headers: { 'x-forwarded-for': '203.0.113.7, 127.0.0.5', 'x-forwarded-proto': 'https', 'x-request-id': 'lb-1234' },
    })
    const seen = r.json().headers
    assert.equal(seen['x-forwarded-for'], '203.0.113.7, 127.0.0.5, 127.0.0.1')
    assert.equal(seen['x-real-ip'], '203.0.113.7')
    assert.equal(seen['x-forwarded-proto'], 'https')
    assert.equal(seen['x-request-id'], 'lb-1234')
    assert.equal(r.headers['x-request-id'], 'lb-1234')
    const bad = await request(trusted.url + '/h', { headers: { 'x-request-id': 'bad id\twith "quotes"' } })
    assert.notEqual(bad.json().headers['x-request-id'], 'bad id\twith "quotes"')
    const log = trusted.logs().find((l) => l.msg === 'access' && l.request_id === 'lb-1234')
    assert.equal(log?.client_ip, '203.0.113.7')
  })

  test('bodies stream through unchanged, with Content-Length', async () => {
    const body = JSON.stringify({ text: 'x'.repeat(50_000) })
    const r = await request(gw.url + '/h', { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    assert.equal(r.json().body, body)
  })
})

describe('limits', () => {
  let up: TestUpstream
  let gw: TestGateway
  before(async () => {
    up = await startUpstream()
    gw = await startGateway({
      upstream: up.url,
      limits: { max_body_bytes: 1000, max_url_length: 200, max_header_bytes: 4096, header_timeout: '1s', body_timeout: '1s' },
      routes: [
        { match: { path: '/big' }, max_body_bytes: 5000 },
        { match: { path: '/stream' }, request_buffering: false },
        { match: { path: '/upload' }, body_timeout: '5s' },
      ],
    })
  })
  after(async () => {
    await gw.close()
    await up.close()
  })

  test('URL too long: 414; headers too large: 431', async () => {
    const before = up.seen.length
    const long = await request(gw.url + '/' + 'a'.repeat(300))
    assert.equal(long.status, 414)
    assert.equal(long.json().code, 'DRAWBRIDGE_ERR_URL_TOO_LONG')
    const big = await rawRequest(gw.url, `GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'b'.repeat(5000)}\r\n\r\n`)
    assert.equal(big.status, 431)
    assert.equal(JSON.parse(big.body).code, 'DRAWBRIDGE_ERR_HEADERS_TOO_LARGE')
    assert.equal(up.seen.length, before)
    assert.equal((await request(gw.url + '/' + 'a'.repeat(100))).status, 200)
  })

  test('body limits: 413 by Content-Length and while streaming chunked bodies; per-route limits', async () => {
    const before = up.seen.length
    const cl = await request(gw.url + '/x', { method: 'POST', body: 'x'.repeat(1001) })
    assert.equal(cl.status, 413)
    assert.equal(cl.json().code, 'DRAWBRIDGE_ERR_BODY_TOO_LARGE')
    const chunk = 'y'.repeat(600)
    const chunked = await rawRequest(
      gw.url,
      `POST /x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`,
    )
    assert.equal(chunked.status, 413)
    assert.equal(up.seen.length, before, 'an over-limit body never reaches the upstream')
    const routeOk = await request(gw.url + '/big', { method: 'POST', body: 'z'.repeat(4000) })
    assert.equal(routeOk.status, 200)
    const small = await rawRequest(
      gw.url,
      `POST /x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    )
    assert.equal(small.status, 200)
    const seen = up.seen.at(-1)!
    assert.equal(seen.body.toString(), 'hello')
    assert.equal(seen.headers['content-length'], '5', 'buffered chunked bodies are forwarded with a length')
    assert.equal(seen.headers['transfer-encoding'], undefined)
  })

  test('Expect: 100-continue is answered only when the body will be accepted', async () => {
    const refused = await rawRequest(gw.url, 'POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n')
    assert.equal(refused.status, 413, 'no 100 Continue before the refusal')
    const { connect } = await import('node:net')
    const u = new URL(gw.url)
    const socket = connect(Number(u.port), u.hostname)
    socket.write('POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n')
    const [first] = await once(socket, 'data')
    assert.match(String(first), /^HTTP\/1\.1 100 Continue/)
    socket.write('hello')
    let all = ''
    socket.on('data', (c) => (all += c))
    await once(socket, 'close')
    assert.match(all, /^HTTP\/1\.1 200/)
    assert.equal(up.seen.at(-1)!.body.toString(), 'hello')
  })

  test('request_buffering: false streams chunked bodies and still stops them at the limit', async () => {
    const ok = await rawRequest(
      gw.url,
      `POST /stream HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    )
    assert.equal(ok.status, 200)
    const chunk = 'y'.repeat(600)
    const over = await rawRequest(
      gw.url,
      `POST /stream HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`,
    )
    assert.equal(over.status, 413)
  })

  test('slow clients: 408 when the headers or the body are too slow', async () => {
    const before = up.seen.length
    const slowHead = await rawRequest(gw.url, 'GET / HTTP/1.1\r\nHost: localhost\r\n', 4000)
    assert.equal(slowHead.status, 408)
    const slowBody = await rawRequest(gw.url, 'POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc', 4000)
    assert.equal(slowBody.status, 408)
    assert.equal(JSON.parse(slowBody.body).code, 'DRAWBRIDGE_ERR_REQUEST_TIMEOUT')
    const slowChunked = await rawRequest(gw.url, 'POST /x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n', 4000)
    assert.equal(slowChunked.status, 408)
    // a route with a longer deadline is still receiving after the default deadline has passed
    const { connect } = await import('node:net')
    const u = new URL(gw.url)
    const socket = connect(Number(u.port), u.hostname)
    socket.write('POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 6\r\nConnection: close\r\n\r\nabc')
    await new Promise((r) => setTimeout(r, 2600))
    socket.write('def')
    let answer = ''
    socket.on('data', (c) => (answer += c))
    await once(socket, 'close')
    assert.match(answer, /^HTTP\/1\.1 200/)
    assert.equal(up.seen.length, before + 1, 'only the patient upload reached the upstream')
  })

  test('malformed requests are 400 JSON, never a reset or a 5xx', async () => {
    const cases = [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n',
      'GET / HTTP/9.9\r\nHost: localhost\r\n\r\n',
    ]
    for (const c of cases) {
      const r = await rawRequest(gw.url, c)
      assert.equal(r.status, 400, JSON.stringify(c))
      assert.equal(JSON.parse(r.body).code, 'DRAWBRIDGE_ERR_BAD_REQUEST')
    }
  })
})

describe('upstream failures', () => {
  test('upstream down: 502; response too slow: 504; both JSON with a request id', async () => {
    const probe = createServer().listen(0, '127.0.0.1')
    await once(probe, 'listening')
    const deadPort = (probe.address() as AddressInfo).port
    probe.close()
    const down = await startGateway({ upstream: `http://127.0.0.1:${deadPort}` })
    const slowUp = await startUpstream((_req, res) => setTimeout(() => res.end('late'), 1500))
    const slow = await startGateway({ upstream: { url: slowUp.url, response_timeout: '300ms' } })
    try {
      const r = await request(down.url + '/x')
      assert.equal(r.status, 502)
      assert.equal(r.json().code, 'DRAWBRIDGE_ERR_UPSTREAM_UNAVAILABLE')
      assert.equal(r.json().request_id, r.headers['x-request-id'])
      const t = await request(slow.url + '/x')
      assert.equal(t.status, 504)
      assert.equal(t.json().code, 'DRAWBRIDGE_ERR_UPSTREAM_TIMEOUT')
    } finally {
      await Promise.all([down.close(), slow.close()])
      await slowUp.close()
    }
  })

  test('upstream not accepting connections: 504 after connect_timeout', async () => {
    // A listener whose accept queue is full: the kernel drops further SYNs, so connect() hangs.
    const py = spawn('python3', [
      '-c',
      'import socket,time\ns=socket.socket();s.bind(("127.0.0.1",0));s.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)',
    ])
    try {
      const [line] = await once(py.stdout, 'data')
      const port = Number(String(line).trim())
      const fillers = [1, 2, 3].map(() => connect(port, '127.0.0.1').on('error', () => undefined))
      await new Promise((r) => setTimeout(r, 200))
      const gw = await startGateway({ upstream: { url: `http://127.0.0.1:${port}`, connect_timeout: '300ms' } })
      try {
        const r = await request(gw.url + '/x')
        assert.equal(r.status, 504)
        assert.equal(r.json().code, 'DRAWBRIDGE_ERR_UPSTREAM_TIMEOUT')
      } finally {
        await gw.close()
        for (const f of fillers) f.destroy()
      }
    } finally {
      py.kill('SIGKILL')
    }
  })

  test('concurrency cap: beyond max_concurrent + max_queue requests get 503 with Retry-After', async () => {
    const releases: (() => void)[] = []
    const up = await startUpstream((_req, res) => releases.push(() => res.end('ok')))
    const gw = await startGateway({ upstream: { url: up.url, max_concurrent: 2, max_queue: 1, queue_timeout: '5s' } })
    try {
      const pending = [1, 2, 3].map(() => request(gw.url + '/slow'))
      while (releases.length < 2) await new Promise((r) => setTimeout(r, 10))
      const refused = await request(gw.url + '/slow')
      assert.equal(refused.status, 503)
      assert.equal(refused.json().code, 'DRAWBRIDGE_ERR_OVERLOADED')
      assert.equal(refused.headers['retry-after'], '1')
      assert.equal(up.seen.length, 2, 'only the admitted requests reached the upstream')
      while (releases.length > 0 || up.seen.length < 3) {
        releases.shift()?.()
        await new Promise((r) => setTimeout(r, 10))
      }
      const results = await Promise.all(pending)
      assert.deepEqual(
        results.map((x) => x.status),
        [200, 200, 200],
      )
    } finally {
      await gw.close()
      await up.close()
    }
  })

  test('a queued request that waits past queue_timeout gets 503', async () => {
    const releases: (() => void)[] = []
    const up = await startUpstream((_req, res) => releases.push(() => res.end('ok')))
    const gw = await startGateway({ upstream: { url: up.url, max_concurrent: 1, max_queue: 5, queue_timeout: '200ms' } })
    try {
      const first = request(gw.url + '/a')
      while (releases.length < 1) await new Promise((r) => setTimeout(r, 10))
      const waited = await request(gw.url + '/b')
      assert.equal(waited.status, 503)
      releases.shift()!()
      assert.equal((await first).status, 200)
    } finally {
      await gw.close()
      await up.close()
    }
  })

  test('a keep-alive connection the upstream closed is retried once for idempotent requests', async () => {
    // An upstream that closes each connection right after answering, without saying so.
    let n = 0
    const up = await startUpstream((req, res) => {
      n++
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' })
      res.end('ok', () => req.socket.destroy())
    })
    const gw = await startGateway({ upstream: { url: up.url, keepalive_timeout: '60s' } })
    try {
      for (let i = 0; i < 5; i++) {
        const r = await request(gw.url + '/x')
        assert.equal(r.status, 200)
        await new Promise((r) => setTimeout(r, 20))
      }
      assert.equal(n, 5)
    } finally {
      await gw.close()
      await up.close()
    }
  })
})

describe('error masking', () => {
  let up: TestUpstream
  before(async () => {
    up = await startUpstream((req, res) => {
      if (req.url === '/py') {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end('Traceback (most recent call last):\n  File "/app/main.py", line 3, in handler\n    db.connect(password="hunter2")\nValueError: boom')
      } else if (req.url === '/node') {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end('TypeError: x is undefined\n    at handler (/srv/app.js:10:5)\n    at Layer.handle (/srv/node_modules/express/lib/router/layer.js:95:5)')
      } else if (req.url === '/json503') {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '30' })
        res.end('{"detail":"maintenance"}')
      } else if (req.url === '/huge') {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end('x'.repeat(300_000))
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' })
        res.end('Traceback (most recent call last): not a 5xx, passes')
      }
    })
  })
  after(() => up.close())

  test('production: stack traces and debug pages become a generic error; the original is logged, redacted', async () => {
    const gw = await startGateway({ upstream: up.url, mode: 'production' })
    try {
      for (const path of ['/py', '/node', '/huge']) {
        const r = await request(gw.url + path)
        assert.equal(r.status, 500, path)
        assert.equal(r.json().code, 'DRAWBRIDGE_ERR_UPSTREAM_ERROR')
        assert.ok(!r.text.includes('Traceback') && !r.text.includes('at handler'))
      }
      const log = gw.logs().find((l) => l.msg === 'upstream error page masked' && String(l.body).includes('Traceback'))
      assert.ok(log, 'the original is logged')
      assert.ok(!String(log.body).includes('hunter2'), 'secrets in the trace are redacted')
      assert.ok(String(log.body).length <= 2048)
      const plain = await request(gw.url + '/json503')
      assert.equal(plain.status, 503)
      assert.equal(plain.text, '{"detail":"maintenance"}')
      assert.equal(plain.headers['retry-after'], '30')
      const notFound = await request(gw.url + '/404')
      assert.equal(notFound.status, 404)
    } finally {
      await gw.close()
    }
  })

  test('development: errors pass through for debugging', async () => {
    const gw = await startGateway({ upstream: up.url, mode: 'development' })
    try {
      const r = await request(gw.url + '/py')
      assert.equal(r.status, 500)
      assert.match(r.text, /Traceback/)
    } finally {
      await gw.close()
    }
  })
})

const password = 'correct horse battery staple'

async function login(gw: AuthGateway, username: string): Promise<string> {
  const r = await request(`${gw.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  assert.equal(r.status, 200)
  return r.json().access_token as string
}

describe('header names with underscores, as a WSGI app under gunicorn reads them', () => {
  let app: WsgiHandle | null = null
  let gw: AuthGateway
  let allowing: AuthGateway
  let alice = ''
  const policies = [
    { match: { path: '/public' }, access: 'public' },
    { match: { path: '/admin' }, roles: ['admin'] },
  ]
  before(async () => {
    app = await startWsgi({ server: 'gunicorn', app: 'wsgi_app:app' })
    if (app === null) return
    gw = await startAuthGateway({ upstream: app.url }, { policies })
    allowing = await startAuthGateway(
      { upstream: app.url, request_headers: { allow_underscores: ['X_Tenant', 'x_drawbridge_roles', 'X-Drawbridge_User', 'x_forwarded_for', 'x_api_key'] } },
      { policies },
    )
    for (const g of [gw, allowing]) assert.equal((await g.identity.register('alice', null, password, ['user'])).ok, true)
    alice = await login(gw, 'alice')
  })
  after(async () => {
    if (app === null) return
    await Promise.all([gw.close(), allowing.close()])
    await app.close()
  })

  test("a SCRIPT_NAME header never moves gunicorn's routing past a role policy", async (t) => {
    if (app === null) return t.skip(wsgiSkipReason('gunicorn'))
    // Straight to gunicorn the header works: /public/admin is routed to /admin.
    const direct = await request(`${app.url}/public/admin`, { headers: { SCRIPT_NAME: '/public' } })
    assert.equal(direct.json().route, 'admin')
    assert.equal((await request(`${gw.url}/admin`, { headers: { authorization: `Bearer ${alice}` } })).status, 403)
    const r = await request(`${gw.url}/public/admin`, { headers: { SCRIPT_NAME: '/public', authorization: `Bearer ${alice}` } })
    assert.equal(r.status, 200)
    assert.equal(r.json().route, 'other')
    assert.equal(r.json().script_name, '')
    assert.equal(r.json().path_info, '/public/admin')
    const plain = await request(`${gw.url}/public/page`)
    assert.equal(plain.status, 200)
    assert.equal(plain.json().path_info, '/public/page')
  })

  test('X_Drawbridge_* names never reach the app as identity headers (forged user and roles)', async (t) => {
    if (app === null) return t.skip(wsgiSkipReason('gunicorn'))
    const forged = { X_Drawbridge_User: 'mallory', X_Drawbridge_Roles: 'admin', 'X-Drawbridge_User': 'mallory', 'X_Drawbridge-Auth': 'api-key' }
    const signedIn = await request(`${gw.url}/orders`, { headers: { authorization: `Bearer ${alice}`, ...forged } })
    assert.equal(signedIn.status, 200)
    const env = signedIn.json().environ
    assert.equal(env.HTTP_X_DRAWBRIDGE_USER, 'alice')
    assert.equal(env.HTTP_X_DRAWBRIDGE_ROLES, 'user')
    assert.equal(env.HTTP_X_DRAWBRIDGE_AUTH, 'bearer')
    const anonymous = await request(`${gw.url}/public/x`, { headers: forged })
    assert.equal(anonymous.status, 200)
    assert.equal(anonymous.json().environ.HTTP_X_DRAWBRIDGE_USER, undefined)
    assert.equal(anonymous.json().environ.HTTP_X_DRAWBRIDGE_ROLES, undefined)
  })

  test('X_Forwarded_For, X_Real_IP and X_HTTP_Method_Override are dropped, counted and logged at debug', async (t) => {
    if (app === null) return t.skip(wsgiSkipReason('gunicorn'))
    const counted = () => gw.gateway.metrics.snapshot().counters['drawbridge_dropped_headers_total']?.['reason="underscore"'] ?? 0
    const before = counted()
    const r = await request(`${gw.url}/public/x`, {
      headers: { X_Forwarded_For: '10.0.0.1', X_Real_IP: '10.0.0.1', X_HTTP_Method_Override: 'PUT', 'X-Custom': 'kept' },
    })
    assert.equal(r.status, 200)
    const body = r.json()
    assert.equal(body.method, 'GET')
    assert.equal(body.environ.HTTP_X_FORWARDED_FOR, '127.0.0.1')
    assert.equal(body.environ.HTTP_X_REAL_IP, '127.0.0.1')
    assert.equal(body.environ.HTTP_X_HTTP_METHOD_OVERRIDE, undefined)
    assert.equal(body.environ.HTTP_X_CUSTOM, 'kept')
    assert.equal(counted(), before + 3)
    const logged = gw.logs().filter((l) => l.msg === 'request header dropped' && l.request_id === r.headers['x-request-id'])
    assert.deepEqual(logged.map((l) => l.header).sort(), ['x_forwarded_for', 'x_http_method_override', 'x_real_ip'])
  })

  test('allow_underscores lets a named header through, never one that reads as a header Drawbridge manages', async (t) => {
    if (app === null) return t.skip(wsgiSkipReason('gunicorn'))
    const token = await login(allowing, 'alice')
    const r = await request(`${allowing.url}/orders`, {
      headers: {
        authorization: `Bearer ${token}`,
        X_Tenant: 'acme',
        X_Drawbridge_Roles: 'admin',
        'X-Drawbridge_User': 'mallory',
        X_Forwarded_For: '10.0.0.1',
        X_API_Key: 'dbk_forged',
        X_Other: 'no',
      },
    })
    assert.equal(r.status, 200)
    const env = r.json().environ
    assert.equal(env.HTTP_X_TENANT, 'acme')
    assert.equal(env.HTTP_X_DRAWBRIDGE_ROLES, 'user')
    assert.equal(env.HTTP_X_DRAWBRIDGE_USER, 'alice')
    assert.equal(env.HTTP_X_FORWARDED_FOR, '127.0.0.1')
    assert.equal(env.HTTP_X_API_KEY, undefined)
    assert.equal(env.HTTP_X_OTHER, undefined)
  })
})

describe('request headers apps take as the URL or the client address', () => {
  const spoofing = {
    'X-Original-URL': '/admin',
    'X-Rewrite-URL': '/admin',
    'X-Forwarded-Prefix': '/evil',
    'X-Forwarded-Port': '8443',
    'X-Forwarded-Server': 'evil.com',
    'X-Host': 'evil.com',
    'True-Client-IP': '6.6.6.6',
    'CF-Connecting-IP': '6.6.6.6',
    'X-Client-IP': '6.6.6.6',
    'X-Cluster-Client-IP': '6.6.6.6',
  }
  let up: TestUpstream
  let gw: TestGateway
  let trusted: TestGateway
  let custom: TestGateway
  before(async () => {
    up = await startUpstream()
    gw = await startGateway({ upstream: up.url })
    trusted = await startGateway({ upstream: up.url, trusted_proxies: ['127.0.0.0/8'] })
    custom = await startGateway({ upstream: up.url, request_headers: { strip: ['X-Debug-User', 'X-Forwarded-Prefix'] } })
  })
  after(async () => {
    await Promise.all([gw.close(), trusted.close(), custom.close()])
    await up.close()
  })

  test('URL-rewrite and client-IP headers (X-Original-URL, True-Client-IP, ...) are stripped by default', async () => {
    const r = await request(gw.url + '/h', { headers: { ...spoofing, 'X-Custom': 'kept' } })
    assert.equal(r.status, 200)
    const seen = r.json().headers
    for (const name of Object.keys(spoofing)) assert.equal(seen[name.toLowerCase()], undefined, name)
    assert.equal(seen['x-custom'], 'kept')
  })

  test("a trusted proxy's X-Forwarded-Prefix/-Port/-Server are believed; the rest stays stripped", async () => {
    const r = await request(trusted.url + '/h', { headers: spoofing })
    const seen = r.json().headers
    assert.equal(seen['x-forwarded-prefix'], '/evil')
    assert.equal(seen['x-forwarded-port'], '8443')
    assert.equal(seen['x-forwarded-server'], 'evil.com')
    for (const name of ['x-original-url', 'x-rewrite-url', 'x-host', 'true-client-ip', 'cf-connecting-ip', 'x-client-ip', 'x-cluster-client-ip'])
      assert.equal(seen[name], undefined, name)
  })

  test('request_headers.strip replaces the list', async () => {
    const r = await request(custom.url + '/h', { headers: { ...spoofing, 'X-Debug-User': 'root' } })
    const seen = r.json().headers
    assert.equal(seen['x-debug-user'], undefined)
    assert.equal(seen['x-forwarded-prefix'], undefined)
    assert.equal(seen['x-original-url'], '/admin')
  })
})

describe('Connection naming an end-to-end header', () => {
  let up: TestUpstream
  let gw: AuthGateway
  before(async () => {
    up = await startUpstream()
    gw = await startAuthGateway({ upstream: up.url }, { default_policy: 'public' })
  })
  after(async () => {
    await gw.close()
    await up.close()
  })

  test("Connection: content-type cannot hide a JSON body's type from the WAF: 400 before any stage", async () => {
    const before = up.seen.length
    const body = '{"q": "x\' UNION SELECT password FROM users--"}'
    const attack = await rawRequest(
      gw.url,
      `POST /search HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nConnection: content-type\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    )
    assert.equal(attack.status, 400)
    assert.equal(JSON.parse(attack.body).code, 'DRAWBRIDGE_ERR_BAD_REQUEST')
    for (const listed of [
      'Content-Length',
      'cookie',
      'Authorization',
      'X-API-Key',
      'X-Forwarded-For',
      'x-request-id',
      'Host',
      'Origin',
      'X-Drawbridge-User',
      'keep-alive, Content_Encoding',
    ]) {
      const r = await rawRequest(gw.url, `GET /h HTTP/1.1\r\nHost: localhost\r\nConnection: close, ${listed}\r\n\r\n`)
      assert.equal(r.status, 400, listed)
    }
    assert.equal(up.seen.length, before)
    const legit = await rawRequest(
      gw.url,
      `POST /search HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nContent-Length: 4\r\n\r\n\x00\x01\x02\x03`,
    )
    assert.equal(legit.status, 200)
    assert.equal(up.seen.at(-1)!.headers['content-type'], 'application/octet-stream')
    assert.equal(up.seen.at(-1)!.headers['x-hop'], undefined)
  })
})

describe('identity header values', () => {
  let up: TestUpstream
  let gw: AuthGateway
  before(async () => {
    up = await startUpstream()
    gw = await startAuthGateway({ upstream: up.url })
    assert.equal((await gw.identity.register('łukasz', null, password, ['user', 'zespół', 'a,b'])).ok, true)
    assert.equal((await gw.identity.register('jo.ann-smith_2', null, password, ['user', 'read:items'])).ok, true)
  })
  after(async () => {
    await gw.close()
    await up.close()
  })

  test('a username outside Latin-1 is forwarded percent-encoded (was a 400 on every request)', async () => {
    const token = await login(gw, 'łukasz')
    const r = await request(gw.url + '/orders', { headers: { authorization: `Bearer ${token}` } })
    assert.equal(r.status, 200)
    const seen = up.seen.at(-1)!.headers
    assert.equal(seen['x-drawbridge-user'], '%C5%82ukasz')
    assert.equal(decodeURIComponent(String(seen['x-drawbridge-user'])), 'łukasz')
    assert.deepEqual(String(seen['x-drawbridge-roles']).split(',').map(decodeURIComponent), ['user', 'zespół', 'a,b'])
  })

  test('ASCII usernames and roles are forwarded byte for byte', async () => {
    const token = await login(gw, 'jo.ann-smith_2')
    const r = await request(gw.url + '/orders', { headers: { authorization: `Bearer ${token}` } })
    assert.equal(r.status, 200)
    const seen = up.seen.at(-1)!.headers
    assert.equal(seen['x-drawbridge-user'], 'jo.ann-smith_2')
    assert.equal(seen['x-drawbridge-roles'], 'user,read:items')
  })

  test('headerText keeps printable ASCII but % and ",", and encodes the rest as UTF-8', () => {
    assert.equal(headerText('alice'), 'alice')
    assert.equal(headerText("o'brien!~*"), "o'brien!~*")
    assert.equal(headerText('100%'), '100%25')
    assert.equal(headerText('a b,c'), 'a%20b%2Cc')
    assert.equal(headerText('Zoë 日本'), 'Zo%C3%AB%20%E6%97%A5%E6%9C%AC')
    assert.equal(headerText('\r\n'), '%0D%0A')
    assert.equal(headerText('\ud83d'), '%EF%BF%BD')
    assert.equal(headerText('😀'), '%F0%9F%98%80')
  })
})

describe('answers without content', () => {
  let raw: ReturnType<typeof createServer>
  let rawUrl = ''
  let gw: TestGateway
  const answers: Record<string, string> = {
    '/304': 'HTTP/1.1 304 Not Modified\r\nContent-Length: 123\r\nETag: "x"\r\n\r\n',
    '/204': 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-Kind: none\r\n\r\n',
    '/head': 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 123\r\n\r\n',
    '/ok': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok',
  }
  before(async () => {
    // A raw upstream: node:http would drop the Content-Length of a 304 or 204 before sending it.
    raw = createServer((socket) => {
      let buf = ''
      socket.on('data', (c: Buffer) => {
        buf += c.toString('latin1')
        for (let end = buf.indexOf('\r\n\r\n'); end !== -1; end = buf.indexOf('\r\n\r\n')) {
          const path = buf.slice(0, end).split(' ')[1] ?? ''
          buf = buf.slice(end + 4)
          socket.write(answers[path.split('?')[0]!] ?? answers['/ok']!)
        }
      })
      socket.on('error', () => undefined)
    }).listen(0, '127.0.0.1')
    await once(raw, 'listening')
    rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`
    gw = await startGateway({ upstream: rawUrl })
  })
  after(async () => {
    await gw.close()
    await new Promise((r) => raw.close(r))
  })

  test('an upstream 304 with Content-Length reaches the client as a 304 (was a reset)', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await request(gw.url + '/304', { headers: { 'if-none-match': '"x"' } })
      assert.equal(r.status, 304)
      assert.equal(r.headers['etag'], '"x"')
      assert.equal(r.headers['content-length'], undefined)
      assert.equal(r.text, '')
    }
    const rawAnswer = await rawRequest(gw.url, 'GET /304 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
    assert.equal(rawAnswer.status, 304)
    assert.equal(rawAnswer.body, '')
    const ok = await request(gw.url + '/ok')
    assert.equal(ok.status, 200)
    assert.equal(ok.text, 'ok')
  })

  test('an upstream 204 with Content-Length reaches the client as a 204 without one', async () => {
    const r = await request(gw.url + '/204', { method: 'DELETE' })
    assert.equal(r.status, 204)
    assert.equal(r.headers['x-kind'], 'none')
    assert.equal(r.headers['content-length'], undefined)
  })

  test("HEAD keeps the upstream's Content-Length and has no body", async () => {
    const r = await request(gw.url + '/head', { method: 'HEAD' })
    assert.equal(r.status, 200)
    assert.equal(r.headers['content-length'], '123')
    assert.equal(r.text, '')
    assert.equal((await request(gw.url + '/ok')).text, 'ok')
  })
})
