/**
 * The Redis parts of shared state against a real redis-server: login counters (the identity
 * conformance suite with the counters in Redis), locks, notices, counters shared by two
 * instances, and the outage/recovery behaviour the stages rely on.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { openSqlite } from '../../src/storage/sqlite/database.js'
import { sqliteIdentityStores } from '../../src/storage/sqlite/identity.js'
import { createRedis, connectRedis, type Redis } from '../../src/storage/redis/client.js'
import { RedisThrottleStore } from '../../src/storage/redis/throttle.js'
import { RedisNotices } from '../../src/storage/redis/notices.js'
import { createSharedState } from '../../src/storage/shared-state.js'
import type { SharedState } from '../../src/storage/types.js'
import { StorageUnavailable } from '../../src/errors.js'
import { testConfig } from '../helpers/gateway.js'
import { redisSkipReason, startRedis, type RedisServer } from '../helpers/redis.js'
import { identityConformance, sharedStateConformance } from './conformance.js'
import { selfSignedCert } from '../helpers/tls.js'

let server: RedisServer | null = null
const clients: Redis[] = []
const states: SharedState[] = []

before(async () => {
  server = await startRedis()
})
after(async () => {
  for (const s of states) await s.close()
  for (const c of clients) c.disconnect()
  await server?.close()
})

const redisConfig = (prefix: string) => ({ url: server!.url, key_prefix: prefix, connect_timeout: 1000, command_timeout: 500, tls: null })

async function client(prefix = 'x'): Promise<Redis> {
  const c = createRedis(redisConfig(prefix))
  clients.push(c)
  assert.equal(await connectRedis(c, 5000), true)
  return c
}

async function shared(prefix: string): Promise<SharedState> {
  const s = createSharedState(
    testConfig({ upstream: 'http://127.0.0.1:1', storage: { redis: { url: { from_env: 'REDIS_URL' }, key_prefix: prefix } } }, { REDIS_URL: server!.url }),
  )
  states.push(s)
  assert.equal(await s.connect(), true)
  return s
}

const prefix = () => `t${randomUUID().slice(0, 8)}:`
const eventually = async (check: () => boolean | Promise<boolean>, ms = 3000) => {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 20))
  }
  return true
}

identityConformance('sqlite + login counters in redis', async () => {
  if (server === null) throw new Error(redisSkipReason)
  const stores = sqliteIdentityStores(openSqlite(':memory:'), true)
  return { ...stores, throttle: new RedisThrottleStore(await client(), prefix()) }
})

sharedStateConformance('redis (two instances)', async () => {
  if (server === null) throw new Error(redisSkipReason)
  const p = prefix()
  return [await shared(p), await shared(p)] as const
})

describe('redis shared state', () => {
  test('login counters: concurrent failures from two connections are all counted', async (t) => {
    if (server === null) return t.skip(redisSkipReason)
    const p = prefix()
    const a = new RedisThrottleStore(await client(), p)
    const b = new RedisThrottleStore(await client(), p)
    const now = Date.now()
    const counts = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).fail('ip:1.2.3.4', now, 60_000)))
    assert.deepEqual(
      counts.map((c) => c.count).sort((x, y) => x - y),
      Array.from({ length: 40 }, (_, i) => i + 1),
    )
    assert.equal((await b.get('ip:1.2.3.4', now)).count, 40)
    // The record expires with its window: nothing is kept for ever.
    const ttl = await clients.at(-1)!.pttl(`${p}login:ip:1.2.3.4`)
    assert.ok(ttl > 50_000 && ttl <= 60_000, String(ttl))
  })

  test('notices: heard once on every instance; retained ones reach an instance that starts later', async (t) => {
    if (server === null) return t.skip(redisSkipReason)
    const p = prefix()
    const a = new RedisNotices(await client(), p)
    const b = new RedisNotices(await client(), p)
    const heardA: string[] = []
    const heardB: string[] = []
    a.subscribe('ban', (m) => heardA.push(m))
    b.subscribe('ban', (m) => heardB.push(m))
    b.subscribe('other', () => heardB.push('wrong channel'))
    assert.deepEqual([await a.listening(3000), await b.listening(3000)], [true, true])
    a.publish('ban', '10.0.0.1', Date.now() + 60_000)
    a.publish('ban', '10.0.0.2')
    assert.ok(await eventually(() => heardB.length === 2), heardB.join())
    assert.deepEqual(heardA, ['10.0.0.1', '10.0.0.2'])
    assert.deepEqual(heardB, ['10.0.0.1', '10.0.0.2'])
    const c = new RedisNotices(await client(), p)
    const heardC: string[] = []
    c.subscribe('ban', (m) => heardC.push(m))
    assert.ok(await eventually(() => heardC.length > 0))
    await new Promise((r) => setTimeout(r, 100))
    // The retained one only (it may come twice: subscribers are idempotent).
    assert.deepEqual([...new Set(heardC)], ['10.0.0.1'])
    await Promise.all([a.close(), b.close(), c.close()])
  })

  test('Redis down: a counter answers with a store error, not "over the limit", login counters with StorageUnavailable; back: counting resumes', async (t) => {
    if (server === null) return t.skip(redisSkipReason)
    const p = prefix()
    const a = await shared(p)
    assert.equal(a.kind, 'redis')
    const la = a.limiter({ name: 'login', points: 5, seconds: 60 })
    assert.equal(
      await la.consume('5.6.7.8').then(
        (r) => (r.allowed ? 'ok' : 'over'),
        () => 'error',
      ),
      'ok',
    )

    await server.stop()
    const down = await la.consume('5.6.7.8').then(
      (r) => (r.allowed ? 'ok' : 'over'),
      (e: unknown) => (e instanceof StorageUnavailable && e.store === 'redis' ? 'unavailable' : 'error'),
    )
    assert.equal(down, 'unavailable')
    await assert.rejects(new RedisThrottleStore(await clientWithoutWait(p), p).get('k', Date.now()), StorageUnavailable)
    assert.equal((await a.probe())?.ok, false)
    await server.start()
    assert.ok(await eventually(async () => (await a.probe())?.ok === true, 8000), 'reconnected')
    assert.equal(
      await la.consume('5.6.7.8').then(
        (r) => (r.allowed ? 'ok' : 'over'),
        () => 'error',
      ),
      'ok',
    )
  })
})

describe('redis started late', () => {
  test('an instance started while Redis is down subscribes once it is up, hears notices, and writes the retained ones it published meanwhile', async (t) => {
    if (server === null) return t.skip(redisSkipReason)
    const late = await startRedis()
    try {
      await late!.stop()
      const settings = (connectTimeout: string) =>
        testConfig(
          { upstream: 'http://127.0.0.1:1', storage: { redis: { url: { from_env: 'REDIS_URL' }, key_prefix: 'late:', connect_timeout: connectTimeout } } },
          { REDIS_URL: late!.url },
        )
      // A gives up waiting quickly (Redis is down); B and C wait as long as a normal start-up.
      const a = createSharedState(settings('300ms'))
      const config = settings('5s')
      states.push(a)
      assert.equal(await a.connect(), false)
      const heard: string[] = []
      a.notices.subscribe('bans', (m) => heard.push(m))
      // Published during the outage: delivered here at once, written to Redis when it is back.
      a.notices.publish('bans', 'during-outage', Date.now() + 60_000)
      assert.equal((await a.probe())?.ok, false)
      await late!.start()
      assert.ok(await eventually(async () => (await a.probe())?.ok === true, 10_000), 'subscribed after Redis came up')
      const b = createSharedState(config)
      states.push(b)
      assert.equal(await b.connect(), true)
      b.notices.publish('bans', 'after', Date.now() + 60_000)
      assert.ok(await eventually(() => heard.includes('after'), 8000), heard.join())
      const heardC: string[] = []
      const c = createSharedState(config)
      states.push(c)
      c.notices.subscribe('bans', (m) => heardC.push(m))
      assert.equal(await c.connect(), true)
      assert.ok(await eventually(() => heardC.includes('during-outage') && heardC.includes('after'), 8000), heardC.join())
    } finally {
      await late?.close()
    }
  })
})

describe('redis over TLS', () => {
  test('require encrypts; verify-full checks the certificate against ca_file; a plain client or a wrong CA is refused', async (t) => {
    if (server === null) return t.skip(redisSkipReason)
    const good = selfSignedCert()
    const other = selfSignedCert()
    const tlsServer = await startRedis({ tls: good })
    try {
      const plainUrl = `redis://127.0.0.1:${tlsServer!.port}`
      const attempt = async (url: string, tls: { mode: 'disable' | 'require' | 'verify-full'; ca_file: string | null } | null) => {
        const c = createRedis({
          url,
          key_prefix: 'tls:',
          connect_timeout: 1000,
          command_timeout: 500,
          tls: tls === null ? null : { ...tls, cert_file: null, key_file: null },
        })
        clients.push(c)
        const ok = await connectRedis(c, 1500)
        c.disconnect()
        return ok
      }
      assert.equal(await attempt(plainUrl, { mode: 'require', ca_file: null }), true)
      assert.equal(await attempt(plainUrl, { mode: 'verify-full', ca_file: good.cert }), true)
      assert.equal(await attempt(tlsServer!.url, { mode: 'verify-full', ca_file: good.cert }), true)
      assert.equal(await attempt(plainUrl, { mode: 'verify-full', ca_file: other.cert }), false)
      // rediss:// without settings verifies against the system CAs: a self-signed server is refused.
      assert.equal(await attempt(tlsServer!.url, null), false)
      assert.equal(await attempt(plainUrl, null), false)
    } finally {
      await tlsServer?.close()
    }
  })
})

/** A client that does not wait for its connection (Redis is down). */
async function clientWithoutWait(p: string): Promise<Redis> {
  const c = createRedis(redisConfig(p))
  clients.push(c)
  void connectRedis(c, 10)
  return c
}
