/** Refresh-token families in SQLite; `rotate` is one IMMEDIATE transaction, so exactly one of two racing refreshes wins. */
import type { NewRefreshToken, RefreshStore, RefreshToken, RotateResult } from '../types.js'
import type { SqliteDb } from './database.js'

const select = `SELECT t.hash, t.family_id, f.user_id, t.issued_at, t.expires_at, t.client, t.used_at, t.successor_sealed, f.revoked_at AS family_revoked_at
  FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.hash = ?`

export class SqliteRefreshStore implements RefreshStore {
  readonly #db: SqliteDb
  readonly #rotate: (hash: string, next: NewRefreshToken, sealed: string, now: number) => RotateResult

  constructor(db: SqliteDb) {
    this.#db = db
    const find = db.prepare(select)
    const markUsed = db.prepare('UPDATE refresh_tokens SET used_at = ?, successor_sealed = ? WHERE hash = ? AND used_at IS NULL')
    const insert = db.prepare('INSERT INTO refresh_tokens (hash, family_id, issued_at, expires_at, client) VALUES (?, ?, ?, ?, ?)')
    const rotate = db.transaction((hash: string, next: NewRefreshToken, sealed: string, now: number): RotateResult => {
      const t = find.get(hash) as RefreshToken | undefined
      if (t === undefined) return { kind: 'unknown' }
      if (t.used_at !== null || t.family_revoked_at !== null || t.expires_at <= now) return { kind: 'used', token: t }
      markUsed.run(now, sealed, hash)
      insert.run(next.hash, t.family_id, next.issued_at, next.expires_at, next.client)
      return { kind: 'rotated' }
    })
    this.#rotate = (...args) => rotate.immediate(...args)
  }

  async createFamily(family: { id: string; user_id: string; created_at: number }, first: NewRefreshToken): Promise<void> {
    this.#db
      .transaction(() => {
        this.#db.prepare('INSERT INTO refresh_families (id, user_id, created_at) VALUES (?, ?, ?)').run(family.id, family.user_id, family.created_at)
        this.#db
          .prepare('INSERT INTO refresh_tokens (hash, family_id, issued_at, expires_at, client) VALUES (?, ?, ?, ?, ?)')
          .run(first.hash, family.id, first.issued_at, first.expires_at, first.client)
      })
      .immediate()
  }

  async find(hash: string): Promise<RefreshToken | null> {
    return (this.#db.prepare(select).get(hash) as RefreshToken | undefined) ?? null
  }

  async rotate(hash: string, next: NewRefreshToken, sealed: string, now: number): Promise<RotateResult> {
    return this.#rotate(hash, next, sealed, now)
  }

  async familyRevokedAt(familyId: string): Promise<number | null | undefined> {
    const r = this.#db.prepare('SELECT revoked_at FROM refresh_families WHERE id = ?').get(familyId) as { revoked_at: number | null } | undefined
    return r === undefined ? undefined : r.revoked_at
  }

  async revokeFamily(familyId: string, reason: string, now: number): Promise<boolean> {
    return (
      this.#db.prepare('UPDATE refresh_families SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL').run(now, reason, familyId).changes >
      0
    )
  }

  async revokeUser(userId: string, reason: string, now: number): Promise<number> {
    return this.#db.prepare('UPDATE refresh_families SET revoked_at = ?, revoke_reason = ? WHERE user_id = ? AND revoked_at IS NULL').run(now, reason, userId)
      .changes
  }

  async purge(before: number): Promise<number> {
    return this.#db
      .transaction(() => {
        const tokens = this.#db.prepare('DELETE FROM refresh_tokens WHERE expires_at < ?').run(before).changes
        this.#db.prepare('DELETE FROM refresh_families WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = refresh_families.id)').run()
        return tokens
      })
      .immediate()
  }
}
