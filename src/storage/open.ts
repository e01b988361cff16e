/**
 * Opens the stores the configuration names (`storage:`): SQLite by default, memory on request,
 * PostgreSQL when `storage.postgres` is set.
 */
import type { Config } from '../config/types.js'
import type { IdentityStores, SecurityEventStore } from './types.js'
import { StorageUnavailable } from '../errors.js'
import { MemoryEventStore } from './memory/events.js'
import { SqliteEventStore } from './sqlite/events.js'
import { openSqlite } from './sqlite/database.js'
import { sqliteIdentityStores } from './sqlite/identity.js'
import { PostgresDb } from './postgres/database.js'
import { PostgresEventStore } from './postgres/events.js'
import { postgresIdentityStores } from './postgres/identity.js'

/** Security events are written in batches: a small pool of their own, next to the identity pool. */
const eventPoolSize = 2

export function openEventStore(config: Config): SecurityEventStore {
  if (config.storage.memory) return new MemoryEventStore()
  const pg = config.storage.postgres
  if (pg !== null) return new PostgresEventStore(new PostgresDb({ ...pg, pool_size: Math.min(pg.pool_size, eventPoolSize) }), true)
  return new SqliteEventStore(openSqlite(config.storage.sqlite.path), true)
}

/**
 * Users, sessions and keys: the SQLite file (its own connection; WAL lets the event writer and
 * this one work side by side), an in-memory SQLite database with `storage.memory` (the same
 * code, gone on exit), or a PostgreSQL pool. PostgreSQL stores bring their schema up to date on
 * first use, and retry that after an outage.
 */
export function openIdentityStores(config: Config): IdentityStores {
  if (config.storage.postgres !== null) return postgresIdentityStores(new PostgresDb(config.storage.postgres), true)
  return sqliteIdentityStores(openSqlite(config.storage.memory ? ':memory:' : config.storage.sqlite.path), true)
}

/**
 * Start-up, before listening: runs PostgreSQL's migrations once. A database newer than the code
 * throws (refuse to start); an unreachable one is reported through `unreachable` and the
 * gateway starts anyway: the stores migrate on first use once it is back, /readyz says not ready
 * meanwhile and requests that need it get 503.
 */
export async function migrateStorage(config: Config, unreachable: (err: StorageUnavailable) => void): Promise<void> {
  if (config.storage.postgres === null) return
  const db = new PostgresDb({ ...config.storage.postgres, pool_size: 1 })
  try {
    await db.migrate()
  } catch (err) {
    if (!(err instanceof StorageUnavailable)) throw err
    unreachable(err)
  } finally {
    await db.close()
  }
}
