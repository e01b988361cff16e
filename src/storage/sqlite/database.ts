/**
 * The embedded store: one SQLite file in WAL mode (readers never wait for the writer, so the
 * admin API can read while workers write), through better-sqlite3. Migrations are numbered and
 * recorded in `PRAGMA user_version`; each runs once, in a transaction, at open.
 */
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

export type SqliteDb = Database.Database

/** Schema steps, in order; never edit a released one, append a new one. */
const migrations: readonly string[] = [
  // 1: security events (issue 3)
  `CREATE TABLE security_events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     time TEXT NOT NULL,
     request_id TEXT NOT NULL,
     client_ip TEXT NOT NULL,
     method TEXT NOT NULL,
     path TEXT NOT NULL,
     route TEXT NOT NULL,
     rule TEXT NOT NULL,
     category TEXT NOT NULL,
     location TEXT NOT NULL,
     name TEXT NOT NULL,
     snippet TEXT NOT NULL,
     confidence REAL NOT NULL,
     score REAL NOT NULL,
     action TEXT NOT NULL
   );
   CREATE INDEX security_events_category ON security_events (category, id);
   CREATE INDEX security_events_client_ip ON security_events (client_ip, id);
   CREATE INDEX security_events_request_id ON security_events (request_id);
   CREATE INDEX security_events_time ON security_events (time);`,
]

export function openSqlite(path: string): SqliteDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  // Several processes (--workers) share the file: wait for a writer instead of failing.
  db.pragma('busy_timeout = 5000')
  db.pragma('synchronous = NORMAL')
  migrate(db)
  return db
}

function migrate(db: SqliteDb): void {
  // BEGIN IMMEDIATE: two workers opening the file at once must not both run a step.
  const step = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number
    if (version > migrations.length) throw new Error(`database schema version ${version} is newer than this Drawbridge (${migrations.length})`)
    for (let v = version; v < migrations.length; v++) db.exec(migrations[v]!)
    db.pragma(`user_version = ${migrations.length}`)
  })
  step.immediate()
}
