/** The key ring in SQLite: adding a key and dating the ones it replaces is one transaction. */
import type { KeyStore, KeyUse, StoredKey } from '../types.js'
import type { SqliteDb } from './database.js'

export class SqliteKeyStore implements KeyStore {
  readonly #db: SqliteDb

  constructor(db: SqliteDb) {
    this.#db = db
  }

  async list(use: KeyUse): Promise<StoredKey[]> {
    return this.#db
      .prepare('SELECT kid, use, alg, created_at, public_jwk, sealed, verify_until FROM keys WHERE use = ? ORDER BY created_at, rowid')
      .all(use) as StoredKey[]
  }

  async add(key: StoredKey, previousVerifyUntil: number): Promise<void> {
    this.#db
      .transaction(() => {
        this.#db.prepare('UPDATE keys SET verify_until = ? WHERE use = ? AND verify_until IS NULL').run(previousVerifyUntil, key.use)
        this.#db
          .prepare('INSERT INTO keys (kid, use, alg, created_at, public_jwk, sealed, verify_until) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(key.kid, key.use, key.alg, key.created_at, key.public_jwk, key.sealed, key.verify_until)
      })
      .immediate()
  }

  async retire(now: number): Promise<number> {
    return this.#db.prepare('DELETE FROM keys WHERE verify_until IS NOT NULL AND verify_until <= ?').run(now).changes
  }
}
