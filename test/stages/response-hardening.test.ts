import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { hardenSetCookie } from '../../src/stages/response-hardening/set-cookie.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { request } from '../helpers/http.js'

const opts = { scriptReadable: new Set(['theme']), allowSameSiteNone: new Set(['embed']) }

test('Set-Cookie hardening adds what is missing and keeps what is stricter', () => {
  assert.equal(hardenSetCookie('session=abc; Path=/', false, opts), 'session=abc; Path=/; SameSite=Lax; HttpOnly')
  assert.equal(hardenSetCookie('session=abc; Path=/', true, opts), 'session=abc; Path=/; SameSite=Lax; Secure; HttpOnly')
  assert.equal(hardenSetCookie('s=1; SameSite=Strict; HttpOnly; Secure', true, opts), 's=1; SameSite=Strict; HttpOnly; Secure')
  assert.equal(hardenSetCookie('s=1; samesite=none', true, opts), 's=1; SameSite=Lax; Secure; HttpOnly')
  assert.equal(hardenSetCookie('embed=1; SameSite=None', true, opts), 'embed=1; SameSite=None; Secure; HttpOnly')
  assert.equal(hardenSetCookie('theme=dark', false, opts), 'theme=dark; SameSite=Lax')
  // the value is never parsed or altered, even when it looks like attributes
  assert.equal(hardenSetCookie('a="x=1,y"; Max-Age=10', false, opts), 'a="x=1,y"; Max-Age=10; SameSite=Lax; HttpOnly')
  // __Host-/__Secure- prefixes require Secure even on plain HTTP
  assert.equal(hardenSetCookie('__Host-id=1; Path=/', false, opts), '__Host-id=1; Path=/; SameSite=Lax; Secure; HttpOnly')
})

describe('response hardening through the gateway', () => {
  let up: TestUpstream
  let gw: TestGateway
  before(async () => {
    up = await startUpstream((req, res) => {
      const headers: Record<string, string | string[]> = {
        'content-type': req.url?.startsWith('/page') ? 'text/html' : 'application/json',
        server: 'uvicorn',
        'x-powered-by': 'Express',
        'x-frame-options': 'ALLOWALL',
        'strict-transport-security': 'max-age=1',
        'set-cookie': ['session=abc; Path=/', 'theme=light; Path=/', 'prefs=1; SameSite=Strict'],
      }
      if (req.url === '/cached') headers['cache-control'] = 'public, max-age=60'
      res.writeHead(200, headers)
      res.end('{}')
    })
    gw = await startGateway({
      upstream: up.url,
      cookies: { script_readable: ['theme'] },
      routes: [
        { match: { path: '/page' }, headers: { profile: 'html' } },
        { match: { path: '/custom' }, headers: { set: { 'Content-Security-Policy': "default-src 'self'" }, remove: ['X-Frame-Options'] } },
      ],
    })
  })
  after(async () => {
    await gw.close()
    await up.close()
  })

  test('JSON API profile: strict headers set, Server and X-Powered-By removed, no HSTS on plain HTTP', async () => {
    const r = await request(gw.url + '/api')
    assert.equal(r.status, 200)
    assert.equal(r.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'")
    assert.equal(r.headers['x-content-type-options'], 'nosniff')
    assert.equal(r.headers['x-frame-options'], 'DENY')
    assert.equal(r.headers['referrer-policy'], 'no-referrer')
    assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin')
    assert.equal(r.headers['cross-origin-resource-policy'], 'same-origin')
    assert.equal(
      r.headers['permissions-policy'],
      'accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()',
    )
    assert.equal(r.headers['cache-control'], 'no-store')
    assert.equal(r.headers['server'], undefined)
    assert.equal(r.headers['x-powered-by'], undefined)
    assert.equal(r.headers['strict-transport-security'], undefined)
  })

  test('cookies get HttpOnly (unless script-readable) and SameSite', async () => {
    const r = await request(gw.url + '/api')
    assert.deepEqual(r.headers['set-cookie'], [
      'session=abc; Path=/; SameSite=Lax; HttpOnly',
      'theme=light; Path=/; SameSite=Lax',
      'prefs=1; SameSite=Strict; HttpOnly',
    ])
  })

  test('HSTS only from a trusted proxy that says the client used HTTPS, with Secure cookies', async () => {
    const behind = await startGateway({ upstream: up.url, trusted_proxies: ['127.0.0.1/32'] })
    try {
      const r = await request(behind.url + '/api', { headers: { 'x-forwarded-proto': 'https' } })
      assert.equal(r.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains')
      assert.match(String((r.headers['set-cookie'] as string[])[0]), /; Secure/)
      const plain = await request(behind.url + '/api', { headers: { 'x-forwarded-proto': 'http' } })
      assert.equal(plain.headers['strict-transport-security'], undefined)
    } finally {
      await behind.close()
    }
    // an untrusted client cannot claim HTTPS
    const r = await request(gw.url + '/api', { headers: { 'x-forwarded-proto': 'https' } })
    assert.equal(r.headers['strict-transport-security'], undefined)
  })

  test('html profile and per-route overrides; upstream cache-control kept when set', async () => {
    const page = await request(gw.url + '/page')
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/)
    assert.equal(page.headers['referrer-policy'], 'strict-origin-when-cross-origin')
    assert.match(String(page.headers['permissions-policy']), /camera=\(\)/)
    const custom = await request(gw.url + '/custom')
    assert.equal(custom.headers['content-security-policy'], "default-src 'self'")
    assert.equal(custom.headers['x-frame-options'], undefined)
    const cached = await request(gw.url + '/cached')
    assert.equal(cached.headers['cache-control'], 'public, max-age=60')
  })

  test("Drawbridge's own errors carry the same headers", async () => {
    const r = await request(gw.url + '/x', { headers: { host: 'evil.com' } })
    assert.equal(r.status, 400)
    assert.equal(r.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'")
    assert.equal(r.headers['content-type'], 'application/json')
  })
})
