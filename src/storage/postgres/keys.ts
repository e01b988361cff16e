/** The key ring in PostgreSQL: adding a key and dating the ones it replaces is one transaction. */
import type { KeyStore, KeyUse, StoredKey } from '../types.js'
import type { PostgresDb } from './database.js'

export class PostgresKeyStore implements KeyStore {
  readonly #db: PostgresDb

  constructor(db: PostgresDb) {
    this.#db = db
  }

  async list(use: KeyUse): Promise<StoredKey[]> {
    return (
      await this.#db.query<StoredKey>('SELECT kid, use, alg, created_at, public_jwk, sealed, verify_until FROM keys WHERE use = $1 ORDER BY created_at, seq', [
        use,
      ])
    ).rows
  }

  async add(key: StoredKey, previousVerifyUntil: number): Promise<void> {
    await this.#db.transaction(async (q) => {
      await q.query('UPDATE keys SET verify_until = $1 WHERE use = $2 AND verify_until IS NULL', [previousVerifyUntil, key.use])
      await q.query('INSERT INTO keys (kid, use, alg, created_at, public_jwk, sealed, verify_until) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        key.kid,
        key.use,
        key.alg,
        key.created_at,
        key.public_jwk,
        key.sealed,
        key.verify_until,
      ])
    })
  }

  async retire(now: number): Promise<number> {
    return (await this.#db.query('DELETE FROM keys WHERE verify_until IS NOT NULL AND verify_until <= $1', [now])).rowCount ?? 0
  }
}
