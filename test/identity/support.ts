/**
 * Shared set-up for the identity unit tests: the real embedded stores (SQLite, in memory or in a
 * temporary file), a real sealer, key ring and access tokens, and the movable test clock.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { openSqlite } from '../../src/storage/sqlite/database.js'
import { sqliteIdentityStores } from '../../src/storage/sqlite/identity.js'
import type { IdentityStores, User } from '../../src/storage/types.js'
import { createSealer, type Sealer } from '../../src/identity/seal.js'
import { KeyRing, type SigningAlg } from '../../src/identity/key-ring.js'
import { AccessTokens } from '../../src/identity/access-tokens.js'
import { testClock, type TestClock } from '../helpers/auth.js'

export { testClock, type TestClock }

export const second = 1000
export const minute = 60 * second
export const hour = 60 * minute
export const day = 24 * hour

export const issuer = 'https://drawbridge.test'
export const audience = 'drawbridge-test-api'

export function memoryStores(): IdentityStores {
  return sqliteIdentityStores(openSqlite(':memory:'), true)
}

export function newSealer(): Sealer {
  return createSealer(new Uint8Array(randomBytes(32)))
}

/** Creates an enabled user in `stores` (the hash is never checked outside passwords.ts). */
export async function addUser(stores: IdentityStores, clock: TestClock, username = 'alice', roles: readonly string[] = ['user']): Promise<User> {
  return stores.users.create({
    id: randomUUID(),
    username,
    email: null,
    password_hash: '$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
    roles: [...roles],
    disabled: false,
    created_at: clock(),
  })
}

export interface TokenKit {
  readonly stores: IdentityStores
  readonly clock: TestClock
  readonly sealer: Sealer
  readonly ring: KeyRing
  readonly access: AccessTokens
}

/** A `jwt` key ring on `stores` and the access tokens it signs, as Identity.open wires them. */
export async function tokenKit(o: { stores?: IdentityStores; clock?: TestClock; alg?: SigningAlg; ttlMs?: number; skewMs?: number } = {}): Promise<TokenKit> {
  const stores = o.stores ?? memoryStores()
  const clock = o.clock ?? testClock()
  const sealer = newSealer()
  const ttlMs = o.ttlMs ?? 15 * minute
  const skewMs = o.skewMs ?? 0
  const ring = await KeyRing.open({ use: 'jwt', alg: o.alg ?? 'EdDSA', store: stores.keys, sealer, clock, verifyGraceMs: ttlMs + skewMs })
  const access = new AccessTokens({ ring, clock, issuer, audience, ttlMs, skewMs })
  return { stores, clock, sealer, ring, access }
}
