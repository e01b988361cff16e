/**
 * Failed-login limits (src/identity/brute-force.ts) on the real SQLite throttle store, with the
 * movable clock: per account and per client key (an IPv6 client by its /64), the growing delay,
 * the lock, and what resets the count.
 */
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BruteForce, type BruteForceSettings } from '../../src/identity/brute-force.js'
import { openSqlite } from '../../src/storage/sqlite/database.js'
import { sqliteIdentityStores } from '../../src/storage/sqlite/identity.js'
import type { IdentityStores } from '../../src/storage/types.js'
import { memoryStores, minute, second, testClock, type TestClock } from './support.js'

/** The configuration defaults. */
const defaults: BruteForceSettings = {
  max_failures_per_account: 5,
  max_failures_per_ip: 20,
  window: 15 * minute,
  lock_duration: 15 * minute,
  base_delay: second,
  max_delay: 30 * second,
}

interface Kit {
  readonly bf: BruteForce
  readonly clock: TestClock
  readonly stores: IdentityStores
}

function kit(settings: Partial<BruteForceSettings> = {}, stores = memoryStores()): Kit {
  const clock = testClock()
  return { bf: new BruteForce(stores.throttle, { ...defaults, ...settings }, clock), clock, stores }
}

/** Fails `n` times, waiting out any delay in between as a patient client would; returns the last answer. */
async function failTimes(k: Kit, n: number, username: string, ip: string | ((i: number) => string)): Promise<{ locked: boolean }> {
  let last = { locked: false }
  for (let i = 0; i < n; i++) {
    const until = await k.bf.lockedUntil(username, typeof ip === 'string' ? ip : ip(i))
    if (until !== null && until - k.clock() <= defaults.max_delay) k.clock.now = until
    last = await k.bf.failed(username, typeof ip === 'string' ? ip : ip(i))
  }
  return last
}

describe('brute force', () => {
  test('per account: from the third failure a growing wait, at the maximum a lock, from any address', async () => {
    const k = kit()
    try {
      const ip = (i: number) => `192.0.2.${i + 1}`
      assert.deepEqual(await failTimes(k, 2, 'alice', ip), { locked: false })
      assert.equal(await k.bf.lockedUntil('alice', '198.51.100.1'), null)
      assert.deepEqual(await k.bf.failed('alice', '192.0.2.3'), { locked: false })
      assert.equal(await k.bf.lockedUntil('alice', '198.51.100.1'), k.clock() + second)
      k.clock.advance(second)
      assert.equal(await k.bf.lockedUntil('alice', '198.51.100.1'), null)
      assert.deepEqual(await k.bf.failed('alice', '192.0.2.4'), { locked: false })
      assert.equal(await k.bf.lockedUntil('alice', '198.51.100.1'), k.clock() + 2 * second)
      k.clock.advance(2 * second)
      assert.deepEqual(await k.bf.failed('alice', '192.0.2.5'), { locked: true })
      const until = k.clock() + defaults.lock_duration
      assert.equal(await k.bf.lockedUntil('alice', '198.51.100.1'), until)
      assert.equal(await k.bf.lockedUntil('alice', '2001:db8::1'), until)
      k.clock.advance(defaults.lock_duration - 1)
      assert.equal(await k.bf.lockedUntil('alice', '198.51.100.1'), until)
      k.clock.advance(1)
      assert.equal(await k.bf.lockedUntil('alice', '198.51.100.1'), null)
    } finally {
      await k.stores.close()
    }
  })

  test('the wait doubles from base_delay and stops growing at max_delay', async () => {
    const k = kit({ max_failures_per_account: 50 })
    try {
      const waits: number[] = []
      for (let i = 1; i <= 10; i++) {
        await k.bf.failed('alice', '192.0.2.1')
        const until = await k.bf.lockedUntil('alice', '192.0.2.1')
        waits.push(until === null ? 0 : until - k.clock())
        if (until !== null) k.clock.now = until
      }
      assert.deepEqual(
        waits,
        [0, 0, 1, 2, 4, 8, 16, 30, 30, 30].map((s) => s * second),
      )
    } finally {
      await k.stores.close()
    }
  })

  test('usernames are counted case-insensitively', async () => {
    const k = kit()
    try {
      assert.equal(BruteForce.accountKey('Alice'), BruteForce.accountKey('ALICE'))
      await failTimes(k, 4, 'Alice', '192.0.2.1')
      assert.deepEqual(await k.bf.failed('aLiCe', '192.0.2.1'), { locked: true })
      assert.equal(await k.bf.lockedUntil('alice', '192.0.2.99'), k.clock() + defaults.lock_duration)
    } finally {
      await k.stores.close()
    }
  })

  test('per client IP: a spray over many usernames locks the address for every username', async () => {
    const k = kit({ max_failures_per_ip: 4 })
    try {
      for (let i = 0; i < 3; i++) assert.deepEqual(await k.bf.failed(`user${i}`, '203.0.113.9'), { locked: false })
      assert.equal(await k.bf.lockedUntil('someone', '203.0.113.9'), null)
      assert.deepEqual(await k.bf.failed('user3', '203.0.113.9'), { locked: true })
      assert.equal(await k.bf.lockedUntil('someone', '203.0.113.9'), k.clock() + defaults.lock_duration)
      assert.equal(await k.bf.lockedUntil('someone', '::ffff:203.0.113.9'), k.clock() + defaults.lock_duration)
      // The sprayed accounts themselves have one failure each: they are not locked elsewhere.
      assert.equal(await k.bf.lockedUntil('user0', '203.0.113.10'), null)
      assert.equal(await k.bf.lockedUntil('someone', '203.0.113.10'), null)
    } finally {
      await k.stores.close()
    }
  })

  test('an IPv6 client is counted by its /64: rotating addresses inside it does not help', async () => {
    const k = kit({ max_failures_per_ip: 3 })
    try {
      assert.equal(BruteForce.ipKey('2001:db8:1:2::1'), BruteForce.ipKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'))
      assert.notEqual(BruteForce.ipKey('2001:db8:1:2::1'), BruteForce.ipKey('2001:db8:1:3::1'))
      assert.equal(BruteForce.ipKey('::ffff:192.0.2.1'), BruteForce.ipKey('192.0.2.1'))
      assert.deepEqual(await k.bf.failed('a', '2001:db8:1:2::1'), { locked: false })
      assert.deepEqual(await k.bf.failed('b', '2001:db8:1:2:ffff::2'), { locked: false })
      assert.deepEqual(await k.bf.failed('c', '2001:0db8:0001:0002:1234:5678:9abc:def0'), { locked: true })
      assert.equal(await k.bf.lockedUntil('d', '2001:db8:1:2:9::9'), k.clock() + defaults.lock_duration)
      // The neighbouring /64 is another subscriber.
      assert.equal(await k.bf.lockedUntil('d', '2001:db8:1:3::1'), null)
    } finally {
      await k.stores.close()
    }
  })

  test('IPv4 addresses are counted one by one', async () => {
    const k = kit({ max_failures_per_ip: 2 })
    try {
      await k.bf.failed('a', '192.0.2.1')
      await k.bf.failed('b', '192.0.2.2')
      assert.equal(await k.bf.lockedUntil('c', '192.0.2.1'), null)
      assert.equal(await k.bf.lockedUntil('c', '192.0.2.2'), null)
      assert.deepEqual(await k.bf.failed('c', '192.0.2.1'), { locked: true })
      assert.notEqual(await k.bf.lockedUntil('c', '192.0.2.1'), null)
      assert.equal(await k.bf.lockedUntil('c', '192.0.2.2'), null)
    } finally {
      await k.stores.close()
    }
  })

  test('keys are independent: a locked account does not lock another account, nor its address for others', async () => {
    const k = kit()
    try {
      await failTimes(k, 5, 'alice', '192.0.2.1')
      assert.notEqual(await k.bf.lockedUntil('alice', '192.0.2.1'), null)
      assert.equal(await k.bf.lockedUntil('bob', '192.0.2.1'), null)
      await k.bf.failed('bob', '192.0.2.1')
      await k.bf.failed('bob', '192.0.2.1')
      assert.equal(await k.bf.lockedUntil('bob', '192.0.2.1'), null)
    } finally {
      await k.stores.close()
    }
  })

  test("a good login forgets the account's failures, not the address's", async () => {
    const k = kit({ max_failures_per_ip: 6 })
    try {
      await failTimes(k, 4, 'alice', '192.0.2.1')
      assert.notEqual(await k.bf.lockedUntil('alice', '192.0.2.2'), null)
      await k.bf.succeeded('alice')
      assert.equal(await k.bf.lockedUntil('alice', '192.0.2.2'), null)
      // Counting starts over: two more failures are only the first and second.
      await k.bf.failed('alice', '192.0.2.2')
      await k.bf.failed('alice', '192.0.2.2')
      assert.equal(await k.bf.lockedUntil('alice', '192.0.2.2'), null)
      // The address kept its four failures: two more reach its maximum of six.
      await k.bf.failed('bob', '192.0.2.1')
      assert.equal(await k.bf.lockedUntil('carol', '192.0.2.1'), null)
      assert.deepEqual(await k.bf.failed('carol', '192.0.2.1'), { locked: true })
      assert.notEqual(await k.bf.lockedUntil('dave', '192.0.2.1'), null)
    } finally {
      await k.stores.close()
    }
  })

  test('failures older than the window are forgotten', async () => {
    const k = kit({ max_failures_per_ip: 6 })
    try {
      await failTimes(k, 4, 'alice', '192.0.2.1')
      k.clock.advance(defaults.window)
      // Without the window these would be the fifth and sixth failures: account and address locked.
      assert.deepEqual(await k.bf.failed('alice', '192.0.2.1'), { locked: false })
      assert.deepEqual(await k.bf.failed('alice', '192.0.2.1'), { locked: false })
      assert.equal(await k.bf.lockedUntil('alice', '192.0.2.1'), null)
      // Within the window they add up: the third failure of the new window waits again.
      assert.deepEqual(await k.bf.failed('alice', '192.0.2.1'), { locked: false })
      assert.equal(await k.bf.lockedUntil('alice', '192.0.2.1'), k.clock() + second)
    } finally {
      await k.stores.close()
    }
  })

  test('a lock longer than the window is kept when a new window starts', async () => {
    const k = kit({ window: 5 * minute, lock_duration: 30 * minute })
    try {
      await failTimes(k, 5, 'alice', '192.0.2.1')
      const until = await k.bf.lockedUntil('alice', '192.0.2.1')
      assert.equal(until, k.clock() + 30 * minute)
      k.clock.advance(10 * minute)
      await k.bf.failed('alice', '192.0.2.1')
      assert.equal(await k.bf.lockedUntil('alice', '192.0.2.1'), until)
    } finally {
      await k.stores.close()
    }
  })

  test('a failure after a lock ran out, still within the window, locks again at once', async () => {
    const k = kit({ window: 60 * minute, lock_duration: 15 * minute })
    try {
      await failTimes(k, 5, 'alice', '192.0.2.1')
      k.clock.advance(15 * minute)
      assert.equal(await k.bf.lockedUntil('alice', '192.0.2.1'), null)
      await k.bf.failed('alice', '192.0.2.1')
      assert.equal(await k.bf.lockedUntil('alice', '192.0.2.1'), k.clock() + 15 * minute)
    } finally {
      await k.stores.close()
    }
  })

  test('counts live in the store: instances sharing a SQLite file share them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drawbridge-bruteforce-'))
    const path = join(dir, 'identity.db')
    const a = kit({}, sqliteIdentityStores(openSqlite(path), true))
    const b = kit({}, sqliteIdentityStores(openSqlite(path), true))
    try {
      await a.bf.failed('alice', '192.0.2.1')
      await b.bf.failed('alice', '192.0.2.2')
      await a.bf.failed('alice', '192.0.2.3')
      assert.equal(await b.bf.lockedUntil('alice', '192.0.2.4'), b.clock() + second)
    } finally {
      await a.stores.close()
      await b.stores.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
