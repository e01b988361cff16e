import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { request, rawRequest } from '../helpers/http.js'

describe('route policy: methods and hidden docs', () => {
  let up: TestUpstream
  let prod: TestGateway
  let dev: TestGateway
  let allowed: TestGateway
  before(async () => {
    up = await startUpstream()
    prod = await startGateway({ upstream: up.url, mode: 'production' })
    dev = await startGateway({ upstream: up.url, mode: 'development' })
    allowed = await startGateway({ upstream: up.url, mode: 'production', docs: { allow_ips: ['127.0.0.0/8'] } })
  })
  after(async () => {
    await Promise.all([prod.close(), dev.close(), allowed.close()])
    await up.close()
  })

  test('methods outside the allowlist get 405 with Allow and never reach the upstream', async () => {
    const before = up.seen.length
    for (const method of ['TRACE', 'PROPFIND', 'LOCK']) {
      const r = await request(prod.url + '/x', { method })
      assert.equal(r.status, 405, method)
      assert.equal(r.json().code, 'DRAWBRIDGE_ERR_METHOD_NOT_ALLOWED')
      assert.match(String(r.headers['allow']), /GET/)
    }
    const connect = await rawRequest(prod.url, 'CONNECT localhost:22 HTTP/1.1\r\nHost: localhost\r\n\r\n')
    assert.ok(connect.status === 400 || connect.status === 405, String(connect.status))
    assert.equal(up.seen.length, before)
    const override = await request(prod.url + '/x', { method: 'POST', headers: { 'x-http-method-override': 'TRACE' } })
    assert.equal(override.status, 405, 'a method-override header cannot smuggle a refused method')
    assert.equal(up.seen.length, before)
    const allowedOverride = await request(prod.url + '/x', { method: 'POST', headers: { 'x-http-method-override': 'delete' } })
    assert.equal(allowedOverride.status, 200)
    const ok = await request(prod.url + '/x', { method: 'PATCH', body: '{}' })
    assert.equal(ok.status, 200)
  })

  test('docs are 404 in production, including encoded and dotted variants, and never reach the upstream', async () => {
    const before = up.seen.length
    for (const path of ['/docs', '/redoc', '/openapi.json', '/docs/oauth2-redirect', '/DOCS', '/docs/', '/%64ocs', '//openapi.json', '/api/../docs', '/docs;x=1', '/docs?x=1']) {
      const r = await request(prod.url + path)
      assert.equal(r.status, 404, path)
      assert.equal(r.json().code, 'DRAWBRIDGE_ERR_NOT_FOUND')
    }
    assert.equal(up.seen.length, before)
    const other = await request(prod.url + '/documents')
    assert.equal(other.status, 200)
  })

  test('docs are served in development and to allowed IPs, with the docs header profile', async () => {
    for (const gw of [dev, allowed]) {
      const r = await request(gw.url + '/docs')
      assert.equal(r.status, 200)
      assert.match(String(r.headers['content-security-policy']), /cdn\.jsdelivr\.net/)
    }
  })

  test('paths that cannot be legitimate are 400', async () => {
    const before = up.seen.length
    for (const path of ['/../etc/passwd', '/%zz', '/a%00b']) {
      const r = await rawRequest(prod.url, `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`)
      assert.equal(r.status, 400, path)
    }
    assert.equal(up.seen.length, before)
  })
})
