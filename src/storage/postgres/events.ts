/** Security events in PostgreSQL: one multi-row INSERT per batch, read newest first by id. */
import type { EventQuery, SecurityEvent, SecurityEventStore, StoredSecurityEvent } from '../types.js'
import type { PostgresDb } from './database.js'

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
// PostgreSQL binds at most 65535 parameters per statement.
const rowsPerInsert = 1000

export class PostgresEventStore implements SecurityEventStore {
  readonly #db: PostgresDb
  readonly #owned: boolean

  /** `owned`: close the pool with the store. */
  constructor(db: PostgresDb, owned = false) {
    this.#db = db
    this.#owned = owned
  }

  async append(events: readonly SecurityEvent[]): Promise<void> {
    if (events.length === 0) return
    await this.#db.transaction(async (q) => {
      for (let i = 0; i < events.length; i += rowsPerInsert) {
        const chunk = events.slice(i, i + rowsPerInsert)
        const params: unknown[] = []
        const rows = chunk.map((e) => `(${columns.map((c) => `$${params.push(e[c])}`).join(', ')})`)
        await q.query(`INSERT INTO security_events (${columns.join(', ')}) VALUES ${rows.join(', ')}`, params)
      }
    })
  }

  async list(q: EventQuery): Promise<StoredSecurityEvent[]> {
    const where: string[] = []
    const params: unknown[] = []
    const add = (sql: string, v: unknown) => where.push(sql.replace('?', `$${params.push(v)}`))
    if (q.before !== undefined) add('id < ?', q.before)
    for (const f of equalityFilters) {
      const v = q[f]
      if (v !== undefined) add(`${f} = ?`, v)
    }
    if (q.since !== undefined) add('time >= ?', q.since)
    if (q.until !== undefined) add('time <= ?', q.until)
    params.push(q.limit)
    const sql = `SELECT id, ${columns.join(', ')} FROM security_events${where.length > 0 ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT $${params.length}`
    return (await this.#db.query<StoredSecurityEvent>(sql, params)).rows
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#db.close()
  }
}
