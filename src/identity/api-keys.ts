/**
 * API keys: `dbk_<8 hex>_<256-bit secret>`, shown once. The public part is the lookup
 * key; only a SHA-256 of the whole key is stored and compared in constant time. Rotation issues
 * a new key and lets the old one live for a grace period. Verified keys are remembered for at
 * most a second, so a revocation made anywhere takes effect within that second.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { ApiKey, ApiKeyStore, UserStore, User } from '../storage/types.js'
import type { Clock } from './clock.js'
import { safeEqual, sha256 } from './secrets.js'

export interface ApiKeyIdentity {
  readonly key: ApiKey
  readonly user: User
}

export interface CreatedKey {
  /** The whole key: shown once, never stored. */
  readonly secret: string
  readonly key: ApiKey
}

const shape = /^dbk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/

export class ApiKeys {
  readonly #store: ApiKeyStore
  readonly #users: UserStore
  readonly #clock: Clock
  readonly #cache = new Map<string, { at: number; id: ApiKeyIdentity | null }>()
  /** Key id and user id -> whether it was live, for tokens minted for a key (same one-second bound). */
  readonly #liveCache = new Map<string, { at: number; live: boolean }>()
  readonly #cacheMs: number
  readonly #revoked: () => void

  /** `revoked`: called after a revocation or rotation here, to tell the other instances. */
  constructor(store: ApiKeyStore, users: UserStore, clock: Clock, cacheMs = 1000, revoked: () => void = () => undefined) {
    this.#store = store
    this.#users = users
    this.#clock = clock
    this.#cacheMs = cacheMs
    this.#revoked = revoked
  }

  /** Forgets remembered verdicts (a revocation made elsewhere). */
  forget(): void {
    this.#cache.clear()
    this.#liveCache.clear()
  }

  static looksLikeKey(s: string): boolean {
    return shape.test(s)
  }

  async create(userId: string, o: { name: string; scopes: readonly string[]; expiresAt: number | null; rotatedFrom?: string | null }): Promise<CreatedKey> {
    const prefix = `dbk_${randomBytes(4).toString('hex')}`
    const secret = `${prefix}_${randomBytes(32).toString('base64url')}`
    const key: ApiKey = {
      id: randomUUID(),
      prefix,
      hash: sha256(secret),
      user_id: userId,
      name: o.name,
      scopes: [...o.scopes],
      created_at: this.#clock(),
      expires_at: o.expiresAt,
      revoked_at: null,
      last_used_at: null,
      rotated_from: o.rotatedFrom ?? null,
    }
    await this.#store.create(key)
    return { secret, key }
  }

  /** A new key with the same owner, name and scopes; the old one expires after `graceMs`. */
  async rotate(id: string, graceMs: number, expiresAt: number | null): Promise<CreatedKey | null> {
    const old = await this.#store.byId(id)
    const now = this.#clock()
    if (old === null || old.revoked_at !== null || (old.expires_at !== null && old.expires_at <= now)) return null
    const created = await this.create(old.user_id, { name: old.name, scopes: old.scopes, expiresAt, rotatedFrom: old.id })
    await this.#store.expire(old.id, now + graceMs)
    this.forget()
    this.#revoked()
    return created
  }

  async revoke(id: string): Promise<boolean> {
    this.forget()
    const done = await this.#store.revoke(id, this.#clock())
    // Again after the write: a check between the clear and the write may have remembered "live".
    this.forget()
    this.#revoked()
    return done
  }

  /** The key's owner and scopes, or null for an unknown, revoked, expired or disabled one. */
  async verify(secret: string): Promise<ApiKeyIdentity | null> {
    if (!shape.test(secret)) return null
    const now = this.#clock()
    const cached = this.#cache.get(secret)
    if (cached !== undefined && now - cached.at < this.#cacheMs) return cached.id === null || this.#live(cached.id.key, now) ? cached.id : null
    const key = await this.#store.byPrefix(secret.slice(0, 12))
    let result: ApiKeyIdentity | null = null
    if (key !== null && safeEqual(key.hash, sha256(secret)) && this.#live(key, now)) {
      const user = await this.#users.byId(key.user_id)
      if (user !== null && !user.disabled) result = { key, user }
    }
    if (this.#cache.size >= 10_000) this.#cache.clear()
    this.#cache.set(secret, { at: now, id: result })
    // Last use is recorded at most once a minute per key: not a write per request.
    if (result !== null && (key!.last_used_at === null || now - key!.last_used_at > 60_000)) await this.#store.touch(key!.id, now)
    return result
  }

  /**
   * Whether key `id` is still live and belongs to an enabled `userId`: the check a token minted
   * for an API-key caller needs, so that revoking the key ends the token too. Remembered for at
   * most a second, like `verify` (and forgotten at once on a revocation here or announced).
   */
  async isLive(id: string, userId: string): Promise<boolean> {
    const now = this.#clock()
    // The answer depends on the user too: one asked for another user must not be reused.
    const entry = `${id}\n${userId}`
    const cached = this.#liveCache.get(entry)
    if (cached !== undefined && now - cached.at < this.#cacheMs) return cached.live
    const key = await this.#store.byId(id)
    let live = key !== null && key.user_id === userId && this.#live(key, now)
    if (live) {
      const user = await this.#users.byId(userId)
      live = user !== null && !user.disabled
    }
    if (this.#liveCache.size >= 10_000) this.#liveCache.clear()
    this.#liveCache.set(entry, { at: now, live })
    return live
  }

  #live(key: ApiKey, now: number): boolean {
    return key.revoked_at === null && (key.expires_at === null || key.expires_at > now)
  }
}
