import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { parseAuthority, compileHostMatcher } from '../../src/net/authority.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { request, rawRequest } from '../helpers/http.js'

test('parseAuthority strips the port and a trailing dot, rejects junk', () => {
  assert.equal(parseAuthority('API.Example.com:8080'), 'api.example.com')
  assert.equal(parseAuthority('example.com.'), 'example.com')
  assert.equal(parseAuthority('[::1]:80'), '[::1]')
  for (const bad of [
    '',
    'a b',
    'evil.com@good.com',
    'x:99999a',
    'localhost:99999',
    '..example.com',
    'a..example.com',
    '-a.example.com',
    '[::1',
    'host:',
    'a/b',
  ])
    assert.equal(parseAuthority(bad), null, bad)
})

test('host patterns: exact and one-or-more-label wildcards', () => {
  const m = compileHostMatcher(['api.example.com', '*.example.com', 'localhost'])
  assert.ok(m.matches('api.example.com') && m.matches('a.b.example.com') && m.matches('localhost'))
  assert.ok(!m.matches('example.com') && !m.matches('evilexample.com') && !m.matches('example.com.evil.org'))
  assert.throws(() => compileHostMatcher(['*']), TypeError)
})

describe('trusted hosts through the gateway', () => {
  let up: TestUpstream
  let gw: TestGateway
  before(async () => {
    up = await startUpstream()
    gw = await startGateway({ upstream: up.url, trusted_hosts: ['api.example.com', '*.example.com', 'localhost'] })
  })
  after(async () => {
    await gw.close()
    await up.close()
  })

  test('allowed hosts pass', async () => {
    for (const host of ['api.example.com', 'v2.example.com:8443', 'localhost']) {
      const r = await request(gw.url + '/ok', { headers: { host } })
      assert.equal(r.status, 200, host)
    }
  })

  test('a foreign, missing, repeated or malformed Host is 400 and never reaches the upstream', async () => {
    const before = up.seen.length
    const r = await request(gw.url + '/x', { headers: { host: 'evil.com' } })
    assert.equal(r.status, 400)
    assert.equal(r.json().code, 'DRAWBRIDGE_ERR_HOST_NOT_ALLOWED')
    assert.equal(r.headers['x-request-id'], r.json().request_id)
    const missing = await rawRequest(gw.url, 'GET /x HTTP/1.1\r\n\r\n')
    assert.equal(missing.status, 400)
    const http10 = await rawRequest(gw.url, 'GET /x HTTP/1.0\r\n\r\n')
    assert.equal(http10.status, 400)
    const twice = await rawRequest(gw.url, 'GET /x HTTP/1.1\r\nHost: localhost\r\nHost: evil.com\r\n\r\n')
    assert.equal(twice.status, 400)
    const junk = await rawRequest(gw.url, 'GET /x HTTP/1.1\r\nHost: evil.com@localhost\r\n\r\n')
    assert.equal(junk.status, 400)
    assert.equal(up.seen.length, before)
  })

  test('absolute-form targets are judged by their authority, not by Host', async () => {
    const before = up.seen.length
    const bad = await rawRequest(gw.url, 'GET http://evil.com/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
    assert.equal(bad.status, 400)
    assert.equal(up.seen.length, before)
    const noHost = await rawRequest(gw.url, 'GET http://api.example.com/x HTTP/1.1\r\nConnection: close\r\n\r\n')
    assert.equal(noHost.status, 400, 'HTTP/1.1 needs a Host header even with an absolute-form target')
    const good = await rawRequest(gw.url, 'GET http://api.example.com/x?y=1 HTTP/1.1\r\nHost: evil.com\r\nConnection: close\r\n\r\n')
    assert.equal(good.status, 200)
    const seen = up.seen.at(-1)!
    assert.equal(seen.url, '/x?y=1')
    assert.equal(seen.headers.host, 'api.example.com')
  })
})
