/** Failed-login counters in SQLite: shared by every worker on the machine, kept across restarts. */
import type { LoginThrottleStore } from '../types.js'
import type { SqliteDb } from './database.js'

interface Row {
  count: number
  window_start: number
  locked_until: number | null
}

export class SqliteThrottleStore implements LoginThrottleStore {
  readonly #db: SqliteDb
  readonly #fail: (key: string, now: number, windowMs: number) => { count: number; locked_until: number | null }

  constructor(db: SqliteDb) {
    this.#db = db
    const get = db.prepare('SELECT count, window_start, locked_until FROM login_failures WHERE key = ?')
    const put = db.prepare(
      'INSERT INTO login_failures (key, count, window_start, locked_until) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET count = excluded.count, window_start = excluded.window_start, locked_until = excluded.locked_until',
    )
    const fail = db.transaction((key: string, now: number, windowMs: number) => {
      const r = get.get(key) as Row | undefined
      // A new window starts when the last one is over; a running lock is kept either way.
      const fresh = r === undefined || now - r.window_start >= windowMs
      const count = fresh ? 1 : r.count + 1
      const lockedUntil = r?.locked_until != null && r.locked_until > now ? r.locked_until : null
      put.run(key, count, fresh ? now : r.window_start, lockedUntil)
      return { count, locked_until: lockedUntil }
    })
    this.#fail = (...args) => fail.immediate(...args)
  }

  async fail(key: string, now: number, windowMs: number): Promise<{ count: number; locked_until: number | null }> {
    return this.#fail(key, now, windowMs)
  }

  async lock(key: string, until: number): Promise<void> {
    this.#db.prepare('UPDATE login_failures SET locked_until = ? WHERE key = ?').run(until, key)
  }

  async get(key: string, now: number): Promise<{ count: number; locked_until: number | null }> {
    const r = this.#db.prepare('SELECT count, window_start, locked_until FROM login_failures WHERE key = ?').get(key) as Row | undefined
    if (r === undefined) return { count: 0, locked_until: null }
    return { count: r.count, locked_until: r.locked_until !== null && r.locked_until > now ? r.locked_until : null }
  }

  async clear(key: string): Promise<void> {
    this.#db.prepare('DELETE FROM login_failures WHERE key = ?').run(key)
  }
}
