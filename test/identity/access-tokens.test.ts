/**
 * Access tokens (src/identity/access-tokens.ts): short at+jwt tokens signed by the newest ring
 * key. Verification pins algorithm, issuer, audience and type, bounds the life by access_ttl and
 * refuses an iat in the future; expiry is driven by the movable clock.
 */
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { SignJWT, base64url, decodeProtectedHeader, generateKeyPair } from 'jose'
import { AccessTokens, type AccessClaims } from '../../src/identity/access-tokens.js'
import { KeyRing } from '../../src/identity/key-ring.js'
import { audience, issuer, memoryStores, minute, newSealer, second, testClock, tokenKit, type TokenKit } from './support.js'

const alice = { id: 'user-1', username: 'alice', roles: ['user', 'billing'] }
const ttlMs = 15 * minute

function claimsOf(r: AccessClaims | string): AccessClaims {
  assert.equal(typeof r, 'object', `refused: ${String(r)}`)
  return r as AccessClaims
}

/** A fresh verifier on the same ring and clock: nothing remembered. */
function fresh(k: TokenKit, skewMs = 0): AccessTokens {
  return new AccessTokens({ ring: k.ring, clock: k.clock, issuer, audience, ttlMs, skewMs })
}

/** A token signed with the ring's current key, with every claim and header under the test's control. */
async function forge(
  k: TokenKit,
  o: { iss?: string; aud?: string; typ?: string; iat?: number; exp?: number; claims?: Record<string, unknown>; jti?: string | null } = {},
): Promise<string> {
  const key = k.ring.current()
  const iat = o.iat ?? Math.floor(k.clock() / 1000)
  let jwt = new SignJWT({ username: 'alice', roles: ['user'], ...o.claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: o.typ ?? 'at+jwt' })
    .setSubject('user-1')
    .setIssuer(o.iss ?? issuer)
    .setAudience(o.aud ?? audience)
    .setIssuedAt(iat)
    .setExpirationTime(o.exp ?? iat + ttlMs / 1000)
  if (o.jti !== null) jwt = jwt.setJti(o.jti ?? 'jti-1')
  return jwt.sign(key.signing)
}

describe('access tokens', () => {
  test('issue and verify: claims round-trip, header names the signing key and the at+jwt type', async () => {
    const k = await tokenKit()
    const { token, claims } = await k.access.issue(alice, 'session-1')
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'EdDSA', kid: k.ring.current().kid, typ: 'at+jwt' })
    assert.equal(claims.iat, k.clock() / 1000)
    assert.equal(claims.exp, claims.iat + ttlMs / 1000)
    assert.equal(claims.sid, 'session-1')
    assert.equal(claims.akid, null)
    const v = claimsOf(await fresh(k).verify(token))
    assert.deepEqual(v, claims)
    assert.deepEqual(v.roles, ['user', 'billing'])
    assert.equal(v.sub, 'user-1')
    assert.equal(v.username, 'alice')
    // Every token gets its own id.
    const again = await k.access.issue(alice, 'session-1')
    assert.notEqual(again.claims.jti, claims.jti)
  })

  test('a token for an API key carries its akid and no sid; a shorter life may be asked, never a longer one', async () => {
    const k = await tokenKit()
    const short = await k.access.issue(alice, null, { ttlMs: minute, apiKeyId: 'key-1' })
    assert.equal(short.claims.exp - short.claims.iat, 60)
    const v = claimsOf(await fresh(k).verify(short.token))
    assert.equal(v.akid, 'key-1')
    assert.equal(v.sid, null)
    const long = await k.access.issue(alice, null, { ttlMs: 10 * ttlMs })
    assert.equal(long.claims.exp - long.claims.iat, ttlMs / 1000)
    claimsOf(await fresh(k).verify(long.token))
  })

  test('a token expires after access_ttl, remembered or not', async () => {
    const k = await tokenKit()
    const { token } = await k.access.issue(alice, 's')
    claimsOf(await k.access.verify(token))
    k.clock.advance(ttlMs - 1)
    claimsOf(await k.access.verify(token))
    claimsOf(await fresh(k).verify(token))
    k.clock.advance(1)
    assert.equal(await k.access.verify(token), 'expired')
    assert.equal(await fresh(k).verify(token), 'expired')
  })

  test('clock_skew is tolerated on expiry, in both the remembered and the fresh check', async () => {
    const k = await tokenKit({ skewMs: 30 * second })
    const { token } = await k.access.issue(alice, 's')
    claimsOf(await k.access.verify(token))
    k.clock.advance(ttlMs + 29 * second)
    claimsOf(await k.access.verify(token))
    claimsOf(await fresh(k, 30 * second).verify(token))
    k.clock.advance(second)
    assert.equal(await k.access.verify(token), 'expired')
    assert.equal(await fresh(k, 30 * second).verify(token), 'expired')
  })

  test('malformed tokens', async () => {
    const k = await tokenKit()
    const { token } = await k.access.issue(alice, 's')
    for (const bad of ['', 'abc', 'a.b', `${token}.x`, '!!!.@@@.###', 'x'.repeat(4097)]) {
      assert.equal(await k.access.verify(bad), 'malformed', bad.slice(0, 20))
    }
  })

  test('no kid, an unknown kid, or a kid of another ring: invalid', async () => {
    const k = await tokenKit()
    const [h, p, s] = (await k.access.issue(alice, 's')).token.split('.') as [string, string, string]
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>
    const withHeader = (x: Record<string, unknown>) => `${base64url.encode(JSON.stringify(x))}.${p}.${s}`
    const { kid: _kid, ...noKid } = header
    assert.equal(await fresh(k).verify(withHeader(noKid)), 'invalid')
    assert.equal(await fresh(k).verify(withHeader({ ...header, kid: 'jwt-20260101-00000000' })), 'invalid')
    assert.equal(await fresh(k).verify(withHeader({ ...header, kid: 42 })), 'invalid')
    const other = await tokenKit({ clock: k.clock })
    assert.equal(await other.access.verify((await k.access.issue(alice, 's')).token), 'invalid')
  })

  test('alg none and HS256 keyed with the public key (algorithm confusion) are refused', async () => {
    const k = await tokenKit()
    const kid = k.ring.current().kid
    const now = Math.floor(k.clock() / 1000)
    const payload = { sub: 'user-1', username: 'alice', roles: ['admin'], iss: issuer, aud: audience, iat: now, exp: now + 60, jti: 'j' }
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', kid, typ: 'at+jwt' }))}.${base64url.encode(JSON.stringify(payload))}.`
    assert.equal(await k.access.verify(none), 'invalid')
    const publicJwk = k.ring.current().publicJwk!
    for (const secret of [new TextEncoder().encode(JSON.stringify(publicJwk)), base64url.decode(publicJwk.x!)]) {
      const hs = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' }).sign(secret)
      assert.equal(await k.access.verify(hs), 'invalid')
    }
  })

  test('a ring kid on a token signed by another key, or an altered payload: invalid', async () => {
    const k = await tokenKit()
    const stranger = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const now = Math.floor(k.clock() / 1000)
    const forged = await new SignJWT({ username: 'alice', roles: ['admin'] })
      .setProtectedHeader({ alg: 'EdDSA', kid: k.ring.current().kid, typ: 'at+jwt' })
      .setSubject('user-1')
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti('j')
      .sign(stranger.privateKey)
    assert.equal(await k.access.verify(forged), 'invalid')
    const [h, p, s] = (await k.access.issue(alice, 's')).token.split('.') as [string, string, string]
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
    const altered = `${h}.${base64url.encode(JSON.stringify({ ...payload, roles: ['admin'] }))}.${s}`
    assert.equal(await k.access.verify(altered), 'invalid')
  })

  test('issuer, audience and type are pinned', async () => {
    const k = await tokenKit()
    claimsOf(await fresh(k).verify(await forge(k)))
    assert.equal(await fresh(k).verify(await forge(k, { iss: 'https://elsewhere.test' })), 'invalid')
    assert.equal(await fresh(k).verify(await forge(k, { aud: 'another-api' })), 'invalid')
    assert.equal(await fresh(k).verify(await forge(k, { typ: 'JWT' })), 'invalid')
  })

  test('a life longer than access_ttl is refused even while young; an iat in the future beyond the skew too', async () => {
    const k = await tokenKit({ skewMs: 30 * second })
    const now = Math.floor(k.clock() / 1000)
    const v = () => fresh(k, 30 * second)
    assert.equal(await v().verify(await forge(k, { exp: now + ttlMs / 1000 + 1 })), 'invalid')
    assert.equal(await v().verify(await forge(k, { exp: now + 365 * 86400 })), 'invalid')
    claimsOf(await v().verify(await forge(k, { iat: now + 30 })))
    assert.equal(await v().verify(await forge(k, { iat: now + 31 })), 'invalid')
    assert.equal(await v().verify(await forge(k, { iat: now + 3600 })), 'invalid')
  })

  test('required claims and their types are checked', async () => {
    const k = await tokenKit()
    assert.equal(await fresh(k).verify(await forge(k, { jti: null })), 'invalid')
    assert.equal(await fresh(k).verify(await forge(k, { claims: { roles: 'admin' } })), 'invalid')
    assert.equal(await fresh(k).verify(await forge(k, { claims: { roles: ['user', 7] } })), 'invalid')
    assert.equal(await fresh(k).verify(await forge(k, { claims: { username: 7 } })), 'invalid')
    assert.equal(await fresh(k).verify(await forge(k, { claims: { sid: 7 } })), 'invalid')
    assert.equal(await fresh(k).verify(await forge(k, { claims: { akid: ['x'] } })), 'invalid')
  })

  test('tokens signed before a rotation verify with the old key; after it new ones name the new key', async () => {
    const k = await tokenKit()
    const before = await k.access.issue(alice, 's')
    const kid = await k.ring.rotate()
    const after = await k.access.issue(alice, 's')
    assert.equal(decodeProtectedHeader(after.token).kid, kid)
    claimsOf(await fresh(k).verify(before.token))
    claimsOf(await fresh(k).verify(after.token))
  })

  test('verified tokens are remembered until forget(), within a bounded cache', async () => {
    // A ring whose replaced keys stop verifying at once (as with a signing-keys file).
    const clock = testClock()
    const ring = await KeyRing.open({ use: 'jwt', alg: 'EdDSA', store: memoryStores().keys, sealer: newSealer(), clock, verifyGraceMs: 0 })
    const access = new AccessTokens({ ring, clock, issuer, audience, ttlMs, skewMs: 0, cacheSize: 1 })
    const a = await access.issue(alice, 's')
    const b = await access.issue(alice, 's')
    claimsOf(await access.verify(a.token))
    claimsOf(await access.verify(b.token))
    await ring.rotate()
    // b is remembered; a was pushed out by b (cache size 1) and its key is gone.
    claimsOf(await access.verify(b.token))
    assert.equal(await access.verify(a.token), 'invalid')
    access.forget()
    assert.equal(await access.verify(b.token), 'invalid')
  })
})
