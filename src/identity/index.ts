/**
 * The identity module: accounts, passwords, sessions, key rings, API keys
 * and CSRF tokens behind one object. No HTTP here: the auth and csrf stages translate requests
 * into these calls and results into responses.
 */
import { createHmac, hkdfSync, randomUUID } from 'node:crypto'
import type { AuthConfig } from '../config/types.js'
import type { IdentityStores, User } from '../storage/types.js'
import { StorageConflict } from '../errors.js'
import { systemClock, type Clock } from './clock.js'
import { createSealer, type Sealer } from './seal.js'
import { parseKeyEncryptionKey } from '../config/key-encryption-key.js'
import { createPasswordHasher, type PasswordHasher } from './passwords.js'
import { checkPassword, isEmail, isUsername, mayBePassword, type PasswordProblem } from './password-policy.js'
import { KeyRing } from './key-ring.js'
import { AccessTokens, type AccessClaims } from './access-tokens.js'
import { Sessions, type ClientInfo, type RefreshOutcome, type TokenPair } from './sessions.js'
import { ApiKeys } from './api-keys.js'
import { CsrfTokens } from './csrf-tokens.js'
import { BruteForce } from './brute-force.js'
import { FileKeyStore, plainSealer } from './file-keys.js'
import type { Locks, Notices } from '../storage/types.js'
import { MemoryLocks } from '../storage/memory/locks.js'

export type { TokenPair, ClientInfo, RefreshOutcome, AccessClaims }

export type LoginOutcome =
  | { readonly ok: true; readonly pair: TokenPair; readonly user: User }
  | { readonly ok: false; readonly reason: 'invalid' }
  /** Too many failures for this account or client IP: retry after `until` (epoch ms). */
  | { readonly ok: false; readonly reason: 'locked'; readonly until: number; readonly justLocked: boolean }

export type RegisterOutcome =
  { readonly ok: true; readonly user: User } | { readonly ok: false; readonly reason: 'bad_username' | 'bad_email' | 'taken' | PasswordProblem }

export interface IdentityOptions {
  readonly clock?: Clock
  /** Tests lower the argon2 cost; the config's parameters otherwise. */
  readonly argon2?: AuthConfig['argon2']
  /** Single-flight refreshes across instances (Redis); default: within this process. */
  readonly locks?: Locks
  /** Revocations heard from other instances drop what this one remembers; default: none. */
  readonly notices?: Notices
}

/** The notice channel for "forget what you remember" after a revocation elsewhere. */
const revocations = 'identity-revocations'

export class Identity {
  readonly settings: AuthConfig
  readonly stores: IdentityStores
  readonly clock: Clock
  readonly hasher: PasswordHasher
  readonly jwtRing: KeyRing
  readonly csrfRing: KeyRing
  readonly access: AccessTokens
  readonly sessions: Sessions
  readonly apiKeys: ApiKeys
  readonly csrf: CsrfTokens
  readonly bruteForce: BruteForce
  readonly #notices: Notices | null
  readonly #locks: Locks
  /** HMAC key for `loggedUsername`, derived from the key-encryption key (the same on every instance). */
  readonly #fingerprintKey: Buffer

  private constructor(
    settings: AuthConfig,
    stores: IdentityStores,
    clock: Clock,
    sealer: Sealer,
    fingerprintKey: Buffer,
    hasher: PasswordHasher,
    jwtRing: KeyRing,
    csrfRing: KeyRing,
    options: IdentityOptions,
  ) {
    this.#fingerprintKey = fingerprintKey
    this.settings = settings
    this.stores = stores
    this.clock = clock
    this.hasher = hasher
    this.jwtRing = jwtRing
    this.csrfRing = csrfRing
    this.access = new AccessTokens({
      ring: jwtRing,
      clock,
      issuer: settings.issuer,
      audience: settings.audience,
      ttlMs: settings.access_ttl,
      skewMs: settings.clock_skew,
    })
    this.#locks = options.locks ?? new MemoryLocks()
    this.sessions = new Sessions({
      refresh: stores.refresh,
      users: stores.users,
      access: this.access,
      sealer,
      clock,
      refreshTtlMs: settings.refresh_ttl,
      graceMs: settings.refresh_grace,
      locks: this.#locks,
    })
    this.#notices = options.notices ?? null
    this.apiKeys = new ApiKeys(stores.apiKeys, stores.users, clock, 1000, () => this.#notices?.publish(revocations, 'forget'))
    // Another instance revoked a key or disabled a user: drop the API key verdicts this one
    // remembers (otherwise kept up to a second).
    this.#notices?.subscribe(revocations, () => {
      this.apiKeys.forget()
      this.access.forget()
    })
    this.csrf = new CsrfTokens(csrfRing)
    this.bruteForce = new BruteForce(stores.throttle, settings.brute_force, clock)
  }

  static async open(settings: AuthConfig, stores: IdentityStores, options: IdentityOptions = {}): Promise<Identity> {
    const clock = options.clock ?? systemClock
    const key = parseKeyEncryptionKey(settings.key_encryption_key)
    if (key === null) throw new TypeError('auth.key_encryption_key must be 32 bytes')
    const sealer = createSealer(key)
    const fingerprintKey = Buffer.from(hkdfSync('sha256', key, new Uint8Array(0), 'drawbridge log fingerprint', 32))
    const hasher = await createPasswordHasher(options.argon2 ?? settings.argon2)
    // A replaced signing key verifies for the life of the last token it signed, plus skew.
    const jwtRing =
      settings.signing_keys_file === null
        ? await KeyRing.open({
            use: 'jwt',
            alg: settings.algorithm,
            store: stores.keys,
            sealer,
            clock,
            verifyGraceMs: settings.access_ttl + settings.clock_skew,
          })
        : await KeyRing.open({
            use: 'jwt',
            alg: settings.algorithm,
            store: new FileKeyStore(settings.signing_keys_file),
            sealer: plainSealer,
            clock,
            verifyGraceMs: 0,
          })
    // A CSRF token lives as long as its session: a replaced secret verifies for a whole session.
    const csrfRing = await KeyRing.open({ use: 'csrf', alg: 'HS256', store: stores.keys, sealer, clock, verifyGraceMs: settings.refresh_ttl })
    return new Identity(settings, stores, clock, sealer, fingerprintKey, hasher, jwtRing, csrfRing, options)
  }

  /** Password login with brute-force limits; unknown users cost one argon2 verification too. */
  async login(username: string, password: string, client: ClientInfo): Promise<LoginOutcome> {
    // One attempt per account at a time, across instances: concurrent guesses would otherwise all
    // be checked before the first failure is counted, and slip past the per-account limit.
    const account = BruteForce.accountKey(username.slice(0, 256))
    return this.#locks.withLock(`login:${account}`, 10_000, () => this.#login(username, password, client))
  }

  async #login(username: string, password: string, client: ClientInfo): Promise<LoginOutcome> {
    const locked = await this.bruteForce.lockedUntil(username, client.ip)
    if (locked !== null) return { ok: false, reason: 'locked', until: locked, justLocked: false }
    const user = username.length <= 256 ? await this.stores.users.byUsername(username) : null
    const good = await this.hasher.verify(user?.password_hash ?? null, password.length <= 4096 ? password : '')
    if (!good || user === null || user.disabled) {
      const { locked: justLocked } = await this.bruteForce.failed(username, client.ip)
      if (justLocked) {
        const until = (await this.bruteForce.lockedUntil(username, client.ip)) ?? this.clock()
        return { ok: false, reason: 'locked', until, justLocked: true }
      }
      return { ok: false, reason: 'invalid' }
    }
    await this.bruteForce.succeeded(username)
    if (this.hasher.needsRehash(user.password_hash)) {
      await this.stores.users.update(user.id, { password_hash: await this.hasher.hash(password) }, this.clock())
    }
    return { ok: true, pair: await this.sessions.start(user, client), user }
  }

  /**
   * A login's username as security events may keep it: as typed, unless it may be a password
   * (`mayBePassword`); then masked, with a keyed fingerprint so that events about one value can
   * still be grouped (an unkeyed hash of a password could be reversed with a word list).
   */
  loggedUsername(username: string): string {
    if (!mayBePassword(username)) return username
    return `[MASKED ${createHmac('sha256', this.#fingerprintKey).update(username).digest('hex').slice(0, 16)}]`
  }

  /** Creates an account after the policy checks (registration endpoint and `drawbridge users add`). */
  async register(username: string, email: string | null, password: string, roles: readonly string[] = []): Promise<RegisterOutcome> {
    if (!isUsername(username)) return { ok: false, reason: 'bad_username' }
    if (email !== null && !isEmail(email)) return { ok: false, reason: 'bad_email' }
    const problem = checkPassword(this.settings.password, password, username, email)
    if (problem !== null) return { ok: false, reason: problem }
    try {
      const user = await this.stores.users.create({
        id: randomUUID(),
        username,
        email,
        password_hash: await this.hasher.hash(password),
        roles: [...roles],
        disabled: false,
        created_at: this.clock(),
      })
      return { ok: true, user }
    } catch (err) {
      if (err instanceof StorageConflict) return { ok: false, reason: 'taken' }
      throw err
    }
  }

  /** A new password (policy checked); every session of the user ends. */
  async setPassword(userId: string, password: string): Promise<PasswordProblem | 'unknown' | null> {
    const user = await this.stores.users.byId(userId)
    if (user === null) return 'unknown'
    const problem = checkPassword(this.settings.password, password, user.username, user.email)
    if (problem !== null) return problem
    await this.stores.users.update(userId, { password_hash: await this.hasher.hash(password) }, this.clock())
    await this.sessions.endAll(userId, 'password-reset')
    return null
  }

  /** Disabling refuses new logins and refreshes at once; existing access tokens die with their short life (or at once with revocation_check). */
  async setDisabled(userId: string, disabled: boolean): Promise<boolean> {
    const user = await this.stores.users.update(userId, { disabled }, this.clock())
    if (user === null) return false
    if (disabled) await this.sessions.endAll(userId, 'disabled')
    this.access.forget()
    this.apiKeys.forget()
    this.#notices?.publish(revocations, 'forget')
    return true
  }

  /**
   * A verified access token's claims, or null; with `revocationCheck` also checked against the
   * store. A token minted for an API key is always checked against the key (cached for at most a
   * second): it must not outlive a revocation by its minute.
   */
  async verifyAccess(token: string, revocationCheck: boolean): Promise<AccessClaims | null> {
    const claims = await this.access.verify(token)
    if (typeof claims === 'string') return null
    if (claims.akid !== null && !(await this.apiKeys.isLive(claims.akid, claims.sub))) return null
    if (revocationCheck && !(await this.stillValid(claims))) return null
    return claims
  }

  /**
   * With `revocation_check`, whether a verified access token's user is still enabled and its
   * session still live: logout and disabling then take effect at once.
   */
  async stillValid(claims: AccessClaims): Promise<boolean> {
    const user = await this.stores.users.byId(claims.sub)
    if (user === null || user.disabled) return false
    if (claims.sid === null) return true
    const revokedAt = await this.stores.refresh.familyRevokedAt(claims.sid)
    return revokedAt === null
  }

  async close(): Promise<void> {
    await this.stores.close()
  }
}
