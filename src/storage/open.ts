/** Opens the stores the configuration names (`storage:`): SQLite by default, memory on request. */
import type { Config } from '../config/types.js'
import type { SecurityEventStore } from './types.js'
import { MemoryEventStore } from './memory/events.js'
import { SqliteEventStore } from './sqlite/events.js'
import { openSqlite } from './sqlite/database.js'

export function openEventStore(config: Config): SecurityEventStore {
  if (config.storage.memory) return new MemoryEventStore()
  return new SqliteEventStore(openSqlite(config.storage.sqlite.path), true)
}
