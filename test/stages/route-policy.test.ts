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
    const ok = await request(prod.url + '/x', { method: 'PATCH', body: '{}' })
    assert.equal(ok.status, 200)
  })

  test('docs are 404 in production, including encoded and dotted variants, and never reach the upstream', async () => {
    const before = up.seen.length
    for (const path of ['/docs', '/redoc', '/openapi.json', '/docs/oauth2-redirect', '/DOCS', '/docs/', '/%64ocs', '/docs?x=1']) {
      const r = await request(prod.url + path)
      assert.equal(r.status, 404, path)
      assert.equal(r.json().code, 'DRAWBRIDGE_ERR_NOT_FOUND')
    }
    // Spellings that servers read differently are refused outright (see canonical-path.ts).
    for (const path of ['//openapi.json', '/api/../docs', '/docs;x=1', '/docs%2f', '/x/..;/docs']) {
      const r = await rawRequest(prod.url, `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`)
      assert.equal(r.status, 400, path)
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

  test('method-override headers are removed by default, so the app cannot run a method that was never judged', async () => {
    for (const name of ['x-http-method-override', 'X-HTTP-Method', 'x-method-override']) {
      const before = up.seen.length
      const r = await request(prod.url + '/items/1', { method: 'POST', headers: { [name]: 'DELETE' }, body: '{}' })
      assert.equal(r.status, 200, name)
      const seen = up.seen[before]!
      assert.equal(seen.method, 'POST')
      for (const h of ['x-http-method-override', 'x-http-method', 'x-method-override']) assert.equal(seen.headers[h], undefined, `${name}: ${h}`)
    }
    // A GET carrying one (nothing to skip CSRF or a GET policy with) loses it too.
    const before = up.seen.length
    assert.equal((await request(prod.url + '/items/1', { headers: { 'x-http-method-override': 'DELETE' } })).status, 200)
    assert.equal(up.seen[before]!.headers['x-http-method-override'], undefined)
  })

  test('with limits.method_override a POST is judged by the method it names and forwarded as sent; refused, safe or conflicting overrides never reach the app', async () => {
    const gw = await startGateway({
      upstream: up.url,
      mode: 'production',
      limits: { method_override: true, allowed_methods: ['GET', 'HEAD', 'POST', 'DELETE'] },
    })
    try {
      const before = up.seen.length
      const cases: [Record<string, string>, number][] = [
        [{ 'x-http-method-override': 'PUT' }, 405], // not in allowed_methods
        [{ 'x-http-method': 'PROPFIND' }, 405],
        [{ 'x-http-method-override': 'GET' }, 400], // a POST judged as safe would skip CSRF
        [{ 'x-http-method-override': 'HEAD' }, 400],
        [{ 'x-http-method-override': 'DELETE', 'x-method-override': 'PATCH' }, 400], // which one does the app read?
        [{ 'x-http-method-override': 'DEL ETE' }, 400],
      ]
      for (const [headers, status] of cases) {
        const r = await request(gw.url + '/items/1', { method: 'POST', headers, body: '{}' })
        assert.equal(r.status, status, JSON.stringify(headers))
      }
      assert.equal(up.seen.length, before)
      const ok = await request(gw.url + '/items/1', { method: 'POST', headers: { 'x-http-method-override': 'delete' }, body: '{}' })
      assert.equal(ok.status, 200)
      assert.equal(up.seen[before]!.method, 'POST')
      assert.equal(up.seen[before]!.headers['x-http-method-override'], 'delete')
      // Frameworks honour overrides on POST only: on other methods the headers are removed.
      const get = await request(gw.url + '/items/1', { headers: { 'x-http-method-override': 'DELETE' } })
      assert.equal(get.status, 200)
      assert.equal(up.seen[before + 1]!.headers['x-http-method-override'], undefined)
    } finally {
      await gw.close()
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
