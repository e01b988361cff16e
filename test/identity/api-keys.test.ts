/**
 * API keys (src/identity/api-keys.ts) on the real SQLite store, with the movable clock: the secret
 * is shown once and only its hash kept, lookup by prefix, scopes, expiry, revocation, rotation
 * with a grace period, and the one-second memory of verdicts.
 */
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiKeys } from '../../src/identity/api-keys.js'
import { sha256 } from '../../src/identity/secrets.js'
import { openSqlite } from '../../src/storage/sqlite/database.js'
import { sqliteIdentityStores } from '../../src/storage/sqlite/identity.js'
import type { IdentityStores, User } from '../../src/storage/types.js'
import { addUser, day, hour, memoryStores, minute, second, testClock, type TestClock } from './support.js'

interface Kit {
  readonly keys: ApiKeys
  readonly clock: TestClock
  readonly stores: IdentityStores
  readonly user: User
  /** How many times the "tell the other instances" callback ran. */
  readonly announced: () => number
}

async function kit(stores = memoryStores()): Promise<Kit> {
  const clock = testClock()
  const user = await addUser(stores, clock)
  let n = 0
  const keys = new ApiKeys(stores.apiKeys, stores.users, clock, 1000, () => void n++)
  return { keys, clock, stores, user, announced: () => n }
}

/** The same key with its secret part changed in one character. */
function wrongSecret(secret: string): string {
  return secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A')
}

describe('api keys', () => {
  test('creation returns the whole key once; the store keeps its prefix and a SHA-256, never the secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drawbridge-apikeys-'))
    const path = join(dir, 'identity.db')
    const k = await kit(sqliteIdentityStores(openSqlite(path), true))
    try {
      const { secret, key } = await k.keys.create(k.user.id, { name: 'ci', scopes: ['orders:read'], expiresAt: null })
      assert.match(secret, /^dbk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/)
      assert.equal(ApiKeys.looksLikeKey(secret), true)
      assert.equal(key.prefix, secret.slice(0, 12))
      assert.equal(key.hash, sha256(secret))
      assert.equal(key.user_id, k.user.id)
      assert.equal(key.created_at, k.clock())
      assert.equal(key.revoked_at, null)
      assert.equal(key.rotated_from, null)
      assert.equal('secret' in key, false)
      const stored = await k.stores.apiKeys.byId(key.id)
      assert.deepEqual(stored, key)
      const tail = secret.slice(13)
      assert.equal(JSON.stringify(await k.stores.apiKeys.list()).includes(tail), false)
      // Nor anywhere in the database file (closing folds the write-ahead log into it).
      await k.stores.close()
      const bytes = readFileSync(path)
      assert.equal(bytes.includes(tail), false)
      assert.equal(bytes.includes(key.hash), true)
    } finally {
      await k.stores.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('two keys never share a prefix or a secret', async () => {
    const k = await kit()
    try {
      const a = await k.keys.create(k.user.id, { name: 'a', scopes: [], expiresAt: null })
      const b = await k.keys.create(k.user.id, { name: 'b', scopes: [], expiresAt: null })
      assert.notEqual(a.key.prefix, b.key.prefix)
      assert.notEqual(a.secret, b.secret)
      assert.notEqual(a.key.id, b.key.id)
    } finally {
      await k.stores.close()
    }
  })

  test('verify finds the key by its prefix and answers its owner and scopes', async () => {
    const k = await kit()
    try {
      const bob = await addUser(k.stores, k.clock, 'bob', ['admin'])
      const a = await k.keys.create(k.user.id, { name: 'ci', scopes: ['orders:read', 'orders:write'], expiresAt: null })
      const b = await k.keys.create(bob.id, { name: 'ops', scopes: [], expiresAt: null })
      const ida = await k.keys.verify(a.secret)
      assert.equal(ida?.key.id, a.key.id)
      assert.equal(ida?.user.id, k.user.id)
      assert.deepEqual(ida?.key.scopes, ['orders:read', 'orders:write'])
      const idb = await k.keys.verify(b.secret)
      assert.equal(idb?.user.username, 'bob')
      assert.deepEqual(idb?.user.roles, ['admin'])
      assert.deepEqual(idb?.key.scopes, [])
      assert.equal((await k.stores.apiKeys.byPrefix(a.key.prefix))?.id, a.key.id)
    } finally {
      await k.stores.close()
    }
  })

  test('a wrong secret behind a right prefix is refused, and does not spoil the right one', async () => {
    const k = await kit()
    try {
      const { secret } = await k.keys.create(k.user.id, { name: 'ci', scopes: [], expiresAt: null })
      const wrong = wrongSecret(secret)
      assert.equal(ApiKeys.looksLikeKey(wrong), true)
      assert.equal(await k.keys.verify(wrong), null)
      // Another key's secret under this key's prefix.
      const other = await k.keys.create(k.user.id, { name: 'other', scopes: [], expiresAt: null })
      assert.equal(await k.keys.verify(secret.slice(0, 13) + other.secret.slice(13)), null)
      assert.ok(await k.keys.verify(secret))
      assert.equal(await k.keys.verify(wrong), null)
    } finally {
      await k.stores.close()
    }
  })

  test('malformed and unknown keys are refused without a lookup', async () => {
    const k = await kit()
    try {
      const { secret } = await k.keys.create(k.user.id, { name: 'ci', scopes: [], expiresAt: null })
      for (const bad of [
        '',
        secret.slice(0, -1),
        secret + 'A',
        secret.toUpperCase(),
        secret.replace('dbk_', 'dbx_'),
        `${secret.slice(0, 12)}`,
        'dbk_00000000_' + 'A'.repeat(43),
      ]) {
        assert.equal(await k.keys.verify(bad), null, bad)
      }
      assert.equal(ApiKeys.looksLikeKey('dbk_0123456g_' + 'A'.repeat(43)), false)
    } finally {
      await k.stores.close()
    }
  })

  test('a key expires at its expiry time, even while its verdict is remembered', async () => {
    const k = await kit()
    try {
      const { secret, key } = await k.keys.create(k.user.id, { name: 'ci', scopes: [], expiresAt: k.clock() + day })
      assert.equal(key.expires_at, k.clock() + day)
      k.clock.advance(day - 1)
      assert.ok(await k.keys.verify(secret))
      k.clock.advance(1)
      assert.equal(await k.keys.verify(secret), null)
      assert.equal(await k.keys.isLive(key.id, k.user.id), false)
      k.clock.advance(hour)
      assert.equal(await k.keys.verify(secret), null)
    } finally {
      await k.stores.close()
    }
  })

  test('revocation takes effect at once here, and is announced', async () => {
    const k = await kit()
    try {
      const { secret, key } = await k.keys.create(k.user.id, { name: 'ci', scopes: [], expiresAt: null })
      assert.ok(await k.keys.verify(secret))
      assert.equal(await k.keys.isLive(key.id, k.user.id), true)
      assert.equal(await k.keys.revoke(key.id), true)
      assert.equal(k.announced(), 1)
      assert.equal(await k.keys.verify(secret), null)
      assert.equal(await k.keys.isLive(key.id, k.user.id), false)
      assert.equal((await k.stores.apiKeys.byId(key.id))?.revoked_at, k.clock())
      k.clock.advance(minute)
      assert.equal(await k.keys.revoke(key.id), false)
      assert.equal((await k.stores.apiKeys.byId(key.id))?.revoked_at, k.clock() - minute)
      assert.equal(await k.keys.revoke('no-such-key'), false)
    } finally {
      await k.stores.close()
    }
  })

  test('a revocation made elsewhere is honoured within the one-second memory, at once after forget()', async () => {
    const k = await kit()
    try {
      const elsewhere = new ApiKeys(k.stores.apiKeys, k.stores.users, k.clock)
      const { secret, key } = await k.keys.create(k.user.id, { name: 'ci', scopes: [], expiresAt: null })
      assert.ok(await k.keys.verify(secret))
      await elsewhere.revoke(key.id)
      k.clock.advance(999)
      assert.ok(await k.keys.verify(secret), 'remembered for up to a second')
      k.clock.advance(1)
      assert.equal(await k.keys.verify(secret), null)
      const again = await k.keys.create(k.user.id, { name: 'ci2', scopes: [], expiresAt: null })
      assert.ok(await k.keys.verify(again.secret))
      await elsewhere.revoke(again.key.id)
      k.keys.forget()
      assert.equal(await k.keys.verify(again.secret), null)
    } finally {
      await k.stores.close()
    }
  })

  test('rotation: a new key with the same owner, name and scopes; the old one works through the grace only', async () => {
    const k = await kit()
    try {
      const old = await k.keys.create(k.user.id, { name: 'ci', scopes: ['orders:read'], expiresAt: null })
      assert.ok(await k.keys.verify(old.secret))
      k.clock.advance(minute)
      const rotated = await k.keys.rotate(old.key.id, hour, k.clock() + 90 * day)
      assert.ok(rotated)
      assert.equal(k.announced(), 1)
      assert.notEqual(rotated.secret, old.secret)
      assert.notEqual(rotated.key.prefix, old.key.prefix)
      assert.equal(rotated.key.user_id, k.user.id)
      assert.equal(rotated.key.name, 'ci')
      assert.deepEqual(rotated.key.scopes, ['orders:read'])
      assert.equal(rotated.key.rotated_from, old.key.id)
      assert.equal(rotated.key.expires_at, k.clock() + 90 * day)
      assert.equal((await k.stores.apiKeys.byId(old.key.id))?.expires_at, k.clock() + hour)
      assert.equal((await k.keys.verify(rotated.secret))?.key.id, rotated.key.id)
      k.clock.advance(hour - 1)
      assert.equal((await k.keys.verify(old.secret))?.key.id, old.key.id)
      k.clock.advance(1)
      assert.equal(await k.keys.verify(old.secret), null)
      assert.ok(await k.keys.verify(rotated.secret))
    } finally {
      await k.stores.close()
    }
  })

  test("rotation never lengthens the old key's life, and a grace of zero ends it at once", async () => {
    const k = await kit()
    try {
      const soon = await k.keys.create(k.user.id, { name: 'soon', scopes: [], expiresAt: k.clock() + 10 * minute })
      assert.ok(await k.keys.rotate(soon.key.id, day, null))
      assert.equal((await k.stores.apiKeys.byId(soon.key.id))?.expires_at, k.clock() + 10 * minute)
      const now = await k.keys.create(k.user.id, { name: 'now', scopes: [], expiresAt: null })
      const next = await k.keys.rotate(now.key.id, 0, null)
      assert.ok(next)
      assert.equal(await k.keys.verify(now.secret), null)
      assert.ok(await k.keys.verify(next.secret))
    } finally {
      await k.stores.close()
    }
  })

  test('revoked, expired and unknown keys cannot be rotated', async () => {
    const k = await kit()
    try {
      const revoked = await k.keys.create(k.user.id, { name: 'r', scopes: [], expiresAt: null })
      await k.keys.revoke(revoked.key.id)
      assert.equal(await k.keys.rotate(revoked.key.id, hour, null), null)
      const expired = await k.keys.create(k.user.id, { name: 'e', scopes: [], expiresAt: k.clock() + second })
      k.clock.advance(second)
      assert.equal(await k.keys.rotate(expired.key.id, hour, null), null)
      assert.equal(await k.keys.rotate('no-such-key', hour, null), null)
      assert.equal((await k.stores.apiKeys.list(k.user.id)).length, 2)
    } finally {
      await k.stores.close()
    }
  })

  test('a disabled or deleted owner makes the key useless', async () => {
    const k = await kit()
    try {
      const { secret, key } = await k.keys.create(k.user.id, { name: 'ci', scopes: [], expiresAt: null })
      await k.stores.users.update(k.user.id, { disabled: true }, k.clock())
      assert.equal(await k.keys.verify(secret), null)
      assert.equal(await k.keys.isLive(key.id, k.user.id), false)
      await k.stores.users.update(k.user.id, { disabled: false }, k.clock())
      k.keys.forget()
      assert.ok(await k.keys.verify(secret))
      assert.equal(await k.keys.isLive(key.id, k.user.id), true)
      await k.stores.users.delete(k.user.id)
      k.keys.forget()
      assert.equal(await k.keys.verify(secret), null)
      assert.equal(await k.keys.isLive(key.id, k.user.id), false)
    } finally {
      await k.stores.close()
    }
  })

  test('isLive checks the key belongs to the user it is claimed for', async () => {
    const k = await kit()
    try {
      const bob = await addUser(k.stores, k.clock, 'bob')
      const { key } = await k.keys.create(k.user.id, { name: 'ci', scopes: [], expiresAt: null })
      assert.equal(await k.keys.isLive(key.id, k.user.id), true)
      // Asked right after, within the one-second memory: the answer is still about bob.
      assert.equal(await k.keys.isLive(key.id, bob.id), false)
      assert.equal(await k.keys.isLive(key.id, k.user.id), true)
      assert.equal(await k.keys.isLive('no-such-key', k.user.id), false)
    } finally {
      await k.stores.close()
    }
  })

  test('last use is recorded, at most once a minute', async () => {
    const k = await kit()
    try {
      const { secret, key } = await k.keys.create(k.user.id, { name: 'ci', scopes: [], expiresAt: null })
      const t0 = k.clock()
      await k.keys.verify(secret)
      assert.equal((await k.stores.apiKeys.byId(key.id))?.last_used_at, t0)
      k.clock.advance(30 * second)
      k.keys.forget()
      await k.keys.verify(secret)
      assert.equal((await k.stores.apiKeys.byId(key.id))?.last_used_at, t0)
      k.clock.advance(31 * second)
      k.keys.forget()
      await k.keys.verify(secret)
      assert.equal((await k.stores.apiKeys.byId(key.id))?.last_used_at, k.clock())
      // A refused key is not marked used.
      const last = k.clock()
      k.clock.advance(2 * minute)
      await k.keys.verify(wrongSecret(secret))
      assert.equal((await k.stores.apiKeys.byId(key.id))?.last_used_at, last)
    } finally {
      await k.stores.close()
    }
  })
})
