/**
 * Key rings (src/identity/key-ring.ts) on the real SQLite key store, with the movable clock: the
 * newest key signs, replaced keys verify for their grace and are then retired, the JWKS publishes
 * exactly the public halves of the keys that can still verify.
 */
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { importJWK, jwtVerify } from 'jose'
import { KeyRing, type KeyRingOptions } from '../../src/identity/key-ring.js'
import { AccessTokens } from '../../src/identity/access-tokens.js'
import { CsrfTokens } from '../../src/identity/csrf-tokens.js'
import { audience, issuer, memoryStores, minute, newSealer, second, testClock } from './support.js'

const ttlMs = 15 * minute
const graceMs = ttlMs

function options(o: Partial<KeyRingOptions> = {}): KeyRingOptions {
  return { use: 'jwt', alg: 'EdDSA', store: memoryStores().keys, sealer: newSealer(), clock: testClock(), verifyGraceMs: graceMs, ...o }
}

const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']

describe('key ring', () => {
  test('open creates the first key when the store has none, and finds it again on the next open', async () => {
    const o = options()
    const ring = await KeyRing.open(o)
    assert.equal(ring.use, 'jwt')
    assert.equal(ring.keys().length, 1)
    const k = ring.current()
    assert.equal(k.alg, 'EdDSA')
    assert.equal(k.verifyUntil, null)
    assert.match(k.kid, /^jwt-20261123-[0-9a-f]{8}$/)
    const again = await KeyRing.open(o)
    assert.deepEqual(
      again.keys().map((x) => x.kid),
      [k.kid],
    )
  })

  test('private material is stored sealed: the store holds no private JWK member in clear', async () => {
    const stores = memoryStores()
    const sealer = newSealer()
    const ring = await KeyRing.open(options({ store: stores.keys, sealer }))
    const [stored] = await stores.keys.list('jwt')
    assert.ok(stored)
    assert.equal(stored.kid, ring.current().kid)
    const pub = JSON.parse(stored.public_jwk!) as Record<string, unknown>
    for (const m of privateMembers) assert.equal(m in pub, false, m)
    assert.equal(stored.sealed.split('.').length, 5)
    assert.equal(stored.sealed.includes('"d"'), false)
    const opened = JSON.parse(await sealer.unseal(stored.sealed)) as Record<string, unknown>
    assert.equal(typeof opened['d'], 'string')
    // Another key-encryption key cannot open it.
    await assert.rejects(newSealer().unseal(stored.sealed))
  })

  test('rotation: the newest key signs, the old one still verifies until its grace is over', async () => {
    const clock = testClock()
    const ring = await KeyRing.open(options({ clock }))
    const access = new AccessTokens({ ring, clock, issuer, audience, ttlMs, skewMs: 0 })
    const oldKid = ring.current().kid
    const before = await access.issue({ id: 'u1', username: 'alice', roles: [] }, 's1')
    clock.advance(minute)
    const newKid = await ring.rotate()
    assert.notEqual(newKid, oldKid)
    assert.equal(ring.current().kid, newKid)
    assert.deepEqual(
      ring.keys().map((k) => k.kid),
      [oldKid, newKid],
    )
    assert.equal(ring.keys()[0]!.verifyUntil, clock() + graceMs)
    assert.equal(ring.current().verifyUntil, null)
    const after = await access.issue({ id: 'u1', username: 'alice', roles: [] }, 's1')
    const header = (t: string) => JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()) as { kid: string }
    assert.equal(header(before.token).kid, oldKid)
    assert.equal(header(after.token).kid, newKid)
    // The token signed before the rotation verifies until it expires.
    clock.advance(ttlMs - minute - second)
    const claims = await new AccessTokens({ ring, clock, issuer, audience, ttlMs, skewMs: 0 }).verify(before.token)
    assert.equal(typeof claims === 'string' ? claims : claims.sub, 'u1')
    assert.equal((await ring.find(oldKid))?.kid, oldKid)
  })

  test('retirement: once its grace is over an old key no longer verifies, leaves the JWKS and the store', async () => {
    const clock = testClock()
    const stores = memoryStores()
    const ring = await KeyRing.open(options({ clock, store: stores.keys }))
    const oldKid = ring.current().kid
    const newKid = await ring.rotate()
    clock.advance(graceMs - 1)
    assert.ok(await ring.find(oldKid))
    assert.equal(ring.jwks().keys.length, 2)
    clock.advance(1)
    assert.equal(await ring.find(oldKid), null)
    assert.deepEqual(
      ring.keys().map((k) => k.kid),
      [newKid],
    )
    assert.deepEqual(
      ring.jwks().keys.map((k) => k.kid),
      [newKid],
    )
    // Still in the store until the next reload retires it.
    assert.equal((await stores.keys.list('jwt')).length, 2)
    await ring.reload()
    assert.deepEqual(
      (await stores.keys.list('jwt')).map((k) => k.kid),
      [newKid],
    )
    assert.equal(ring.current().kid, newKid)
  })

  test('rotating twice: each replaced key keeps the grace it was given', async () => {
    const clock = testClock()
    const ring = await KeyRing.open(options({ clock }))
    const a = ring.current().kid
    const b = await ring.rotate()
    clock.advance(5 * minute)
    const c = await ring.rotate()
    assert.deepEqual(
      ring.keys().map((k) => k.kid),
      [a, b, c],
    )
    assert.deepEqual(
      ring.keys().map((k) => k.verifyUntil),
      [clock() - 5 * minute + graceMs, clock() + graceMs, null],
    )
    clock.advance(graceMs - 5 * minute)
    assert.deepEqual(
      ring.keys().map((k) => k.kid),
      [b, c],
    )
    clock.advance(5 * minute)
    assert.deepEqual(
      ring.keys().map((k) => k.kid),
      [c],
    )
  })

  test('JWKS: public keys only, each with its kid, alg and use', async () => {
    const clock = testClock()
    for (const alg of ['EdDSA', 'ES256'] as const) {
      const ring = await KeyRing.open(options({ clock, alg }))
      await ring.rotate()
      const { keys } = ring.jwks()
      assert.equal(keys.length, 2)
      assert.deepEqual(
        keys.map((k) => k.kid),
        ring.keys().map((k) => k.kid),
      )
      for (const k of keys) {
        for (const m of privateMembers) assert.equal(m in k, false, `${alg}: ${m}`)
        assert.equal(k.alg, alg)
        assert.equal(k.use, 'sig')
        assert.equal(k.kty, alg === 'EdDSA' ? 'OKP' : 'EC')
        assert.equal(k.crv, alg === 'EdDSA' ? 'Ed25519' : 'P-256')
      }
    }
  })

  test('a token verifies against the published JWKS key of its kid, and only that one', async () => {
    const clock = testClock()
    const ring = await KeyRing.open(options({ clock, alg: 'ES256' }))
    const access = new AccessTokens({ ring, clock, issuer, audience, ttlMs, skewMs: 0 })
    const oldKid = ring.current().kid
    const { token } = await access.issue({ id: 'u1', username: 'alice', roles: [] }, null)
    await ring.rotate()
    const jwks = ring.jwks().keys
    const own = await importJWK(
      jwks.find((k) => k.kid === oldKid)!,
      'ES256',
    )
    const other = await importJWK(
      jwks.find((k) => k.kid !== oldKid)!,
      'ES256',
    )
    const { payload } = await jwtVerify(token, own, { currentDate: new Date(clock()) })
    assert.equal(payload.sub, 'u1')
    await assert.rejects(jwtVerify(token, other, { currentDate: new Date(clock()) }))
  })

  test('the csrf ring holds HMAC secrets: nothing is published', async () => {
    const ring = await KeyRing.open(options({ use: 'csrf', alg: 'HS256' }))
    assert.equal(ring.use, 'csrf')
    assert.equal(ring.current().alg, 'HS256')
    assert.ok(ring.current().signing instanceof Uint8Array)
    assert.equal((ring.current().signing as Uint8Array).length, 32)
    assert.equal(ring.current().publicJwk, null)
    assert.deepEqual(ring.jwks(), { keys: [] })
  })

  test("jwt and csrf rings share a store without touching each other's keys", async () => {
    const clock = testClock()
    const stores = memoryStores()
    const sealer = newSealer()
    const jwt = await KeyRing.open(options({ clock, store: stores.keys, sealer }))
    const csrf = await KeyRing.open(options({ clock, store: stores.keys, sealer, use: 'csrf', alg: 'HS256' }))
    const jwtKid = jwt.current().kid
    await csrf.rotate()
    await jwt.reload()
    assert.equal(jwt.current().verifyUntil, null)
    assert.deepEqual(
      jwt.keys().map((k) => k.kid),
      [jwtKid],
    )
    assert.equal(csrf.keys().length, 2)
  })

  test('a rotation made elsewhere is picked up on an unknown kid, at most once per reload interval', async () => {
    const clock = testClock()
    const stores = memoryStores()
    const sealer = newSealer()
    const here = await KeyRing.open(options({ clock, store: stores.keys, sealer, reloadMs: 5 * second }))
    const there = await KeyRing.open(options({ clock, store: stores.keys, sealer, reloadMs: 5 * second }))
    assert.equal(here.current().kid, there.current().kid)
    const first = await there.rotate()
    // Loaded just now: an unknown kid does not reload yet.
    assert.equal(await here.find(first), null)
    clock.advance(5 * second)
    assert.equal((await here.find(first))?.kid, first)
    assert.equal(here.current().kid, first)
    const later = await there.rotate()
    clock.advance(second)
    assert.equal(await here.find(later), null)
    assert.equal(await here.find('jwt-19700101-deadbeef'), null)
    clock.advance(4 * second)
    assert.equal((await here.find(later))?.kid, later)
  })

  test('csrf tokens: the newest secret signs, an old one verifies through its grace, a token is bound to its session', async () => {
    const clock = testClock()
    const ring = await KeyRing.open(options({ clock, use: 'csrf', alg: 'HS256' }))
    const csrf = new CsrfTokens(ring)
    const old = csrf.issue('sid-1')
    assert.equal(old.split('.')[0], ring.current().kid)
    assert.equal(await csrf.verify(old, 'sid-1'), true)
    assert.equal(await csrf.verify(old, 'sid-2'), false)
    const [kid, nonce, tag] = old.split('.') as [string, string, string]
    assert.equal(await csrf.verify(`${kid}.${nonce}x.${tag}`, 'sid-1'), false)
    assert.equal(await csrf.verify(`${kid}.${nonce}.${tag.slice(0, -1)}${tag.endsWith('A') ? 'B' : 'A'}`, 'sid-1'), false)
    assert.equal(await csrf.verify(`${kid}.${nonce}`, 'sid-1'), false)
    const newKid = await ring.rotate()
    const fresh = csrf.issue('sid-1')
    assert.equal(fresh.split('.')[0], newKid)
    assert.equal(await csrf.verify(old, 'sid-1'), true)
    clock.advance(graceMs)
    assert.equal(await csrf.verify(old, 'sid-1'), false)
    assert.equal(await csrf.verify(fresh, 'sid-1'), true)
  })
})
