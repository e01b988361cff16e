/** API keys in PostgreSQL: only the hash of a key is stored, looked up by its public prefix. */
import type { ApiKey, ApiKeyStore } from '../types.js'
import type { PostgresDb } from './database.js'

const columns = 'id, prefix, hash, user_id, name, scopes, created_at, expires_at, revoked_at, last_used_at, rotated_from'

export class PostgresApiKeyStore implements ApiKeyStore {
  readonly #db: PostgresDb

  constructor(db: PostgresDb) {
    this.#db = db
  }

  async create(k: Omit<ApiKey, 'revoked_at' | 'last_used_at'>): Promise<void> {
    // A taken id or prefix is a unique violation: StorageConflict from the database layer.
    await this.#db.query(`INSERT INTO api_keys (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, $9)`, [
      k.id,
      k.prefix,
      k.hash,
      k.user_id,
      k.name,
      JSON.stringify(k.scopes),
      k.created_at,
      k.expires_at,
      k.rotated_from,
    ])
  }

  async byPrefix(prefix: string): Promise<ApiKey | null> {
    return (await this.#db.query<ApiKey>(`SELECT ${columns} FROM api_keys WHERE prefix = $1`, [prefix])).rows[0] ?? null
  }

  async byId(id: string): Promise<ApiKey | null> {
    return (await this.#db.query<ApiKey>(`SELECT ${columns} FROM api_keys WHERE id = $1`, [id])).rows[0] ?? null
  }

  async list(userId?: string): Promise<ApiKey[]> {
    const r =
      userId === undefined
        ? await this.#db.query<ApiKey>(`SELECT ${columns} FROM api_keys ORDER BY created_at, id COLLATE "C"`)
        : await this.#db.query<ApiKey>(`SELECT ${columns} FROM api_keys WHERE user_id = $1 ORDER BY created_at, id COLLATE "C"`, [userId])
    return r.rows
  }

  async revoke(id: string, now: number): Promise<boolean> {
    return ((await this.#db.query('UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, now])).rowCount ?? 0) > 0
  }

  async expire(id: string, at: number): Promise<boolean> {
    return ((await this.#db.query('UPDATE api_keys SET expires_at = $2 WHERE id = $1 AND (expires_at IS NULL OR expires_at > $2)', [id, at])).rowCount ?? 0) > 0
  }

  async touch(id: string, now: number): Promise<void> {
    await this.#db.query('UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)', [id, now])
  }
}
