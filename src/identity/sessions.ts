/**
 * Refresh-token families. A login starts a family; every refresh rotates
 * the token. Presenting a token that was already rotated revokes the whole family (reuse
 * detection: a stolen token and its rightful owner cannot both keep going), except within a
 * short grace window for the same client, which gets the very pair the first refresh got
 * (two tabs refreshing at once must not log the user out).
 */
import { randomUUID } from 'node:crypto'
import type { RefreshStore, User, UserStore } from '../storage/types.js'
import type { AccessTokens } from './access-tokens.js'
import type { Clock } from './clock.js'
import type { Locks } from '../storage/types.js'
import type { Sealer } from './seal.js'
import { newSecret, sha256 } from './secrets.js'

export interface TokenPair {
  readonly access_token: string
  /** Epoch ms. */
  readonly access_expires_at: number
  readonly refresh_token: string
  readonly refresh_expires_at: number
  /** The family (session) id. */
  readonly sid: string
}

export interface ClientInfo {
  readonly ip: string
  readonly userAgent: string
}

export type RefreshOutcome =
  | { readonly ok: true; readonly pair: TokenPair; readonly user: User; readonly replayed: boolean }
  | { readonly ok: false; readonly reason: 'invalid' | 'expired' | 'revoked' | 'disabled' }
  /** A rotated token came back: the family is now revoked. */
  | { readonly ok: false; readonly reason: 'reused'; readonly userId: string; readonly sid: string }

export interface SessionOptions {
  readonly refresh: RefreshStore
  readonly users: UserStore
  readonly access: AccessTokens
  readonly sealer: Sealer
  readonly clock: Clock
  readonly refreshTtlMs: number
  readonly graceMs: number
  /** One refresh of a token at a time, across instances (the second then gets the grace answer). */
  readonly locks: Locks
}

/** Who asks: the same browser refreshing twice has the same fingerprint. */
export function clientFingerprint(c: ClientInfo): string {
  return sha256(`${c.ip}\n${c.userAgent}`)
}

export class Sessions {
  readonly #o: SessionOptions

  constructor(o: SessionOptions) {
    this.#o = o
  }

  async start(user: User, client: ClientInfo): Promise<TokenPair> {
    const now = this.#o.clock()
    const sid = randomUUID()
    const refresh = newSecret('dbr_')
    const refreshExpires = now + this.#o.refreshTtlMs
    await this.#o.refresh.createFamily(
      { id: sid, user_id: user.id, created_at: now },
      { hash: sha256(refresh), issued_at: now, expires_at: refreshExpires, client: clientFingerprint(client) },
    )
    const access = await this.#o.access.issue(user, sid)
    return { access_token: access.token, access_expires_at: access.claims.exp * 1000, refresh_token: refresh, refresh_expires_at: refreshExpires, sid }
  }

  async refresh(token: string, client: ClientInfo): Promise<RefreshOutcome> {
    if (!token.startsWith('dbr_') || token.length > 100) return { ok: false, reason: 'invalid' }
    const hash = sha256(token)
    // Without the lock (Redis down) no refresh is answered: fail closed (StorageUnavailable).
    return this.#o.locks.withLock(`refresh:${hash}`, 5000, () => this.#refresh(hash, client))
  }

  async #refresh(hash: string, client: ClientInfo): Promise<RefreshOutcome> {
    const now = this.#o.clock()
    const current = await this.#o.refresh.find(hash)
    if (current === null) return { ok: false, reason: 'invalid' }
    const user = await this.#o.users.byId(current.user_id)
    if (user === null) return { ok: false, reason: 'invalid' }
    if (user.disabled) return { ok: false, reason: 'disabled' }
    const fingerprint = clientFingerprint(client)
    if (current.used_at === null && current.family_revoked_at === null && current.expires_at > now) {
      // A family keeps its original end: rotation renews the token, not the session.
      const next = newSecret('dbr_')
      const access = await this.#o.access.issue(user, current.family_id)
      const pair: TokenPair = {
        access_token: access.token,
        access_expires_at: access.claims.exp * 1000,
        refresh_token: next,
        refresh_expires_at: current.expires_at,
        sid: current.family_id,
      }
      // Sealed with who asked: only that client may receive the pair again in the grace window.
      const sealed = await this.#o.sealer.seal(JSON.stringify({ client: fingerprint, pair }))
      const r = await this.#o.refresh.rotate(hash, { hash: sha256(next), issued_at: now, expires_at: current.expires_at, client: fingerprint }, sealed, now)
      if (r.kind === 'rotated') return { ok: true, pair, user, replayed: false }
      if (r.kind === 'unknown') return { ok: false, reason: 'invalid' }
      return this.#alreadyUsed(r.token, fingerprint, user, now)
    }
    return this.#alreadyUsed(current, fingerprint, user, now)
  }

  async #alreadyUsed(t: NonNullable<Awaited<ReturnType<RefreshStore['find']>>>, fingerprint: string, user: User, now: number): Promise<RefreshOutcome> {
    if (t.family_revoked_at !== null) return { ok: false, reason: 'revoked' }
    if (t.used_at === null) return { ok: false, reason: 'expired' }
    if (now - t.used_at <= this.#o.graceMs && t.successor_sealed !== null) {
      const answer = JSON.parse(await this.#o.sealer.unseal(t.successor_sealed)) as { client: string; pair: TokenPair }
      if (answer.client === fingerprint) return { ok: true, pair: answer.pair, user, replayed: true }
    }
    await this.#o.refresh.revokeFamily(t.family_id, 'reuse', now)
    return { ok: false, reason: 'reused', userId: t.user_id, sid: t.family_id }
  }

  /** Logout: revokes the family of a refresh token (or session id). */
  async end(by: { refreshToken?: string; sid?: string }): Promise<{ sid: string; userId: string } | null> {
    const now = this.#o.clock()
    let sid = by.sid ?? null
    let userId: string | null = null
    if (by.refreshToken !== undefined && by.refreshToken.startsWith('dbr_') && by.refreshToken.length <= 100) {
      const t = await this.#o.refresh.find(sha256(by.refreshToken))
      if (t !== null) {
        sid = t.family_id
        userId = t.user_id
      }
    }
    if (sid === null) return null
    await this.#o.refresh.revokeFamily(sid, 'logout', now)
    return { sid, userId: userId ?? '' }
  }

  /** "Log out everywhere". */
  endAll(userId: string, reason: string): Promise<number> {
    return this.#o.refresh.revokeUser(userId, reason, this.#o.clock())
  }
}
