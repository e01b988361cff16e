/**
 * The Redis parts of shared state against a real redis-server: login counters (the identity
 * conformance suite with the counters in Redis), locks, notices, counters shared by two
 * instances, and the outage/recovery behaviour the stages rely on.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { RateLimiterRes } from 'rate-limiter-flexible'
import { openSqlite } from '../../src/storage/sqlite/database.js'
import { sqliteIdentityStores } from '../../src/storage/sqlite/identity.js'
import { createRedis, connectRedis, type Redis } from '../../src/storage/redis/client.js'
import { RedisThrottleStore } from '../../src/storage/redis/throttle.js'
import { RedisLocks } from '../../src/storage/redis/locks.js'
import { RedisNotices } from '../../src/storage/redis/notices.js'
import { createSharedState, type SharedState } from '../../src/storage/shared-state.js'
import { StorageUnavailable } from '../../src/errors.js'
import { testConfig } from '../helpers/gateway.js'
import { redisSkipReason, startRedis, type RedisServer } from '../helpers/redis.js'
import { identityConformance } from './conformance.js'

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
  const s = createSharedState(testConfig({ upstream: 'http://127.0.0.1:1', storage: { redis: { url: { from_env: 'REDIS_URL' }, key_prefix: prefix } } }, { REDIS_URL: server!.url }))
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

describe('redis shared state', () => {
  test('login counters: concurrent failures from two connections are all counted', async (t) => {
    if (server === null) return t.skip(redisSkipReason)
    const p = prefix()
    const a = new RedisThrottleStore(await client(), p)
    const b = new RedisThrottleStore(await client(), p)
    const now = Date.now()
    const counts = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).fail('ip:1.2.3.4', now, 60_000)))
    assert.deepEqual(counts.map((c) => c.count).sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i + 1))
    assert.equal((await b.get('ip:1.2.3.4', now)).count, 40)
    // The record expires with its window: nothing is kept for ever.
    const ttl = await clients.at(-1)!.pttl(`${p}login:ip:1.2.3.4`)
    assert.ok(ttl > 50_000 && ttl <= 60_000, String(ttl))
  })

  test('locks: callers of one name on two connections run one after the other; other names do not wait', async (t) => {
    if (server === null) return t.skip(redisSkipReason)
    const p = prefix()
    const a = new RedisLocks(await client(), p)
    const b = new RedisLocks(await client(), p)
    const order: string[] = []
    const job = (who: string, ms: number) => async () => {
      order.push(`${who}+`)
      await new Promise((r) => setTimeout(r, ms))
      order.push(`${who}-`)
      return who
    }
    const first = a.withLock('refresh:h1', 2000, job('a', 150))
    await new Promise((r) => setTimeout(r, 20))
    const second = b.withLock('refresh:h1', 2000, job('b', 10))
    const other = b.withLock('refresh:h2', 2000, job('c', 10))
    assert.deepEqual(await Promise.all([first, second, other]), ['a', 'b', 'c'])
    assert.ok(order.indexOf('a-') < order.indexOf('b+'), order.join(' '))
    assert.ok(order.indexOf('c-') < order.indexOf('a-'), order.join(' '))
    // Released: nothing left behind.
    assert.equal(await clients.at(-1)!.exists(`${p}lock:refresh:h1`), 0)
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

  test('counters: two instances count into one limit; Redis down is a store error, not "over the limit"; back: counting resumes', async (t) => {
    if (server === null) return t.skip(redisSkipReason)
    const p = prefix()
    const [a, b] = [await shared(p), await shared(p)]
    assert.equal(a.kind, 'redis')
    const la = a.limiter({ name: 'login', points: 5, seconds: 60 })
    const lb = b.limiter({ name: 'login', points: 5, seconds: 60 })
    assert.equal(a.limiter({ name: 'login', points: 5, seconds: 60 }), la)
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? la : lb).consume('1.2.3.4').then(() => 'ok', (e: unknown) => (e instanceof RateLimiterRes ? 'over' : 'error'))))
    assert.equal(outcomes.filter((o) => o === 'ok').length, 5)
    assert.equal(outcomes.filter((o) => o === 'over').length, 3)

    await server!.stop()
    const down = await la.consume('5.6.7.8').then(() => 'ok', (e: unknown) => (e instanceof RateLimiterRes ? 'over' : 'error'))
    assert.equal(down, 'error')
    await assert.rejects(new RedisThrottleStore(await clientWithoutWait(p), p).get('k', Date.now()), StorageUnavailable)
    assert.deepEqual(await a.probe(), { ok: false, error: (await a.probe())?.error })
    await server!.start()
    assert.ok(await eventually(async () => (await a.probe())?.ok === true, 8000), 'reconnected')
    assert.equal(await la.consume('5.6.7.8').then(() => 'ok', () => 'error'), 'ok')
  })
})

/** A client that does not wait for its connection (Redis is down). */
async function clientWithoutWait(p: string): Promise<Redis> {
  const c = createRedis(redisConfig(p))
  clients.push(c)
  void connectRedis(c, 10)
  return c
}
