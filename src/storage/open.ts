/** Opens the stores the configuration names (`storage:`): SQLite by default, memory on request. */
import type { Config } from '../config/types.js'
import type { IdentityStores, SecurityEventStore } from './types.js'
import { MemoryEventStore } from './memory/events.js'
import { SqliteEventStore } from './sqlite/events.js'
import { openSqlite } from './sqlite/database.js'
import { sqliteIdentityStores } from './sqlite/identity.js'

export function openEventStore(config: Config): SecurityEventStore {
  if (config.storage.memory) return new MemoryEventStore()
  return new SqliteEventStore(openSqlite(config.storage.sqlite.path), true)
}

/**
 * Users, sessions and keys: the SQLite file (its own connection; WAL lets the event writer and
 * this one work side by side), or an in-memory SQLite database with `storage.memory` (the same
 * code, gone on exit).
 */
export function openIdentityStores(config: Config): IdentityStores {
  return sqliteIdentityStores(openSqlite(config.storage.memory ? ':memory:' : config.storage.sqlite.path), true)
}
