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
  // 1: security events
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
  // 2: identity. Times are epoch milliseconds; lists are JSON arrays.
  `CREATE TABLE users (
     id TEXT PRIMARY KEY,
     username TEXT NOT NULL,
     username_key TEXT NOT NULL UNIQUE,
     email TEXT,
     email_key TEXT UNIQUE,
     password_hash TEXT NOT NULL,
     roles TEXT NOT NULL,
     disabled INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE refresh_families (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     created_at INTEGER NOT NULL,
     revoked_at INTEGER,
     revoke_reason TEXT
   );
   CREATE INDEX refresh_families_user ON refresh_families (user_id);
   CREATE TABLE refresh_tokens (
     hash TEXT PRIMARY KEY,
     family_id TEXT NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
     issued_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     client TEXT NOT NULL,
     used_at INTEGER,
     successor_sealed TEXT
   );
   CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
   CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
   CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     prefix TEXT NOT NULL UNIQUE,
     hash TEXT NOT NULL,
     user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     scopes TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER,
     revoked_at INTEGER,
     last_used_at INTEGER,
     rotated_from TEXT
   );
   CREATE INDEX api_keys_user ON api_keys (user_id);
   CREATE TABLE keys (
     kid TEXT PRIMARY KEY,
     use TEXT NOT NULL,
     alg TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     public_jwk TEXT,
     sealed TEXT NOT NULL,
     verify_until INTEGER
   );
   CREATE TABLE login_failures (
     key TEXT PRIMARY KEY,
     count INTEGER NOT NULL,
     window_start INTEGER NOT NULL,
     locked_until INTEGER
   );`,
]

export function openSqlite(path: string): SqliteDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  // Several processes (--workers) share the file: wait for a writer instead of failing.
  db.pragma('busy_timeout = 5000')
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
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
