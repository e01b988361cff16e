/**
 * Rate limits and auth on a real Redis, through real gateways: two gateways count into
 * one limit; with Redis stopped, login routes are denied (503), other routes follow
 * `on_store_error: allow`, refreshes and logins fail closed, every decision is counted and
 * logged, /readyz says so; with Redis back everything works again without a restart.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { request } from '../helpers/http.js'
import { startAuthGateway, type AuthGateway } from '../helpers/auth.js'
import { redisSkipReason, startRedis, type RedisServer } from '../helpers/redis.js'

let redis: RedisServer | null = null
let up: TestUpstream
const dir = mkdtempSync(join(tmpdir(), 'drawbridge-rl-redis-'))
before(async () => {
  redis = await startRedis()
  up = await startUpstream()
})
after(async () => {
  await up.close()
  await redis?.close()
  rmSync(dir, { recursive: true, force: true })
})

const pw = 'correct horse battery staple'
const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

async function gateway(prefix: string, rateLimits: unknown[]): Promise<AuthGateway> {
  return startAuthGateway(
    {
      upstream: up.url,
      rate_limits: rateLimits,
      storage: { memory: false, sqlite: { path: join(dir, `${prefix}db`) }, redis: { url: { from_env: 'REDIS_URL' }, key_prefix: prefix } },
    },
    { policies: [{ match: { path: '/open' }, access: 'public' }], default_policy: 'public' },
    undefined,
    { REDIS_URL: redis!.url },
  )
}

const waitFor = async (check: () => Promise<boolean>, ms: number) => {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 50))
  }
  return true
}

describe('rate limits and auth on Redis', () => {
  test('two gateways on one Redis: the 6th login attempt in a minute fails whichever gateway it hits', async (t) => {
    if (redis === null) return t.skip(redisSkipReason)
    const prefix = `t${randomUUID().slice(0, 8)}:`
    const rules = [{ name: 'login', match: { path: '/auth/login', methods: ['POST'] }, key: 'ip', limit: '5/minute' }]
    const [a, b] = [await gateway(prefix, rules), await gateway(prefix, rules)]
    try {
      const statuses: number[] = []
      for (let i = 0; i < 6; i++)
        statuses.push((await request(`${(i % 2 === 0 ? a : b).url}/auth/login`, json({ username: `u${i}`, password: 'nope nope nope' }))).status)
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429])
      assert.equal((await request(`${a.url}/auth/login`, json({ username: 'x', password: 'nope nope nope' }))).status, 429)
    } finally {
      await a.close()
      await b.close()
    }
  })

  test('Redis down: login denied, other routes allowed, refresh and login fail closed, decisions counted and logged; Redis back: recovered', async (t) => {
    if (redis === null) return t.skip(redisSkipReason)
    const prefix = `t${randomUUID().slice(0, 8)}:`
    const limited = await gateway(prefix, [
      { name: 'login', match: { path: '/auth/login', methods: ['POST'] }, key: 'ip', limit: '5/minute' },
      { name: 'all', key: 'ip', limit: '100/second' },
    ])
    // No login rule here: what the login itself needs from Redis (failed-login counters).
    const plain = await gateway(prefix, [])
    try {
      await limited.identity.register('alice', null, pw, [])
      const session = (await request(`${limited.url}/auth/login`, json({ username: 'alice', password: pw }))).json()
      assert.ok(session.refresh_token)
      assert.equal((await request(`${limited.url}/open`)).headers['ratelimit-policy'], '"all";q=100;w=1')

      await redis.stop()
      const open = await request(`${limited.url}/open`)
      assert.equal(open.status, 200)
      assert.equal(open.headers['ratelimit'], undefined)
      const login = await request(`${limited.url}/auth/login`, json({ username: 'alice', password: pw }))
      assert.equal(login.status, 503)
      assert.equal(login.json().code, 'DRAWBRIDGE_ERR_STORE_UNAVAILABLE')
      assert.ok(login.json().request_id)
      // No refresh without its single-flight lock (and so without reuse detection in order).
      const refresh = await request(`${limited.url}/auth/refresh`, json({ refresh_token: session.refresh_token }))
      assert.equal(refresh.status, 503)
      assert.equal(refresh.json().code, 'DRAWBRIDGE_ERR_STORE_UNAVAILABLE')
      // Without a rate-limit rule the login still cannot count failures: refused, not let through.
      const unlimited = await request(`${plain.url}/auth/login`, json({ username: 'alice', password: 'a wrong password' }))
      assert.equal(unlimited.status, 503)
      const ready = await request(`${limited.adminUrl}/readyz`)
      assert.equal(ready.status, 503)
      assert.equal(ready.json().checks.redis.ok, false)
      const metrics = (await request(`${limited.adminUrl}/metrics`)).text
      assert.match(metrics, /drawbridge_store_errors_total\{store="redis",operation="rate_limit:login",decision="deny"\} [1-9]/)
      assert.match(metrics, /drawbridge_store_errors_total\{store="redis",operation="rate_limit:all",decision="allow"\} [1-9]/)
      // The refresh refused for want of its lock is a counted decision too.
      assert.match(metrics, /drawbridge_store_errors_total\{store="redis",operation="request:auth",decision="deny"\} [1-9]/)
      assert.ok(limited.logs().some((l) => l.msg === 'store unavailable: decided without it' && l.store === 'redis'))

      await redis.start()
      assert.ok(await waitFor(async () => (await request(`${limited.adminUrl}/readyz`)).status === 200, 10_000), 'ready again')
      const back = await request(`${limited.url}/auth/login`, json({ username: 'alice', password: pw }))
      assert.equal(back.status, 200)
      assert.equal((await request(`${limited.url}/auth/refresh`, json({ refresh_token: back.json().refresh_token }))).status, 200)
      assert.equal((await request(`${limited.url}/open`)).headers['ratelimit-policy'], '"all";q=100;w=1')
      assert.equal((await request(`${plain.url}/auth/login`, json({ username: 'alice', password: pw }))).status, 200)
    } finally {
      await limited.close()
      await plain.close()
    }
  })
  test('a client that leaves while its rate limit is looked up is not forwarded (the request reached the app after the client was gone)', async (t) => {
    if (redis === null) return t.skip(redisSkipReason)
    const prefix = `t${randomUUID().slice(0, 8)}:`
    const gw = await gateway(prefix, [{ name: 'all', match: { path: '/left' }, key: 'ip', limit: '100/minute' }])
    try {
      assert.equal((await request(`${gw.url}/left/warm`)).status, 200)
      redis.pause()
      const socket = connect(Number(new URL(gw.url).port), '127.0.0.1')
      await once(socket, 'connect')
      socket.write('GET /left/gone HTTP/1.1\r\nHost: localhost\r\n\r\n')
      // The request waits in the rate-limit stage for the frozen Redis; then the client goes away.
      await new Promise((r) => setTimeout(r, 150))
      socket.destroy()
      await new Promise((r) => setTimeout(r, 100))
      redis.resume()
      assert.equal((await request(`${gw.url}/left/after`)).status, 200)
      const paths = up.seen.map((s) => s.url)
      assert.ok(paths.includes('/left/after'))
      assert.ok(!paths.includes('/left/gone'), 'the abandoned request was forwarded')
    } finally {
      redis.resume()
      await gw.close()
    }
  })
})
