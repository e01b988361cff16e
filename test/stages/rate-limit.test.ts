/** Rate limits through the real gateway: over the limit 429 (never forwarded), under it the RateLimit fields. */
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { request } from '../helpers/http.js'
import { startGateway } from '../helpers/gateway.js'
import { startAuthGateway } from '../helpers/auth.js'
import { parseLimit } from '../../src/stages/rate-limit/index.js'

describe('rate limits', () => {
  test('limits parse as N/unit', () => {
    assert.deepEqual(parseLimit('5/minute'), { limit: 5, seconds: 60 })
    assert.deepEqual(parseLimit('100 / second'), { limit: 100, seconds: 1 })
    assert.equal(parseLimit('0/minute'), null)
    assert.equal(parseLimit('5/fortnight'), null)
  })

  test('the login limit: the 6th POST /auth/login in a minute from one IP gets 429 with Retry-After and RateLimit fields', async () => {
    const up = await startUpstream()
    const gw = await startAuthGateway({
      upstream: up.url,
      rate_limits: [{ name: 'login', match: { path: '/auth/login', methods: ['POST'] }, key: 'ip', limit: '5/minute' }],
    })
    try {
      const login = (i: number) =>
        request(`${gw.url}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: `user${i}`, password: 'not the right one' }),
        })
      for (let i = 0; i < 5; i++) {
        const r = await login(i)
        assert.equal(r.status, 401)
        assert.equal(r.headers['ratelimit-policy'], '"login";q=5;w=60')
        assert.equal(r.headers['ratelimit'], `"login";r=${4 - i};t=60`)
      }
      const sixth = await login(5)
      assert.equal(sixth.status, 429)
      assert.equal(sixth.json().code, 'DRAWBRIDGE_ERR_RATE_LIMITED')
      const retry = Number(sixth.headers['retry-after'])
      assert.ok(retry >= 1 && retry <= 60)
      assert.match(String(sixth.headers['ratelimit']), /^"login";r=0;t=\d+$/)
      // Other routes and methods are not counted by this rule.
      assert.equal((await request(`${gw.url}/.well-known/jwks.json`)).status, 200)
      const metrics = gw.gateway.metrics.snapshot()
      assert.ok(JSON.stringify(metrics).includes('rate_limit'))
    } finally {
      await gw.close()
      await up.close()
    }
  })

  test('per user: each signed-in user has an own count; anonymous requests are not counted by a user rule', async () => {
    const up = await startUpstream()
    const gw = await startAuthGateway(
      { upstream: up.url, rate_limits: [{ key: 'user', limit: '3/minute' }] },
      { policies: [{ match: { path: '/public' }, access: 'public' }] },
    )
    try {
      const pw = 'correct horse battery staple'
      await gw.identity.register('alice', null, pw, [])
      await gw.identity.register('bob', null, pw, [])
      const token = async (u: string) =>
        (
          await request(`${gw.url}/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username: u, password: pw }),
          })
        ).json().access_token
      const a = await token('alice')
      const b = await token('bob')
      for (let i = 0; i < 3; i++) assert.equal((await request(`${gw.url}/x`, { headers: { authorization: `Bearer ${a}` } })).status, 200)
      const before = up.seen.length
      assert.equal((await request(`${gw.url}/x`, { headers: { authorization: `Bearer ${a}` } })).status, 429)
      assert.equal(up.seen.length, before)
      assert.equal((await request(`${gw.url}/x`, { headers: { authorization: `Bearer ${b}` } })).status, 200)
      for (let i = 0; i < 5; i++) assert.equal((await request(`${gw.url}/public`)).status, 200)
    } finally {
      await gw.close()
      await up.close()
    }
  })

  test('a rule on GET counts HEAD too (HEAD runs the GET handler and escaped the limit)', async () => {
    const up = await startUpstream()
    const gw = await startGateway({
      upstream: up.url,
      rate_limits: [{ name: 'reports', key: 'ip', limit: '2/minute', match: { path: '/reports', methods: ['GET'] } }],
    })
    try {
      assert.equal((await request(`${gw.url}/reports`, { method: 'HEAD' })).status, 200)
      assert.equal((await request(`${gw.url}/reports`)).status, 200)
      assert.equal((await request(`${gw.url}/reports`, { method: 'HEAD' })).status, 429)
      assert.equal((await request(`${gw.url}/reports`)).status, 429)
      // Methods the rule does not name are not counted.
      assert.equal((await request(`${gw.url}/reports`, { method: 'POST', body: '{}' })).status, 200)
    } finally {
      await gw.close()
      await up.close()
    }
  })

  test('burst: up to `burst` at once, then 429; the strictest rule answers; a header key counts per value', async () => {
    const up = await startUpstream()
    const gw = await startGateway({ upstream: up.url, rate_limits: [{ name: 'per-ip', key: 'ip', limit: '2/second', burst: 4 }] })
    const tenants = await startGateway({
      upstream: up.url,
      rate_limits: [
        { name: 'per-ip', key: 'ip', limit: '100/second' },
        { name: 'tenant', key: { header: 'X-Tenant' }, limit: '1/minute', headers: false },
      ],
    })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 5; i++) statuses.push((await request(`${gw.url}/x`)).status)
      assert.deepEqual(statuses, [200, 200, 200, 200, 429])
      await new Promise((r) => setTimeout(r, 1100))
      const next = await request(`${gw.url}/x`)
      assert.equal(next.status, 200)
      assert.match(String(next.headers['ratelimit-policy']), /^"per-ip";q=4;w=1$/)
      const t1 = await request(`${tenants.url}/x`, { headers: { 'x-tenant': 'acme' } })
      assert.equal(t1.status, 200)
      // Only the per-ip rule shows its fields (the tenant rule has headers: false).
      assert.equal(t1.headers['ratelimit-policy'], '"per-ip";q=100;w=1')
      const t2 = await request(`${tenants.url}/x`, { headers: { 'x-tenant': 'acme' } })
      assert.equal(t2.status, 429)
      assert.ok(Number(t2.headers['retry-after']) > 30)
      assert.equal((await request(`${tenants.url}/x`, { headers: { 'x-tenant': 'globex' } })).status, 200)
    } finally {
      await tenants.close()
      await gw.close()
      await up.close()
    }
  })

  test('config: a malformed limit or path is reported with its path', async () => {
    const { loadConfig } = await import('../../src/config/load.js')
    assert.throws(
      () =>
        loadConfig({
          object: {
            upstream: 'http://127.0.0.1:1',
            rate_limits: [
              { key: 'ip', limit: '5 per minute' },
              { key: 'nobody', limit: '1/second' },
            ],
          },
          env: {},
        }),
      (e: { issues?: { path: string }[] }) => {
        const paths = (e.issues ?? []).map((i) => i.path)
        return paths.includes('/rate_limits/0/limit') && paths.includes('/rate_limits/1/key')
      },
    )
    // Names name the shared counters: a repeated one (also an explicit "rule_0" next to an unnamed first rule) is refused.
    assert.throws(
      () =>
        loadConfig({
          object: {
            upstream: 'http://127.0.0.1:1',
            rate_limits: [
              { key: 'ip', limit: '5/minute' },
              { name: 'rule_0', key: 'user', limit: '5/minute' },
            ],
          },
          env: {},
        }),
      (e: { issues?: { path: string }[] }) => (e.issues ?? []).some((i) => i.path === '/rate_limits/1/name'),
    )
  })

  test('per IP: an IPv6 client is counted by its /64, so rotating addresses does not reset its count', async () => {
    const up = await startUpstream()
    const gw = await startGateway({ upstream: up.url, trusted_proxies: ['127.0.0.1/32'], rate_limits: [{ key: 'ip', limit: '2/minute' }] })
    try {
      const from = (ip: string) => request(`${gw.url}/x`, { headers: { 'x-forwarded-for': ip } })
      assert.deepEqual(
        [(await from('2001:db8:5:5::1')).status, (await from('2001:db8:5:5::2')).status, (await from('2001:db8:5:5:ffff::3')).status],
        [200, 200, 429],
      )
      assert.equal((await from('2001:db8:5:6::1')).status, 200)
      assert.equal((await from('198.51.100.1')).status, 200)
    } finally {
      await gw.close()
      await up.close()
    }
  })
})
