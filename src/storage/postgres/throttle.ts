/** Failed-login counters in PostgreSQL: shared by every instance; `fail` is one atomic upsert. */
import type { LoginThrottleStore } from '../types.js'
import type { PostgresDb } from './database.js'

interface Row {
  count: number
  locked_until: number | null
}

// The window logic of the SQLite store, in one statement so concurrent failures from several
// instances all count: a new window starts when the last one is over; a running lock is kept.
const failSql = `INSERT INTO login_failures AS f (key, count, window_start, locked_until) VALUES ($1, 1, $2::bigint, NULL)
  ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN $2::bigint - f.window_start >= $3::bigint THEN 1 ELSE f.count + 1 END,
    window_start = CASE WHEN $2::bigint - f.window_start >= $3::bigint THEN $2::bigint ELSE f.window_start END,
    locked_until = CASE WHEN f.locked_until > $2::bigint THEN f.locked_until ELSE NULL END
  RETURNING count, locked_until`

export class PostgresThrottleStore implements LoginThrottleStore {
  readonly #db: PostgresDb

  constructor(db: PostgresDb) {
    this.#db = db
  }

  async fail(key: string, now: number, windowMs: number): Promise<{ count: number; locked_until: number | null }> {
    const r = (await this.#db.query<Row>(failSql, [key, now, windowMs])).rows[0]!
    return { count: r.count, locked_until: r.locked_until }
  }

  async lock(key: string, until: number): Promise<void> {
    await this.#db.query('UPDATE login_failures SET locked_until = $2 WHERE key = $1', [key, until])
  }

  async get(key: string, now: number): Promise<{ count: number; locked_until: number | null }> {
    const r = (await this.#db.query<Row>('SELECT count, locked_until FROM login_failures WHERE key = $1', [key])).rows[0]
    if (r === undefined) return { count: 0, locked_until: null }
    return { count: r.count, locked_until: r.locked_until !== null && r.locked_until > now ? r.locked_until : null }
  }

  async clear(key: string): Promise<void> {
    await this.#db.query('DELETE FROM login_failures WHERE key = $1', [key])
  }
}
