/** API keys in SQLite: only the hash of a key is stored, looked up by its public prefix. */
import { StorageConflict } from '../../errors.js'
import type { ApiKey, ApiKeyStore } from '../types.js'
import type { SqliteDb } from './database.js'

interface Row extends Omit<ApiKey, 'scopes'> {
  scopes: string
}

const columns = 'id, prefix, hash, user_id, name, scopes, created_at, expires_at, revoked_at, last_used_at, rotated_from'

function toKey(r: Row | undefined): ApiKey | null {
  return r === undefined ? null : { ...r, scopes: JSON.parse(r.scopes) as string[] }
}

export class SqliteApiKeyStore implements ApiKeyStore {
  readonly #db: SqliteDb

  constructor(db: SqliteDb) {
    this.#db = db
  }

  async create(k: Omit<ApiKey, 'revoked_at' | 'last_used_at'>): Promise<void> {
    try {
      this.#db
        .prepare(`INSERT INTO api_keys (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)`)
        .run(k.id, k.prefix, k.hash, k.user_id, k.name, JSON.stringify(k.scopes), k.created_at, k.expires_at, k.rotated_from)
    } catch (err) {
      if (String((err as { code?: string }).code).startsWith('SQLITE_CONSTRAINT_')) throw new StorageConflict('api key id or prefix taken')
      throw err
    }
  }

  async byPrefix(prefix: string): Promise<ApiKey | null> {
    return toKey(this.#db.prepare(`SELECT ${columns} FROM api_keys WHERE prefix = ?`).get(prefix) as Row | undefined)
  }

  async byId(id: string): Promise<ApiKey | null> {
    return toKey(this.#db.prepare(`SELECT ${columns} FROM api_keys WHERE id = ?`).get(id) as Row | undefined)
  }

  async list(userId?: string): Promise<ApiKey[]> {
    const rows =
      userId === undefined
        ? this.#db.prepare(`SELECT ${columns} FROM api_keys ORDER BY created_at, id`).all()
        : this.#db.prepare(`SELECT ${columns} FROM api_keys WHERE user_id = ? ORDER BY created_at, id`).all(userId)
    return (rows as Row[]).map((r) => toKey(r)!)
  }

  async revoke(id: string, now: number): Promise<boolean> {
    return this.#db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id).changes > 0
  }

  async expire(id: string, at: number): Promise<boolean> {
    return this.#db.prepare('UPDATE api_keys SET expires_at = ? WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)').run(at, id, at).changes > 0
  }

  async touch(id: string, now: number): Promise<void> {
    this.#db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)').run(now, id, now)
  }
}
