/** The embedded adapters (SQLite file and in-memory, memory events) against the storage conformance suites. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { openSqlite } from '../../src/storage/sqlite/database.js'
import { sqliteIdentityStores } from '../../src/storage/sqlite/identity.js'
import { SqliteEventStore } from '../../src/storage/sqlite/events.js'
import { MemoryEventStore } from '../../src/storage/memory/events.js'
import { eventConformance, identityConformance } from './conformance.js'

const dir = mkdtempSync(join(tmpdir(), 'drawbridge-storage-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

identityConformance('sqlite file', async () => sqliteIdentityStores(openSqlite(join(dir, `id-${n++}.db`)), true))
identityConformance('sqlite in memory (storage.memory)', async () => sqliteIdentityStores(openSqlite(':memory:'), true))
eventConformance('sqlite file', async () => new SqliteEventStore(openSqlite(join(dir, `ev-${n++}.db`)), true))
eventConformance('memory', async () => new MemoryEventStore())
