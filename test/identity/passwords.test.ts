/**
 * Password hashing (src/identity/passwords.ts) with the real argon2id binding, at a low cost so
 * the tests stay quick: salted PHC strings, verification, unknown users, re-hash detection.
 */
import { test, describe, before } from 'node:test'
import assert from 'node:assert/strict'
import { createPasswordHasher, type PasswordHasher } from '../../src/identity/passwords.js'

const cheap = { memory_kib: 8192, iterations: 1, parallelism: 1 }
const password = 'correct horse battery staple'

/** The algorithm, version and parameters of a PHC string (their order is the binding's business). */
function phc(hash: string): { alg: string; version: string; params: Record<string, string> } {
  const [, alg = '', version = '', params = ''] = hash.split('$')
  return { alg, version, params: Object.fromEntries(params.split(',').map((kv) => kv.split('=') as [string, string])) }
}

describe('passwords', () => {
  let hasher: PasswordHasher
  before(async () => {
    hasher = await createPasswordHasher(cheap)
  })

  test('hash: an argon2id PHC string with the configured parameters, salted afresh each time', async () => {
    const a = await hasher.hash(password)
    const b = await hasher.hash(password)
    assert.deepEqual(phc(a), { alg: 'argon2id', version: 'v=19', params: { m: '8192', t: '1', p: '1' } })
    assert.equal(a.split('$').length, 6)
    assert.notEqual(a, b)
    assert.equal(a.includes(password), false)
  })

  test('verify: the right password only', async () => {
    const h = await hasher.hash(password)
    assert.equal(await hasher.verify(h, password), true)
    assert.equal(await hasher.verify(h, password + ' '), false)
    assert.equal(await hasher.verify(h, password.toUpperCase()), false)
    assert.equal(await hasher.verify(h, ''), false)
    const other = await hasher.hash('another pass phrase entirely')
    assert.equal(await hasher.verify(other, password), false)
  })

  test('non-ASCII passwords round-trip', async () => {
    const pw = 'pässwörd 🔐 пароль 密码'
    const h = await hasher.hash(pw)
    assert.equal(await hasher.verify(h, pw), true)
    assert.equal(await hasher.verify(h, pw.normalize('NFD')), false)
  })

  test('an unknown user (no hash) is refused after the same kind of work', async () => {
    assert.equal(await hasher.verify(null, password), false)
    assert.equal(await hasher.verify(null, 'drawbridge-dummy-password'), false)
    assert.equal(await hasher.verify(null, ''), false)
  })

  test('a stored hash that is not a valid PHC string is refused, not thrown', async () => {
    for (const bad of ['', 'not-a-hash', '$argon2id$v=19$m=8192,t=1,p=1$', '$2b$10$abcdefghijklmnopqrstuuJ6XyS0b5Q3nH8o7x3m3cQWm1s2Vb5zK']) {
      assert.equal(await hasher.verify(bad, password), false, bad)
    }
  })

  test('needsRehash: true for hashes made with other parameters, false for current ones', async () => {
    const stronger = await createPasswordHasher({ memory_kib: 16384, iterations: 2, parallelism: 1 })
    const old = await hasher.hash(password)
    assert.equal(hasher.needsRehash(old), false)
    assert.equal(stronger.needsRehash(old), true)
    // An old hash still verifies under the new parameters: the login that notices re-hashes it.
    assert.equal(await stronger.verify(old, password), true)
    const renewed = await stronger.hash(password)
    assert.equal(stronger.needsRehash(renewed), false)
    assert.deepEqual(phc(renewed).params, { m: '16384', t: '2', p: '1' })
  })
})
