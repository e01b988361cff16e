import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { compileOriginMatcher } from '../../src/net/origin.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { request } from '../helpers/http.js'

test('origin patterns: exact, *.domain with any depth, nothing else', () => {
  const m = compileOriginMatcher(['https://app.example.com', 'https://*.example.org', 'http://localhost:3000'])
  assert.ok(m.matches('https://app.example.com') && m.matches('https://APP.example.com'))
  assert.ok(m.matches('https://a.example.org') && m.matches('https://a.b.example.org'))
  assert.ok(m.matches('http://localhost:3000'))
  for (const bad of [
    'http://app.example.com',
    'https://example.org',
    'https://evil.com/.example.org',
    'https://a.example.org.evil.com',
    'https://a..example.org',
    'null',
    'https://app.example.com:444',
    'http://localhost:3001',
  ]) {
    assert.ok(!m.matches(bad), bad)
  }
  assert.throws(() => compileOriginMatcher(['null']), TypeError)
  assert.throws(() => compileOriginMatcher(['https://app.example.com/path']), TypeError)
  assert.throws(() => compileOriginMatcher(['https://a*.example.com']), TypeError)
})

describe('CORS at the edge', () => {
  let up: TestUpstream
  let gw: TestGateway
  before(async () => {
    up = await startUpstream((_req, res) => {
      // an app that sets its own (too open) CORS headers: the edge policy must win
      res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*', vary: 'Accept-Encoding' })
      res.end('{}')
    })
    gw = await startGateway({
      upstream: up.url,
      cors: {
        allow_origins: ['https://app.example.com', 'https://*.example.org'],
        allow_credentials: true,
        allow_headers: ['Content-Type', 'X-Custom'],
        expose_headers: ['X-Request-ID', 'X-Total'],
        max_age: 300,
      },
    })
  })
  after(async () => {
    await gw.close()
    await up.close()
  })

  test('an allowed preflight is answered at the edge (204) and never forwarded', async () => {
    const before = up.seen.length
    const r = await request(gw.url + '/items', {
      method: 'OPTIONS',
      headers: { origin: 'https://a.example.org', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'Content-Type, X-Custom' },
    })
    assert.equal(r.status, 204)
    assert.equal(r.headers['access-control-allow-origin'], 'https://a.example.org')
    assert.equal(r.headers['access-control-allow-credentials'], 'true')
    assert.match(String(r.headers['access-control-allow-methods']), /PUT/)
    assert.equal(r.headers['access-control-allow-headers'], 'Content-Type, X-Custom')
    assert.equal(r.headers['access-control-max-age'], '300')
    assert.match(String(r.headers['vary']), /Origin/)
    assert.equal(up.seen.length, before)
  })

  test('a preflight from another origin, or asking for other methods/headers, is 403 without CORS headers', async () => {
    const before = up.seen.length
    const cases: Record<string, string>[] = [
      { origin: 'https://evil.com', 'access-control-request-method': 'GET' },
      { origin: 'https://app.example.com', 'access-control-request-method': 'CONNECT' },
      { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-not-allowed' },
    ]
    for (const headers of cases) {
      const r = await request(gw.url + '/items', { method: 'OPTIONS', headers })
      assert.equal(r.status, 403)
      assert.equal(r.json().code, 'DRAWBRIDGE_ERR_CORS_REJECTED')
      assert.equal(r.headers['access-control-allow-origin'], undefined)
    }
    assert.equal(up.seen.length, before)
  })

  test('actual requests: allowed origins get CORS headers, others none; Vary: Origin always', async () => {
    const ok = await request(gw.url + '/items', { headers: { origin: 'https://app.example.com' } })
    assert.equal(ok.status, 200)
    assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example.com')
    assert.equal(ok.headers['access-control-allow-credentials'], 'true')
    assert.equal(ok.headers['access-control-expose-headers'], 'X-Request-ID, X-Total')
    assert.equal(ok.headers['vary'], 'Accept-Encoding, Origin')
    const evil = await request(gw.url + '/items', { headers: { origin: 'https://evil.com' } })
    assert.equal(evil.status, 200)
    assert.equal(evil.headers['access-control-allow-origin'], undefined, 'the app\'s own "*" is dropped')
    assert.match(String(evil.headers['vary']), /Origin/)
  })

  test('without cors configured, preflights get 403 and upstream CORS headers are dropped', async () => {
    const plain = await startGateway({ upstream: up.url })
    try {
      const pre = await request(plain.url + '/x', { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' } })
      assert.equal(pre.status, 403)
      const r = await request(plain.url + '/x', { headers: { origin: 'https://app.example.com' } })
      assert.equal(r.headers['access-control-allow-origin'], undefined)
      // a plain OPTIONS (not a preflight) is forwarded
      const opt = await request(plain.url + '/x', { method: 'OPTIONS' })
      assert.equal(opt.status, 200)
    } finally {
      await plain.close()
    }
  })

  test('"*" without credentials answers "*"', async () => {
    const star = await startGateway({ upstream: up.url, cors: { allow_origins: ['*'] } })
    try {
      const r = await request(star.url + '/x', { headers: { origin: 'https://anything.test' } })
      assert.equal(r.headers['access-control-allow-origin'], '*')
      assert.equal(r.headers['access-control-allow-credentials'], undefined)
    } finally {
      await star.close()
    }
  })
})
