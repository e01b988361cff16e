/**
 * Key rings: the newest key signs, older keys keep verifying until every token
 * they signed has expired, then are retired. Two rings share the mechanism: `jwt` (EdDSA or
 * ES256 signing keys, published as the JWKS) and `csrf` (HMAC secrets for CSRF tokens).
 * Private material is stored sealed (seal.ts). A ring reloads from the store now and then and
 * whenever it meets an unknown `kid`, so a rotation made by `drawbridge keys rotate` or by
 * another instance is picked up without a restart.
 */
import { randomBytes, randomUUID, type webcrypto } from 'node:crypto'
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose'
import type { KeyStore, KeyUse, StoredKey } from '../storage/types.js'
import type { Clock } from './clock.js'
import type { Sealer } from './seal.js'
import { StorageUnavailable } from '../errors.js'

type CryptoKey = webcrypto.CryptoKey

export type SigningAlg = 'EdDSA' | 'ES256'

export interface RingKey {
  readonly kid: string
  readonly alg: string
  readonly createdAt: number
  readonly verifyUntil: number | null
  /** CryptoKey for JWT keys; raw bytes for HMAC secrets. */
  readonly signing: CryptoKey | Uint8Array
  readonly verifying: CryptoKey | Uint8Array
  readonly publicJwk: JWK | null
}

export interface KeyRingOptions {
  readonly use: KeyUse
  readonly alg: SigningAlg | 'HS256'
  readonly store: KeyStore
  readonly sealer: Sealer
  readonly clock: Clock
  /** How long a replaced key keeps verifying: the longest life of what it signed, plus skew. */
  readonly verifyGraceMs: number
  /** Reload from the store at most this often on an unknown kid. */
  readonly reloadMs?: number
}

export class KeyRing {
  readonly #o: KeyRingOptions
  #keys: RingKey[] = []
  #loadedAt = -Infinity
  #loading: Promise<void> | null = null

  private constructor(o: KeyRingOptions) {
    this.#o = o
  }

  /** Loads the ring, creating its first key when the store has none. */
  static async open(o: KeyRingOptions): Promise<KeyRing> {
    const ring = new KeyRing(o)
    await ring.reload()
    if (ring.#keys.length === 0) {
      await ring.rotate()
    }
    return ring
  }

  get use(): KeyUse {
    return this.#o.use
  }

  /** The key that signs now: the newest one. */
  current(): RingKey {
    return this.#keys[this.#keys.length - 1]!
  }

  /** Keys that may still verify, oldest first. */
  keys(): readonly RingKey[] {
    const now = this.#o.clock()
    return this.#keys.filter((k) => k.verifyUntil === null || k.verifyUntil > now)
  }

  /** The verifying key for `kid`, reloading once when it is not known (a rotation elsewhere). */
  async find(kid: string): Promise<RingKey | null> {
    const now = this.#o.clock()
    let k = this.#keys.find((x) => x.kid === kid) ?? null
    if (k === null && now - this.#loadedAt >= (this.#o.reloadMs ?? 5000)) {
      // A file that cannot be read now keeps the keys already loaded; an unreachable store is
      // not "unknown key" (that would refuse a valid token as invalid): the caller answers 503.
      await this.reload().catch((err: unknown) => {
        if (err instanceof StorageUnavailable) throw err
      })
      k = this.#keys.find((x) => x.kid === kid) ?? null
    }
    if (k === null || (k.verifyUntil !== null && k.verifyUntil <= now)) return null
    return k
  }

  /** The published key set: exactly the keys that can still verify (RFC 7517). */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys().flatMap((k) => (k.publicJwk === null ? [] : [{ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' }])) }
  }

  /** Re-reads the store; also retires keys whose time is over. */
  reload(): Promise<void> {
    this.#loading ??= this.#load().finally(() => (this.#loading = null))
    return this.#loading
  }

  async #load(): Promise<void> {
    const now = this.#o.clock()
    await this.#o.store.retire(now)
    const stored = await this.#o.store.list(this.#o.use)
    const keys: RingKey[] = []
    for (const s of stored) keys.push(await this.#open(s))
    this.#keys = keys
    this.#loadedAt = now
  }

  async #open(s: StoredKey): Promise<RingKey> {
    const secret = await this.#o.sealer.unseal(s.sealed)
    if (s.alg === 'HS256') {
      const bytes = new Uint8Array(Buffer.from(secret, 'base64url'))
      return { kid: s.kid, alg: s.alg, createdAt: s.created_at, verifyUntil: s.verify_until, signing: bytes, verifying: bytes, publicJwk: null }
    }
    const privateJwk = JSON.parse(secret) as JWK
    const publicJwk = JSON.parse(s.public_jwk!) as JWK
    return {
      kid: s.kid,
      alg: s.alg,
      createdAt: s.created_at,
      verifyUntil: s.verify_until,
      signing: (await importJWK(privateJwk, s.alg)) as CryptoKey,
      verifying: (await importJWK(publicJwk, s.alg)) as CryptoKey,
      publicJwk,
    }
  }

  /** Adds a new key that signs from now on; the others verify for verifyGraceMs more. Returns its kid. */
  async rotate(): Promise<string> {
    const now = this.#o.clock()
    const kid = `${this.#o.use}-${new Date(now).toISOString().slice(0, 10).replace(/-/g, '')}-${randomUUID().slice(0, 8)}`
    let stored: StoredKey
    if (this.#o.alg === 'HS256') {
      stored = {
        kid,
        use: this.#o.use,
        alg: 'HS256',
        created_at: now,
        public_jwk: null,
        sealed: await this.#o.sealer.seal(randomBytes(32).toString('base64url')),
        verify_until: null,
      }
    } else {
      const pair = await generateKeyPair(this.#o.alg, { extractable: true, ...(this.#o.alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) })
      const pub = await exportJWK(pair.publicKey)
      const priv = await exportJWK(pair.privateKey)
      stored = {
        kid,
        use: this.#o.use,
        alg: this.#o.alg,
        created_at: now,
        public_jwk: JSON.stringify(pub),
        sealed: await this.#o.sealer.seal(JSON.stringify(priv)),
        verify_until: null,
      }
    }
    await this.#o.store.add(stored, now + this.#o.verifyGraceMs)
    await this.reload()
    return kid
  }
}
