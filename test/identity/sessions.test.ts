/**
 * Refresh-token families (src/identity/sessions.ts) on the real SQLite store, with the movable
 * clock: rotation, reuse detection, the grace window for concurrent refreshes, expiry and logout.
 */
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Sessions, clientFingerprint, type ClientInfo, type RefreshOutcome, type TokenPair } from '../../src/identity/sessions.js'
import { sha256 } from '../../src/identity/secrets.js'
import { MemoryLocks } from '../../src/storage/memory/locks.js'
import type { Locks } from '../../src/storage/types.js'
import type { IdentityStores, User } from '../../src/storage/types.js'
import { openSqlite } from '../../src/storage/sqlite/database.js'
import { sqliteIdentityStores } from '../../src/storage/sqlite/identity.js'
import { addUser, day, memoryStores, minute, second, tokenKit, type TokenKit } from './support.js'

const refreshTtlMs = 7 * day
const graceMs = 10 * second
const laptop: ClientInfo = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' }
const thief: ClientInfo = { ip: '198.51.100.66', userAgent: 'curl/8.5.0' }

interface Kit extends TokenKit {
  readonly sessions: Sessions
  readonly user: User
}

async function kit(o: { stores?: IdentityStores; locks?: Locks } = {}): Promise<Kit> {
  const base = await tokenKit({ stores: o.stores ?? memoryStores() })
  const user = await addUser(base.stores, base.clock)
  const sessions = new Sessions({
    refresh: base.stores.refresh,
    users: base.stores.users,
    access: base.access,
    sealer: base.sealer,
    clock: base.clock,
    refreshTtlMs,
    graceMs,
    locks: o.locks ?? new MemoryLocks(),
  })
  return { ...base, sessions, user }
}

function ok(r: RefreshOutcome): Extract<RefreshOutcome, { ok: true }> {
  assert.equal(r.ok, true, `refresh refused: ${r.ok ? '' : r.reason}`)
  return r
}

function reason(r: RefreshOutcome): string {
  assert.equal(r.ok, false)
  return r.reason
}

describe('sessions: refresh-token families', () => {
  test('a login starts a family: a refresh token, an access token bound to the family, both dated by the clock', async () => {
    const k = await kit()
    try {
      const pair = await k.sessions.start(k.user, laptop)
      assert.match(pair.refresh_token, /^dbr_[A-Za-z0-9_-]{43}$/)
      assert.equal(pair.refresh_expires_at, k.clock() + refreshTtlMs)
      assert.equal(pair.access_expires_at, k.clock() + 15 * minute)
      const claims = await k.access.verify(pair.access_token)
      assert.ok(typeof claims !== 'string')
      assert.equal(claims.sub, k.user.id)
      assert.equal(claims.sid, pair.sid)
      // Only the hash of the refresh token is stored, with the client's fingerprint.
      const stored = await k.stores.refresh.find(sha256(pair.refresh_token))
      assert.ok(stored)
      assert.equal(stored.family_id, pair.sid)
      assert.equal(stored.user_id, k.user.id)
      assert.equal(stored.client, clientFingerprint(laptop))
      assert.equal(stored.used_at, null)
      assert.equal(await k.stores.refresh.find(pair.refresh_token), null)
      assert.equal(await k.stores.refresh.familyRevokedAt(pair.sid), null)
    } finally {
      await k.stores.close()
    }
  })

  test('every refresh rotates the token; the family keeps its id and its original end', async () => {
    const k = await kit()
    try {
      const first = await k.sessions.start(k.user, laptop)
      const seen = new Set([first.refresh_token])
      let current: TokenPair = first
      for (let i = 0; i < 3; i++) {
        k.clock.advance(5 * minute)
        const r = ok(await k.sessions.refresh(current.refresh_token, laptop))
        assert.equal(r.replayed, false)
        assert.equal(r.user.id, k.user.id)
        assert.equal(r.pair.sid, first.sid)
        assert.equal(r.pair.refresh_expires_at, first.refresh_expires_at)
        assert.equal(r.pair.access_expires_at, k.clock() + 15 * minute)
        assert.notEqual(r.pair.access_token, current.access_token)
        assert.equal(seen.has(r.pair.refresh_token), false)
        seen.add(r.pair.refresh_token)
        const old = await k.stores.refresh.find(sha256(current.refresh_token))
        assert.equal(old?.used_at, k.clock())
        const claims = await k.access.verify(r.pair.access_token)
        assert.ok(typeof claims !== 'string')
        assert.equal(claims.sid, first.sid)
        current = r.pair
      }
    } finally {
      await k.stores.close()
    }
  })

  test('a rotated token presented again after the grace window revokes the whole family', async () => {
    const k = await kit()
    try {
      const first = await k.sessions.start(k.user, laptop)
      k.clock.advance(minute)
      const mid = ok(await k.sessions.refresh(first.refresh_token, laptop)).pair
      k.clock.advance(minute)
      const third = ok(await k.sessions.refresh(mid.refresh_token, laptop)).pair
      k.clock.advance(minute)
      // The thief replays the first token: detected, reported with the family and its owner.
      const reuse = await k.sessions.refresh(first.refresh_token, thief)
      assert.deepEqual(reuse, { ok: false, reason: 'reused', userId: k.user.id, sid: first.sid })
      assert.equal(await k.stores.refresh.familyRevokedAt(first.sid), k.clock())
      // The rightful owner's newest token dies with the family, and so does everything else.
      assert.equal(reason(await k.sessions.refresh(third.refresh_token, laptop)), 'revoked')
      assert.equal(reason(await k.sessions.refresh(mid.refresh_token, laptop)), 'revoked')
      assert.equal(reason(await k.sessions.refresh(first.refresh_token, laptop)), 'revoked')
    } finally {
      await k.stores.close()
    }
  })

  test('reuse by the same client after the grace window is reuse too', async () => {
    const k = await kit()
    try {
      const first = await k.sessions.start(k.user, laptop)
      const next = ok(await k.sessions.refresh(first.refresh_token, laptop)).pair
      k.clock.advance(graceMs + 1)
      assert.equal(reason(await k.sessions.refresh(first.refresh_token, laptop)), 'reused')
      assert.equal(reason(await k.sessions.refresh(next.refresh_token, laptop)), 'revoked')
    } finally {
      await k.stores.close()
    }
  })

  test('reuse revokes only its own family: another session of the same user goes on', async () => {
    const k = await kit()
    try {
      const a = await k.sessions.start(k.user, laptop)
      const b = await k.sessions.start(k.user, laptop)
      assert.notEqual(a.sid, b.sid)
      ok(await k.sessions.refresh(a.refresh_token, laptop))
      k.clock.advance(minute)
      assert.equal(reason(await k.sessions.refresh(a.refresh_token, thief)), 'reused')
      assert.equal(await k.stores.refresh.familyRevokedAt(b.sid), null)
      assert.equal(ok(await k.sessions.refresh(b.refresh_token, laptop)).pair.sid, b.sid)
    } finally {
      await k.stores.close()
    }
  })

  test('within the grace window the same client gets the very pair the first refresh got', async () => {
    const k = await kit()
    try {
      const first = await k.sessions.start(k.user, laptop)
      const a = ok(await k.sessions.refresh(first.refresh_token, laptop))
      k.clock.advance(graceMs)
      const b = ok(await k.sessions.refresh(first.refresh_token, laptop))
      assert.equal(b.replayed, true)
      assert.deepEqual(b.pair, a.pair)
      assert.equal(await k.stores.refresh.familyRevokedAt(first.sid), null)
      // The pair handed out twice is one live pair: its refresh token rotates once as usual.
      const c = ok(await k.sessions.refresh(a.pair.refresh_token, laptop))
      assert.equal(c.replayed, false)
      assert.notEqual(c.pair.refresh_token, a.pair.refresh_token)
    } finally {
      await k.stores.close()
    }
  })

  test('two tabs refreshing at once: one rotation, both receive the same pair, nobody is logged out', async () => {
    const k = await kit()
    try {
      const first = await k.sessions.start(k.user, laptop)
      const [a, b] = await Promise.all([k.sessions.refresh(first.refresh_token, laptop), k.sessions.refresh(first.refresh_token, laptop)])
      const pa = ok(a)
      const pb = ok(b)
      assert.deepEqual([pa.replayed, pb.replayed].sort(), [false, true])
      assert.deepEqual(pa.pair, pb.pair)
      assert.equal(await k.stores.refresh.familyRevokedAt(first.sid), null)
      ok(await k.sessions.refresh(pa.pair.refresh_token, laptop))
    } finally {
      await k.stores.close()
    }
  })

  test('without a shared lock (two instances), the store alone lets one refresh win and the other gets its pair', async () => {
    const unlocked: Locks = { withLock: (_name, _ttl, fn) => fn() }
    const k = await kit({ locks: unlocked })
    try {
      const first = await k.sessions.start(k.user, laptop)
      const [a, b] = await Promise.all([k.sessions.refresh(first.refresh_token, laptop), k.sessions.refresh(first.refresh_token, laptop)])
      const pa = ok(a)
      const pb = ok(b)
      assert.deepEqual(pa.pair, pb.pair)
      assert.equal(await k.stores.refresh.familyRevokedAt(first.sid), null)
    } finally {
      await k.stores.close()
    }
  })

  test('within the grace window another client is not given the pair: it is reuse', async () => {
    const k = await kit()
    try {
      const first = await k.sessions.start(k.user, laptop)
      const a = ok(await k.sessions.refresh(first.refresh_token, laptop))
      k.clock.advance(second)
      const stolen = await k.sessions.refresh(first.refresh_token, thief)
      assert.deepEqual(stolen, { ok: false, reason: 'reused', userId: k.user.id, sid: first.sid })
      assert.equal(reason(await k.sessions.refresh(a.pair.refresh_token, laptop)), 'revoked')
      // A different user agent from the same address is a different client as well.
      const k2 = await kit()
      try {
        const f2 = await k2.sessions.start(k2.user, laptop)
        ok(await k2.sessions.refresh(f2.refresh_token, laptop))
        assert.equal(reason(await k2.sessions.refresh(f2.refresh_token, { ...laptop, userAgent: 'Other/1.0' })), 'reused')
      } finally {
        await k2.stores.close()
      }
    } finally {
      await k.stores.close()
    }
  })

  test('a refresh token expires at the end of its family; an expired token is refused and does not rotate', async () => {
    const k = await kit()
    try {
      const first = await k.sessions.start(k.user, laptop)
      k.clock.advance(refreshTtlMs - 1)
      const last = ok(await k.sessions.refresh(first.refresh_token, laptop)).pair
      assert.equal(last.refresh_expires_at, first.refresh_expires_at)
      k.clock.advance(1)
      assert.equal(reason(await k.sessions.refresh(last.refresh_token, laptop)), 'expired')
      const stored = await k.stores.refresh.find(sha256(last.refresh_token))
      assert.equal(stored?.used_at, null)
      // Expiry alone is not reuse: the family is not marked revoked.
      assert.equal(await k.stores.refresh.familyRevokedAt(first.sid), null)
    } finally {
      await k.stores.close()
    }
  })

  test('unknown, malformed and oversized tokens are invalid', async () => {
    const k = await kit()
    try {
      await k.sessions.start(k.user, laptop)
      assert.equal(reason(await k.sessions.refresh('dbr_' + 'A'.repeat(43), laptop)), 'invalid')
      assert.equal(reason(await k.sessions.refresh('not-a-refresh-token', laptop)), 'invalid')
      assert.equal(reason(await k.sessions.refresh('', laptop)), 'invalid')
      assert.equal(reason(await k.sessions.refresh('dbr_' + 'A'.repeat(97), laptop)), 'invalid')
    } finally {
      await k.stores.close()
    }
  })

  test('a disabled user cannot refresh; a deleted one is invalid', async () => {
    const k = await kit()
    try {
      const pair = await k.sessions.start(k.user, laptop)
      await k.stores.users.update(k.user.id, { disabled: true }, k.clock())
      assert.equal(reason(await k.sessions.refresh(pair.refresh_token, laptop)), 'disabled')
      assert.equal((await k.stores.refresh.find(sha256(pair.refresh_token)))?.used_at, null)
      await k.stores.users.update(k.user.id, { disabled: false }, k.clock())
      const next = ok(await k.sessions.refresh(pair.refresh_token, laptop)).pair
      await k.stores.users.delete(k.user.id)
      assert.equal(reason(await k.sessions.refresh(next.refresh_token, laptop)), 'invalid')
    } finally {
      await k.stores.close()
    }
  })

  test('logout by refresh token revokes the family and names it and its user', async () => {
    const k = await kit()
    try {
      const first = await k.sessions.start(k.user, laptop)
      const next = ok(await k.sessions.refresh(first.refresh_token, laptop)).pair
      k.clock.advance(minute)
      // Any token of the family identifies it, even one already rotated.
      assert.deepEqual(await k.sessions.end({ refreshToken: first.refresh_token }), { sid: first.sid, userId: k.user.id })
      assert.equal(await k.stores.refresh.familyRevokedAt(first.sid), k.clock())
      assert.equal(reason(await k.sessions.refresh(next.refresh_token, laptop)), 'revoked')
    } finally {
      await k.stores.close()
    }
  })

  test('logout by session id revokes that family; unknown tokens end nothing', async () => {
    const k = await kit()
    try {
      const a = await k.sessions.start(k.user, laptop)
      const b = await k.sessions.start(k.user, laptop)
      const ended = await k.sessions.end({ sid: a.sid })
      assert.equal(ended?.sid, a.sid)
      assert.equal(reason(await k.sessions.refresh(a.refresh_token, laptop)), 'revoked')
      ok(await k.sessions.refresh(b.refresh_token, laptop))
      assert.equal(await k.sessions.end({ refreshToken: 'dbr_' + 'B'.repeat(43) }), null)
      assert.equal(await k.sessions.end({ refreshToken: 'garbage' }), null)
      assert.equal(await k.sessions.end({}), null)
    } finally {
      await k.stores.close()
    }
  })

  test('"log out everywhere" revokes every live family of the user and no one else\'s', async () => {
    const k = await kit()
    try {
      const bob = await addUser(k.stores, k.clock, 'bob')
      const a = await k.sessions.start(k.user, laptop)
      const b = await k.sessions.start(k.user, thief)
      const c = await k.sessions.start(bob, laptop)
      await k.sessions.end({ sid: a.sid })
      assert.equal(await k.sessions.endAll(k.user.id, 'password-reset'), 1)
      assert.equal(reason(await k.sessions.refresh(b.refresh_token, thief)), 'revoked')
      ok(await k.sessions.refresh(c.refresh_token, laptop))
      assert.equal(await k.sessions.endAll(k.user.id, 'again'), 0)
    } finally {
      await k.stores.close()
    }
  })

  test('families live in the store: a second Sessions on the same SQLite file sees rotation and reuse', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drawbridge-sessions-'))
    const path = join(dir, 'identity.db')
    const one = await kit({ stores: sqliteIdentityStores(openSqlite(path), true) })
    const other = sqliteIdentityStores(openSqlite(path), true)
    try {
      const two = new Sessions({
        refresh: other.refresh,
        users: other.users,
        access: one.access,
        sealer: one.sealer,
        clock: one.clock,
        refreshTtlMs,
        graceMs,
        locks: new MemoryLocks(),
      })
      const first = await one.sessions.start(one.user, laptop)
      const next = ok(await two.refresh(first.refresh_token, laptop)).pair
      // The grace answer, sealed by one instance, is opened by the other (same key).
      const again = ok(await one.sessions.refresh(first.refresh_token, laptop))
      assert.equal(again.replayed, true)
      assert.deepEqual(again.pair, next)
      one.clock.advance(graceMs + 1)
      assert.equal(reason(await one.sessions.refresh(first.refresh_token, thief)), 'reused')
      assert.equal(reason(await two.refresh(next.refresh_token, laptop)), 'revoked')
    } finally {
      await other.close()
      await one.stores.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
