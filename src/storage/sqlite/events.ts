/** Security events in SQLite: appended in one transaction per batch, read newest first. */
import type { EventQuery, SecurityEvent, SecurityEventStore, StoredSecurityEvent } from '../types.js'
import type { SqliteDb } from './database.js'

const columns = [
  'time',
  'request_id',
  'client_ip',
  'method',
  'path',
  'route',
  'rule',
  'category',
  'location',
  'name',
  'snippet',
  'confidence',
  'score',
  'action',
] as const
// Filters map to columns one to one; values are always bound, never spliced into the SQL.
const equalityFilters = ['category', 'rule', 'client_ip', 'action', 'request_id'] as const

export class SqliteEventStore implements SecurityEventStore {
  readonly #db: SqliteDb
  readonly #insert: (events: readonly SecurityEvent[]) => void
  readonly #owned: boolean

  /** `owned`: close the database with the store. */
  constructor(db: SqliteDb, owned = false) {
    this.#db = db
    this.#owned = owned
    const stmt = db.prepare(`INSERT INTO security_events (${columns.join(', ')}) VALUES (${columns.map((c) => '@' + c).join(', ')})`)
    this.#insert = db.transaction((events: readonly SecurityEvent[]) => {
      for (const e of events) stmt.run(e)
    })
  }

  async append(events: readonly SecurityEvent[]): Promise<void> {
    if (events.length > 0) this.#insert(events)
  }

  async list(q: EventQuery): Promise<StoredSecurityEvent[]> {
    const where: string[] = []
    const params: Record<string, string | number> = { limit: q.limit }
    if (q.before !== undefined) {
      where.push('id < @before')
      params['before'] = q.before
    }
    for (const f of equalityFilters) {
      const v = q[f]
      if (v !== undefined) {
        where.push(`${f} = @${f}`)
        params[f] = v
      }
    }
    if (q.since !== undefined) {
      where.push('time >= @since')
      params['since'] = q.since
    }
    if (q.until !== undefined) {
      where.push('time <= @until')
      params['until'] = q.until
    }
    const sql = `SELECT id, ${columns.join(', ')} FROM security_events${where.length > 0 ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT @limit`
    return this.#db.prepare(sql).all(params) as StoredSecurityEvent[]
  }

  async close(): Promise<void> {
    if (this.#owned && this.#db.open) this.#db.close()
  }
}
