/**
 * Refresh-token families in PostgreSQL. `rotate` locks the token row (SELECT ... FOR UPDATE) in
 * one transaction: of two refreshes racing from any instances, the second waits, then sees the
 * token used; exactly one wins.
 */
import type { NewRefreshToken, RefreshStore, RefreshToken, RotateResult } from '../types.js'
import type { PostgresDb } from './database.js'

const select = `SELECT t.hash, t.family_id, f.user_id, t.issued_at, t.expires_at, t.client, t.used_at, t.successor_sealed, f.revoked_at AS family_revoked_at
  FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.hash = $1`

const insertToken = 'INSERT INTO refresh_tokens (hash, family_id, issued_at, expires_at, client) VALUES ($1, $2, $3, $4, $5)'

export class PostgresRefreshStore implements RefreshStore {
  readonly #db: PostgresDb

  constructor(db: PostgresDb) {
    this.#db = db
  }

  async createFamily(family: { id: string; user_id: string; created_at: number }, first: NewRefreshToken): Promise<void> {
    await this.#db.transaction(async (q) => {
      await q.query('INSERT INTO refresh_families (id, user_id, created_at) VALUES ($1, $2, $3)', [family.id, family.user_id, family.created_at])
      await q.query(insertToken, [first.hash, family.id, first.issued_at, first.expires_at, first.client])
    })
  }

  async find(hash: string): Promise<RefreshToken | null> {
    return (await this.#db.query<RefreshToken>(select, [hash])).rows[0] ?? null
  }

  async rotate(hash: string, next: NewRefreshToken, sealed: string, now: number): Promise<RotateResult> {
    return this.#db.transaction(async (q): Promise<RotateResult> => {
      // FOR SHARE on the family too: a revocation committing meanwhile is seen, not overtaken.
      const t = (await q.query<RefreshToken>(`${select} FOR UPDATE OF t FOR SHARE OF f`, [hash])).rows[0]
      if (t === undefined) return { kind: 'unknown' }
      if (t.used_at !== null || t.family_revoked_at !== null || t.expires_at <= now) return { kind: 'used', token: t }
      await q.query('UPDATE refresh_tokens SET used_at = $2, successor_sealed = $3 WHERE hash = $1', [hash, now, sealed])
      await q.query(insertToken, [next.hash, t.family_id, next.issued_at, next.expires_at, next.client])
      return { kind: 'rotated' }
    })
  }

  async familyRevokedAt(familyId: string): Promise<number | null | undefined> {
    const r = (await this.#db.query<{ revoked_at: number | null }>('SELECT revoked_at FROM refresh_families WHERE id = $1', [familyId])).rows[0]
    return r === undefined ? undefined : r.revoked_at
  }

  async revokeFamily(familyId: string, reason: string, now: number): Promise<boolean> {
    const r = await this.#db.query('UPDATE refresh_families SET revoked_at = $3, revoke_reason = $2 WHERE id = $1 AND revoked_at IS NULL', [
      familyId,
      reason,
      now,
    ])
    return (r.rowCount ?? 0) > 0
  }

  async revokeUser(userId: string, reason: string, now: number): Promise<number> {
    const r = await this.#db.query('UPDATE refresh_families SET revoked_at = $3, revoke_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL', [
      userId,
      reason,
      now,
    ])
    return r.rowCount ?? 0
  }

  async purge(before: number): Promise<number> {
    return this.#db.transaction(async (q) => {
      const tokens = (await q.query('DELETE FROM refresh_tokens WHERE expires_at < $1', [before])).rowCount ?? 0
      await q.query('DELETE FROM refresh_families f WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id)')
      return tokens
    })
  }
}
