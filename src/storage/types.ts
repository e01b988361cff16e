/**
 * The storage interfaces: the only surface stages, identity and the admin API see, in our own
 * shapes, so that no driver's types leak past its adapter. Adapters (memory/, cluster/, redis/,
 * sqlite/, postgres/) implement them and import this file, never the factories that choose them
 * (open.ts, shared-state.ts); one conformance suite in test/storage/ runs against each.
 */

export type EventAction = 'blocked' | 'logged'

/** One detection: what fired, where, on which request. Never holds a raw secret. */
export interface SecurityEvent {
  /** ISO 8601, UTC. */
  readonly time: string
  readonly request_id: string
  readonly client_ip: string
  readonly method: string
  /** Path and query as logged (secret-looking parameters masked). */
  readonly path: string
  readonly route: string
  readonly rule: string
  readonly category: string
  /** path, query, header, cookie or body. */
  readonly location: string
  readonly name: string
  /** At most 120 characters of the matched input, secrets masked. */
  readonly snippet: string
  readonly confidence: number
  /** The request's score when it was judged. */
  readonly score: number
  readonly action: EventAction
}

export interface StoredSecurityEvent extends SecurityEvent {
  /** Increases with insertion order: newest first is highest first. */
  readonly id: number
}

export interface EventQuery {
  /** 1..500 */
  readonly limit: number
  /** Only events with a smaller id (the cursor of the previous page). */
  readonly before?: number
  readonly category?: string
  readonly rule?: string
  readonly client_ip?: string
  readonly action?: EventAction
  readonly request_id?: string
  /** ISO 8601 bounds on `time`, inclusive. */
  readonly since?: string
  readonly until?: string
}

export interface SecurityEventStore {
  append(events: readonly SecurityEvent[]): Promise<void>
  /** Newest first. */
  list(query: EventQuery): Promise<StoredSecurityEvent[]>
  close(): Promise<void>
}

// ---- Identity: every time is epoch milliseconds from the caller's clock, so expiry is
// testable without sleeping; stores never read the wall clock themselves.

export interface User {
  readonly id: string
  /** As registered; lookups are case-insensitive. */
  readonly username: string
  readonly email: string | null
  /** PHC string (argon2id); never leaves the identity module. */
  readonly password_hash: string
  readonly roles: readonly string[]
  readonly disabled: boolean
  readonly created_at: number
  readonly updated_at: number
}

export type NewUser = Omit<User, 'updated_at'>

export interface UserPatch {
  readonly email?: string | null
  readonly password_hash?: string
  readonly roles?: readonly string[]
  readonly disabled?: boolean
}

export interface UserStore {
  /** Throws StorageConflict when the username or email is taken (case-insensitive). */
  create(user: NewUser): Promise<User>
  byId(id: string): Promise<User | null>
  byUsername(username: string): Promise<User | null>
  list(): Promise<User[]>
  update(id: string, patch: UserPatch, now: number): Promise<User | null>
  /** Also deletes the user's refresh families and API keys. */
  delete(id: string): Promise<boolean>
}

/**
 * One refresh token of a family. `successor` is set when it was rotated; the
 * sealed answer of that rotation is kept for the grace window so that a concurrent refresh from
 * the same client receives the same pair instead of tripping reuse detection.
 */
export interface RefreshToken {
  /** SHA-256 of the token, hex: the token itself is never stored. */
  readonly hash: string
  readonly family_id: string
  readonly user_id: string
  readonly issued_at: number
  readonly expires_at: number
  /** Hash of the client fingerprint that received it. */
  readonly client: string
  readonly used_at: number | null
  /** Encrypted answer given when it was rotated; null once rotated outside the grace window. */
  readonly successor_sealed: string | null
  /** When its family was revoked (logout, reuse, user disabled); null: live. */
  readonly family_revoked_at: number | null
}

export type RotateResult =
  /** The token was unused and live: it is now used, the successor stored. */
  | { readonly kind: 'rotated' }
  /** Already used (or the family is revoked): the caller decides between grace and reuse. */
  | { readonly kind: 'used'; readonly token: RefreshToken }
  | { readonly kind: 'unknown' }

export interface RefreshStore {
  /** Starts a family with its first token. */
  createFamily(family: { id: string; user_id: string; created_at: number }, first: NewRefreshToken): Promise<void>
  find(hash: string): Promise<RefreshToken | null>
  /**
   * Atomically marks `hash` used and inserts `next` in the same family, only if `hash` is still
   * unused and its family live: the single place where two concurrent refreshes are told apart.
   */
  rotate(hash: string, next: NewRefreshToken, sealed: string, now: number): Promise<RotateResult>
  /** When the family was revoked; null while live; undefined for an unknown family. */
  familyRevokedAt(familyId: string): Promise<number | null | undefined>
  revokeFamily(familyId: string, reason: string, now: number): Promise<boolean>
  /** Revokes every live family of the user; returns how many. */
  revokeUser(userId: string, reason: string, now: number): Promise<number>
  /** Deletes tokens and families expired before `before`. */
  purge(before: number): Promise<number>
}

export interface NewRefreshToken {
  readonly hash: string
  readonly issued_at: number
  readonly expires_at: number
  readonly client: string
}

export interface ApiKey {
  readonly id: string
  /** The public part shown in lists and logs, e.g. `dbk_3f9a1c2b`. */
  readonly prefix: string
  /** SHA-256 of the whole key, hex. */
  readonly hash: string
  readonly user_id: string
  readonly name: string
  readonly scopes: readonly string[]
  readonly created_at: number
  /** null: never expires. */
  readonly expires_at: number | null
  readonly revoked_at: number | null
  readonly last_used_at: number | null
  /** The key this one replaced by rotation, if any. */
  readonly rotated_from: string | null
}

export interface ApiKeyStore {
  create(key: Omit<ApiKey, 'revoked_at' | 'last_used_at'>): Promise<void>
  byPrefix(prefix: string): Promise<ApiKey | null>
  byId(id: string): Promise<ApiKey | null>
  /** All keys, or one user's. */
  list(userId?: string): Promise<ApiKey[]>
  revoke(id: string, now: number): Promise<boolean>
  /** Shortens a key's life (rotation grace); never lengthens it. */
  expire(id: string, at: number): Promise<boolean>
  touch(id: string, now: number): Promise<void>
}

/** Key ring entries: JWT signing keys and the HMAC secrets for cookies/CSRF. */
export type KeyUse = 'jwt' | 'csrf'

export interface StoredKey {
  readonly kid: string
  readonly use: KeyUse
  /** EdDSA, ES256 or HS256. */
  readonly alg: string
  readonly created_at: number
  /** Public JWK as JSON (null for secrets). */
  readonly public_jwk: string | null
  /** The private JWK or secret, encrypted with the key-encryption key (AES-256-GCM). */
  readonly sealed: string
  /** Set when a newer key took over: it verifies until then, and is dropped after. */
  readonly verify_until: number | null
}

export interface KeyStore {
  list(use: KeyUse): Promise<StoredKey[]>
  /** Adds `key` and, in the same transaction, sets `verify_until` on the keys it replaces. */
  add(key: StoredKey, previousVerifyUntil: number): Promise<void>
  /** Removes keys whose verify_until has passed. */
  retire(now: number): Promise<number>
}

/** Failed-login bookkeeping (brute force): per account and per client IP. */
export interface LoginThrottleStore {
  /** Records a failure under `key` within a window; returns the failures counted so far. */
  fail(key: string, now: number, windowMs: number): Promise<{ count: number; locked_until: number | null }>
  /** `now`: the caller's clock, for how long the record must be kept. */
  lock(key: string, until: number, now: number): Promise<void>
  get(key: string, now: number): Promise<{ count: number; locked_until: number | null }>
  clear(key: string): Promise<void>
}

export interface IdentityStores {
  readonly users: UserStore
  readonly refresh: RefreshStore
  readonly apiKeys: ApiKeyStore
  readonly keys: KeyStore
  readonly throttle: LoginThrottleStore
  close(): Promise<void>
}

// ---- Shared state: what the instances of one deployment share besides the durable records.

/** Messages every instance hears. An accelerator only: the stores stay the truth, so a missed notice costs time, never safety. */
export interface Notices {
  /**
   * Delivered to every subscriber of every instance, this one included (at once here). With
   * `retainUntil` (epoch ms) instances that start or reconnect later still hear it until then.
   */
  publish(channel: string, message: string, retainUntil?: number): void
  subscribe(channel: string, fn: (message: string) => void): void
  close(): Promise<void>
}

export interface Locks {
  /**
   * Runs `fn` while holding the lock `name`; a second caller, on any instance, waits until the
   * first is done (or its `ttlMs` ran out). Throws StorageUnavailable when the lock store is down.
   */
  withLock<T>(name: string, ttlMs: number, fn: () => Promise<T>): Promise<T>
}

/** One counter: `points` per `seconds` for each key. */
export interface LimiterSettings {
  /** Unique per use (rule name, "bans:waf"...). */
  readonly name: string
  readonly points: number
  readonly seconds: number
  /**
   * Up to this many in one window: the extra above `points` comes from an allowance of
   * (burst - points) per ten windows, so a client may spend a short burst but not keep it up.
   * Ignored unless above `points`.
   */
  readonly burst?: number
}

/** A counter's answer. Over the limit is an answer like any other, not an error. */
export interface LimiterAnswer {
  /** false: over the limit. */
  readonly allowed: boolean
  /** Points left in the current window (0 when over). */
  readonly remaining: number
  /** Until the window ends: when over, how long before the key may try again (> 0). */
  readonly retryAfterMs: number
}

export interface Limiter {
  /**
   * Counts `points` (default 1) for `key`. Rejects only when the counter cannot answer (store
   * unreachable, in-process counter full): with StorageUnavailable, so that callers apply their
   * failure rule (`on_store_error`) and never mistake a fault for "over the limit".
   */
  consume(key: string, points?: number): Promise<LimiterAnswer>
}

/**
 * What the instances of one deployment share besides the durable records: counters (rate
 * limits, ban offences, failed logins), notices every instance hears (bans, revocations), and
 * single-flight locks. Three kinds, chosen by the configuration (shared-state.ts):
 * - memory: one process; everything in this process.
 * - cluster: `--workers N` without Redis; counters, notices and locks go through the
 *   node:cluster primary, so a limit or a lock holds once for the machine.
 * - redis: `storage.redis`; every instance on every machine shares one Redis.
 * Opened once per process and kept across reloads, so counts survive a SIGHUP.
 */
export interface SharedState {
  readonly kind: 'memory' | 'cluster' | 'redis'
  /** A counter with these settings; the same object for the same settings, so counts survive a reload. */
  limiter(settings: LimiterSettings): Limiter
  readonly notices: Notices
  readonly locks: Locks
  /** Failed-login counters in Redis; null: the identity store keeps them. */
  readonly throttle: LoginThrottleStore | null
  /** For /readyz: null when there is nothing remote to check. */
  probe(): Promise<{ ok: boolean; error?: string }> | null
  /**
   * Waits (at most `connect_timeout`) for the first connection, so that the first requests find
   * Redis ready; without it Drawbridge still starts, and picks Redis up when it answers.
   */
  connect(): Promise<boolean>
  close(): Promise<void>
}
