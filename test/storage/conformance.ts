/**
 * The storage conformance suite: one set of behaviours every adapter of
 * the identity interfaces must show, and the shared state (counters, locks, notices) every kind
 * must show. Each adapter's test file calls them with a factory.
 */
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { StorageConflict, StorageUnavailable } from '../../src/errors.js'
import type { IdentityStores, NewUser, SecurityEventStore, SecurityEvent, SharedState } from '../../src/storage/types.js'

const t0 = Date.UTC(2026, 10, 23)

function user(id: string, username: string, email: string | null = null): NewUser {
  return { id, username, email, password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', roles: ['user'], disabled: false, created_at: t0 }
}

export function identityConformance(adapter: string, open: () => Promise<IdentityStores>): void {
  describe(`identity storage conformance: ${adapter}`, () => {
    test('users: create, find case-insensitively, update, list, delete; names and emails unique', async () => {
      const s = await open()
      try {
        const u = await s.users.create(user('u1', 'Alice', 'Alice@Example.com'))
        assert.equal(u.updated_at, t0)
        assert.equal((await s.users.byUsername('alice'))?.id, 'u1')
        assert.equal((await s.users.byUsername('ALICE'))?.username, 'Alice')
        assert.equal(await s.users.byUsername('bob'), null)
        await assert.rejects(s.users.create(user('u2', 'aLiCe')), StorageConflict)
        await assert.rejects(s.users.create(user('u3', 'other', 'alice@example.COM')), StorageConflict)
        await assert.rejects(s.users.create(user('u1', 'third')), StorageConflict)
        await s.users.create(user('u4', 'bob'))
        const changed = await s.users.update('u1', { roles: ['admin', 'user'], disabled: true, email: null }, t0 + 5)
        assert.deepEqual(changed?.roles, ['admin', 'user'])
        assert.equal(changed?.disabled, true)
        assert.equal(changed?.email, null)
        assert.equal(changed?.updated_at, t0 + 5)
        assert.equal(await s.users.update('nope', { disabled: true }, t0), null)
        assert.deepEqual(
          (await s.users.list()).map((x) => x.id),
          ['u1', 'u4'],
        )
        assert.equal(await s.users.delete('u4'), true)
        assert.equal(await s.users.delete('u4'), false)
        assert.equal(await s.users.byId('u4'), null)
      } finally {
        await s.close()
      }
    })

    test('refresh: rotate once, a second rotation of the same token reports it used; revocation and purge', async () => {
      const s = await open()
      try {
        await s.users.create(user('u1', 'alice'))
        await s.refresh.createFamily({ id: 'f1', user_id: 'u1', created_at: t0 }, { hash: 'h1', issued_at: t0, expires_at: t0 + 1000, client: 'c' })
        assert.equal((await s.refresh.find('h1'))?.family_id, 'f1')
        assert.equal((await s.refresh.find('h1'))?.user_id, 'u1')
        assert.equal(await s.refresh.familyRevokedAt('f1'), null)
        assert.equal(await s.refresh.familyRevokedAt('nope'), undefined)
        const next = { hash: 'h2', issued_at: t0 + 10, expires_at: t0 + 1000, client: 'c' }
        const [a, b] = await Promise.all([
          s.refresh.rotate('h1', next, 'sealed-a', t0 + 10),
          s.refresh.rotate('h1', { ...next, hash: 'h3' }, 'sealed-b', t0 + 10),
        ])
        assert.deepEqual([a.kind, b.kind].sort(), ['rotated', 'used'])
        const used = a.kind === 'used' ? a : b
        assert.ok(used.kind === 'used')
        assert.equal(used.token.used_at, t0 + 10)
        assert.equal(used.token.successor_sealed, a.kind === 'rotated' ? 'sealed-a' : 'sealed-b')
        assert.equal((await s.refresh.rotate('missing', { ...next, hash: 'h9' }, 'x', t0)).kind, 'unknown')
        // Expired tokens do not rotate.
        const live = (await s.refresh.find('h2')) ?? (await s.refresh.find('h3'))
        assert.ok(live)
        assert.equal((await s.refresh.rotate(live.hash, { ...next, hash: 'h4' }, 'x', t0 + 1000)).kind, 'used')
        assert.equal(await s.refresh.revokeFamily('f1', 'logout', t0 + 20), true)
        assert.equal(await s.refresh.revokeFamily('f1', 'logout', t0 + 30), false)
        assert.equal(await s.refresh.familyRevokedAt('f1'), t0 + 20)
        assert.equal((await s.refresh.find('h1'))?.family_revoked_at, t0 + 20)
        await s.refresh.createFamily({ id: 'f2', user_id: 'u1', created_at: t0 }, { hash: 'g1', issued_at: t0, expires_at: t0 + 5000, client: 'c' })
        await s.refresh.createFamily({ id: 'f3', user_id: 'u1', created_at: t0 }, { hash: 'k1', issued_at: t0, expires_at: t0 + 5000, client: 'c' })
        assert.equal(await s.refresh.revokeUser('u1', 'everywhere', t0 + 40), 2)
        assert.equal(await s.refresh.purge(t0 + 2000), 2)
        assert.equal(await s.refresh.find('h1'), null)
        assert.equal(await s.refresh.familyRevokedAt('f1'), undefined)
        assert.ok(await s.refresh.find('g1'))
      } finally {
        await s.close()
      }
    })

    test('deleting a user deletes their sessions and API keys', async () => {
      const s = await open()
      try {
        await s.users.create(user('u1', 'alice'))
        await s.refresh.createFamily({ id: 'f1', user_id: 'u1', created_at: t0 }, { hash: 'h1', issued_at: t0, expires_at: t0 + 1000, client: 'c' })
        await s.apiKeys.create({
          id: 'k1',
          prefix: 'dbk_00000001',
          hash: 'x',
          user_id: 'u1',
          name: 'n',
          scopes: [],
          created_at: t0,
          expires_at: null,
          rotated_from: null,
        })
        await s.users.delete('u1')
        assert.equal(await s.refresh.find('h1'), null)
        assert.equal(await s.apiKeys.byId('k1'), null)
      } finally {
        await s.close()
      }
    })

    test('API keys: by prefix and id, list per user, revoke, expire only shortens, touch only moves forward', async () => {
      const s = await open()
      try {
        await s.users.create(user('u1', 'alice'))
        await s.users.create(user('u2', 'bob'))
        const base = { hash: 'aa', name: 'ci', scopes: ['a', 'b'], created_at: t0, expires_at: null, rotated_from: null }
        await s.apiKeys.create({ ...base, id: 'k1', prefix: 'dbk_00000001', user_id: 'u1' })
        await s.apiKeys.create({ ...base, id: 'k2', prefix: 'dbk_00000002', user_id: 'u2', expires_at: t0 + 100 })
        await assert.rejects(s.apiKeys.create({ ...base, id: 'k3', prefix: 'dbk_00000001', user_id: 'u1' }), StorageConflict)
        assert.deepEqual((await s.apiKeys.byPrefix('dbk_00000001'))?.scopes, ['a', 'b'])
        assert.equal(await s.apiKeys.byPrefix('dbk_ffffffff'), null)
        assert.deepEqual(
          (await s.apiKeys.list('u1')).map((k) => k.id),
          ['k1'],
        )
        assert.equal((await s.apiKeys.list()).length, 2)
        assert.equal(await s.apiKeys.expire('k2', t0 + 500), false)
        assert.equal(await s.apiKeys.expire('k2', t0 + 50), true)
        assert.equal((await s.apiKeys.byId('k2'))?.expires_at, t0 + 50)
        assert.equal(await s.apiKeys.expire('k1', t0 + 70), true)
        await s.apiKeys.touch('k1', t0 + 9)
        await s.apiKeys.touch('k1', t0 + 3)
        assert.equal((await s.apiKeys.byId('k1'))?.last_used_at, t0 + 9)
        assert.equal(await s.apiKeys.revoke('k1', t0 + 10), true)
        assert.equal(await s.apiKeys.revoke('k1', t0 + 11), false)
        assert.equal((await s.apiKeys.byId('k1'))?.revoked_at, t0 + 10)
      } finally {
        await s.close()
      }
    })

    test('key ring: add dates the previous keys, list keeps insertion order, retire drops expired ones', async () => {
      const s = await open()
      try {
        const k = (kid: string) => ({ kid, use: 'jwt' as const, alg: 'EdDSA', created_at: t0, public_jwk: '{}', sealed: 's', verify_until: null })
        await s.keys.add(k('b-first'), t0 + 100)
        await s.keys.add(k('a-second'), t0 + 100)
        await s.keys.add({ ...k('c-csrf'), use: 'csrf', alg: 'HS256', public_jwk: null }, t0 + 100)
        const jwt = await s.keys.list('jwt')
        assert.deepEqual(
          jwt.map((x) => x.kid),
          ['b-first', 'a-second'],
        )
        assert.deepEqual(
          jwt.map((x) => x.verify_until),
          [t0 + 100, null],
        )
        assert.deepEqual(
          (await s.keys.list('csrf')).map((x) => x.kid),
          ['c-csrf'],
        )
        assert.equal(await s.keys.retire(t0 + 99), 0)
        assert.equal(await s.keys.retire(t0 + 100), 1)
        assert.deepEqual(
          (await s.keys.list('jwt')).map((x) => x.kid),
          ['a-second'],
        )
      } finally {
        await s.close()
      }
    })

    test('login throttle: counts within a window, restarts after it, keeps a running lock, clears', async () => {
      const s = await open()
      try {
        assert.deepEqual(await s.throttle.get('acct:a', t0), { count: 0, locked_until: null })
        assert.equal((await s.throttle.fail('acct:a', t0, 1000)).count, 1)
        assert.equal((await s.throttle.fail('acct:a', t0 + 10, 1000)).count, 2)
        await s.throttle.lock('acct:a', t0 + 5000, t0 + 10)
        assert.deepEqual(await s.throttle.get('acct:a', t0 + 20), { count: 2, locked_until: t0 + 5000 })
        const after = await s.throttle.fail('acct:a', t0 + 2000, 1000)
        assert.deepEqual(after, { count: 1, locked_until: t0 + 5000 })
        assert.equal((await s.throttle.get('acct:a', t0 + 6000)).locked_until, null)
        await s.throttle.clear('acct:a')
        assert.equal((await s.throttle.get('acct:a', t0)).count, 0)
      } finally {
        await s.close()
      }
    })
  })
}

export function eventConformance(adapter: string, open: () => Promise<SecurityEventStore>): void {
  const event = (i: number, over: Partial<SecurityEvent> = {}): SecurityEvent => ({
    time: new Date(t0 + i * 1000).toISOString(),
    request_id: `r${i}`,
    client_ip: '127.0.0.1',
    method: 'GET',
    path: '/x',
    route: 'default',
    rule: 'sqli',
    category: 'sql',
    location: 'query',
    name: 'q',
    snippet: "' or 1=1",
    confidence: 1,
    score: 5,
    action: 'blocked',
    ...over,
  })
  describe(`security event storage conformance: ${adapter}`, () => {
    test('append and list newest first, with filters and a cursor', async () => {
      const s = await open()
      try {
        await s.append([event(1), event(2, { category: 'auth', rule: 'auth-login-failed', action: 'logged' }), event(3, { client_ip: '10.0.0.1' })])
        const all = await s.list({ limit: 10 })
        assert.deepEqual(
          all.map((e) => e.request_id),
          ['r3', 'r2', 'r1'],
        )
        assert.deepEqual(
          (await s.list({ limit: 10, category: 'auth' })).map((e) => e.request_id),
          ['r2'],
        )
        assert.deepEqual(
          (await s.list({ limit: 10, action: 'blocked' })).map((e) => e.request_id),
          ['r3', 'r1'],
        )
        assert.deepEqual(
          (await s.list({ limit: 10, client_ip: '10.0.0.1' })).map((e) => e.request_id),
          ['r3'],
        )
        assert.deepEqual(
          (await s.list({ limit: 10, before: all[0]!.id })).map((e) => e.request_id),
          ['r2', 'r1'],
        )
        assert.deepEqual(
          (await s.list({ limit: 10, since: event(2).time, until: event(2).time })).map((e) => e.request_id),
          ['r2'],
        )
        assert.equal((await s.list({ limit: 1 })).length, 1)
      } finally {
        await s.close()
      }
    })
  })
}

/**
 * Shared state: what every kind (memory, Redis) must do. `open` returns two views of
 * one deployment (two instances on Redis; the same process twice in memory).
 */
export function sharedStateConformance(kind: string, open: () => Promise<readonly [SharedState, SharedState]>): void {
  describe(`shared state conformance: ${kind}`, () => {
    test('counters: one limit over both views; over it is an answer (allowed: false), not an error', async () => {
      const [a, b] = await open()
      const name = `c${Math.random().toString(36).slice(2, 8)}`
      const la = a.limiter({ name, points: 3, seconds: 60 })
      const lb = b.limiter({ name, points: 3, seconds: 60 })
      assert.equal(a.limiter({ name, points: 3, seconds: 60 }), la)
      const outcomes = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          (i % 2 === 0 ? la : lb).consume('k').then(
            (r) => (r.allowed ? 'ok' : 'over'),
            (e: unknown) => (e instanceof StorageUnavailable ? 'unavailable' : 'error'),
          ),
        ),
      )
      assert.deepEqual([...outcomes].sort(), ['ok', 'ok', 'ok', 'over', 'over'])
      assert.equal((await la.consume('other')).allowed, true)
    })

    test('limiter: allowed until the limit with what remains; then allowed: false with a positive retryAfterMs within the window', async () => {
      const [a, b] = await open()
      const name = `c${Math.random().toString(36).slice(2, 8)}`
      const l = a.limiter({ name, points: 3, seconds: 60 })
      const answers = []
      for (let i = 0; i < 4; i++) answers.push(await (i % 2 === 0 ? l : b.limiter({ name, points: 3, seconds: 60 })).consume('k'))
      assert.deepEqual(
        answers.map((x) => [x.allowed, x.remaining]),
        [
          [true, 2],
          [true, 1],
          [true, 0],
          [false, 0],
        ],
      )
      // Allowed answers say when the window ends too (the RateLimit field's `t`).
      for (const x of answers) assert.ok(x.retryAfterMs > 0 && x.retryAfterMs <= 60_000, String(x.retryAfterMs))
      // Several points at once count as many.
      const many = a.limiter({ name: `${name}-many`, points: 5, seconds: 60 })
      const four = await many.consume('k', 4)
      assert.deepEqual([four.allowed, four.remaining], [true, 1])
      assert.equal((await many.consume('k', 2)).allowed, false)
    })

    test('limiter: the window resets: refused until retryAfterMs has passed, then allowed again', async () => {
      // The counters read the wall clock (no test clock reaches them): a one-second window keeps
      // this short.
      const [a, b] = await open()
      const name = `c${Math.random().toString(36).slice(2, 8)}`
      const l = a.limiter({ name, points: 2, seconds: 1 })
      assert.equal((await l.consume('k')).allowed, true)
      assert.equal((await l.consume('k')).allowed, true)
      const over = await b.limiter({ name, points: 2, seconds: 1 }).consume('k')
      assert.equal(over.allowed, false)
      assert.ok(over.retryAfterMs > 0 && over.retryAfterMs <= 1000, String(over.retryAfterMs))
      await new Promise((r) => setTimeout(r, over.retryAfterMs + 100))
      const again = await l.consume('k')
      assert.equal(again.allowed, true)
      assert.equal(again.remaining, 1)
    })

    test('limiter: with a burst, up to `burst` in one window across views, then refused; a burst not above the limit changes nothing', async () => {
      const [a, b] = await open()
      const name = `c${Math.random().toString(36).slice(2, 8)}`
      const la = a.limiter({ name, points: 2, seconds: 60, burst: 4 })
      const lb = b.limiter({ name, points: 2, seconds: 60, burst: 4 })
      assert.equal(a.limiter({ name, points: 2, seconds: 60, burst: 4 }), la)
      const allowed = []
      for (let i = 0; i < 6; i++) allowed.push((await (i % 2 === 0 ? la : lb).consume('k')).allowed)
      assert.deepEqual(allowed, [true, true, true, true, false, false])
      const refused = await la.consume('k')
      assert.equal(refused.remaining, 0)
      assert.ok(refused.retryAfterMs > 0, String(refused.retryAfterMs))
      const plain = a.limiter({ name: `${name}-plain`, points: 2, seconds: 60, burst: 2 })
      assert.deepEqual([(await plain.consume('k')).allowed, (await plain.consume('k')).allowed, (await plain.consume('k')).allowed], [true, true, false])
    })

    test('locks: callers of one name run one after the other, across views; other names do not wait', async () => {
      const [a, b] = await open()
      const name = `l${Math.random().toString(36).slice(2, 8)}`
      const order: string[] = []
      const job = (who: string, ms: number) => async () => {
        order.push(`${who}+`)
        await new Promise((r) => setTimeout(r, ms))
        order.push(`${who}-`)
        return who
      }
      const first = a.locks.withLock(name, 2000, job('a', 120))
      await new Promise((r) => setTimeout(r, 20))
      const second = b.locks.withLock(name, 2000, job('b', 10))
      const other = b.locks.withLock(`${name}-2`, 2000, job('c', 10))
      assert.deepEqual(await Promise.all([first, second, other]), ['a', 'b', 'c'])
      assert.ok(order.indexOf('a-') < order.indexOf('b+'), order.join(' '))
      assert.ok(order.indexOf('c-') < order.indexOf('a-'), order.join(' '))
      // A failing holder releases the lock too.
      await assert.rejects(
        a.locks.withLock(name, 2000, async () => Promise.reject(new Error('boom'))),
        /boom/,
      )
      assert.equal(await b.locks.withLock(name, 2000, async () => 'free'), 'free')
    })

    test('notices: every subscriber on every view hears a notice, of its channel only', async () => {
      const [a, b] = await open()
      const channel = `n${Math.random().toString(36).slice(2, 8)}`
      const heardA: string[] = []
      const heardB: string[] = []
      a.notices.subscribe(channel, (m) => heardA.push(m))
      b.notices.subscribe(channel, (m) => heardB.push(m))
      b.notices.subscribe(`${channel}-other`, (m) => heardB.push(`wrong: ${m}`))
      await new Promise((r) => setTimeout(r, 50))
      a.notices.publish(channel, 'one')
      const end = Date.now() + 3000
      while (heardB.length < 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
      assert.deepEqual(heardA, ['one'])
      assert.deepEqual(heardB, ['one'])
    })
  })
}
