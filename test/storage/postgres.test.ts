/**
 * The PostgreSQL adapter on a real server: the shared conformance suite, then what only
 * a shared database has to get right: versioned migrations under concurrency, rotations racing
 * from two pools, atomic throttle counts, TLS modes, and unavailability (StorageUnavailable, then
 * recovery on the same pool).
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { PostgresConfig } from '../../src/config/types.js'
import { ConfigInvalid, StorageUnavailable } from '../../src/errors.js'
import { PostgresDb, SchemaTooNew, schemaVersion } from '../../src/storage/postgres/database.js'
import { postgresIdentityStores } from '../../src/storage/postgres/identity.js'
import { PostgresEventStore } from '../../src/storage/postgres/events.js'
import type { IdentityStores } from '../../src/storage/types.js'
import { eventConformance, identityConformance } from './conformance.js'
import { postgresSkipReason, startPostgres } from '../helpers/postgres.js'
import { selfSignedCert } from '../helpers/tls.js'

const server = await startPostgres()
after(() => server?.close())

function pgConfig(url: string, over: Partial<PostgresConfig> = {}): PostgresConfig {
  return { url, pool_size: 4, connect_timeout: 2000, statement_timeout: 5000, tls: null, ...over }
}

const t0 = Date.UTC(2026, 10, 23)
const newUser = (id: string) => ({ id, username: id, email: null, password_hash: 'x', roles: [], disabled: false, created_at: t0 })

if (server === null) {
  test('postgres adapter', { skip: postgresSkipReason }, () => {})
} else {
  const freshDb = async (over: Partial<PostgresConfig> = {}) => new PostgresDb(pgConfig(await server.freshDatabase(), over))

  identityConformance('postgres', async () => postgresIdentityStores(await freshDb(), true))
  eventConformance('postgres', async () => new PostgresEventStore(await freshDb(), true))

  describe('postgres: migrations', () => {
    test('are versioned and run once: a second open and two racing opens apply nothing twice', async () => {
      const url = await server.freshDatabase()
      const dbs = [0, 1, 2].map(() => new PostgresDb(pgConfig(url)))
      try {
        assert.equal(await dbs[0]!.version(), 0)
        // Two instances starting at once: the advisory lock lets one step run once.
        await Promise.all([dbs[0]!.migrate(), dbs[1]!.migrate()])
        await dbs[2]!.migrate()
        assert.equal(await dbs[2]!.version(), schemaVersion)
        const rows = await dbs[2]!.query<{ version: number }>('SELECT version FROM drawbridge_schema ORDER BY version')
        assert.deepEqual(
          rows.rows.map((r) => r.version),
          Array.from({ length: schemaVersion }, (_, i) => i + 1),
        )
      } finally {
        await Promise.all(dbs.map((d) => d.close()))
      }
    })

    test('a database newer than the code refuses to start', async () => {
      const url = await server.freshDatabase()
      const a = new PostgresDb(pgConfig(url))
      const b = new PostgresDb(pgConfig(url))
      try {
        await a.migrate()
        await a.query('INSERT INTO drawbridge_schema (version, applied_at) VALUES ($1, 0)', [schemaVersion + 1])
        await assert.rejects(b.migrate(), SchemaTooNew)
        await assert.rejects(b.query('SELECT 1'), SchemaTooNew)
      } finally {
        await a.close()
        await b.close()
      }
    })
  })

  describe('postgres: concurrency across pools', () => {
    test('of two rotations of one token from two instances exactly one wins, every time', async () => {
      const url = await server.freshDatabase()
      const a = postgresIdentityStores(new PostgresDb(pgConfig(url)), true)
      const b = postgresIdentityStores(new PostgresDb(pgConfig(url)), true)
      try {
        await a.users.create(newUser('u1'))
        for (let i = 0; i < 20; i++) {
          await a.refresh.createFamily({ id: `f${i}`, user_id: 'u1', created_at: t0 }, { hash: `h${i}`, issued_at: t0, expires_at: t0 + 10_000, client: 'c' })
          const next = (s: IdentityStores, tag: string) =>
            s.refresh.rotate(`h${i}`, { hash: `h${i}-${tag}`, issued_at: t0 + 1, expires_at: t0 + 10_000, client: 'c' }, tag, t0 + 1)
          const [ra, rb] = await Promise.all([next(a, 'a'), next(b, 'b')])
          assert.deepEqual([ra.kind, rb.kind].sort(), ['rotated', 'used'], `round ${i}`)
          const loser = ra.kind === 'used' ? ra : rb
          assert.ok(loser.kind === 'used')
          assert.equal(loser.token.successor_sealed, ra.kind === 'rotated' ? 'a' : 'b')
        }
      } finally {
        await a.close()
        await b.close()
      }
    })

    test('login failures counted from two instances at once are all counted', async () => {
      const url = await server.freshDatabase()
      const a = postgresIdentityStores(new PostgresDb(pgConfig(url)), true)
      const b = postgresIdentityStores(new PostgresDb(pgConfig(url)), true)
      try {
        const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).throttle.fail('ip:1', t0 + i, 60_000)))
        assert.deepEqual(
          results.map((r) => r.count).sort((x, y) => x - y),
          Array.from({ length: 30 }, (_, i) => i + 1),
        )
        assert.equal((await b.throttle.get('ip:1', t0)).count, 30)
      } finally {
        await a.close()
        await b.close()
      }
    })
  })

  describe('postgres: TLS', () => {
    test('require and verify-full connect to a TLS server; verify-full with the wrong CA refuses; require on a plain server fails', async () => {
      const { cert, key } = selfSignedCert()
      const other = selfSignedCert()
      const tlsServer = await startPostgres({ tls: { cert, key } })
      assert.ok(tlsServer)
      const url = await tlsServer.freshDatabase()
      const tls = (mode: 'disable' | 'require' | 'verify-full', ca_file: string | null = null) => ({ mode, ca_file, cert_file: null, key_file: null })
      const dbs: PostgresDb[] = []
      const open = (u: string, over: Partial<PostgresConfig>) => {
        const d = new PostgresDb(pgConfig(u, over))
        dbs.push(d)
        return d
      }
      try {
        await open(url, { tls: tls('require') }).ping(2000)
        await open(url, { tls: tls('verify-full', cert) }).ping(2000)
        // Without the configured tls, the URL's sslmode is read with libpq's meaning.
        await open(url + '?sslmode=require', {}).ping(2000)
        await assert.rejects(open(url, { tls: tls('verify-full', other.cert) }).ping(2000), StorageUnavailable)
        await assert.rejects(open(url + '?sslmode=verify-full', {}).ping(2000), StorageUnavailable)
        await assert.rejects(open(await server.freshDatabase(), { tls: tls('require') }).ping(2000), StorageUnavailable)
        // The URL cannot quietly override the configured mode, nor fall back to plain text.
        assert.throws(() => open(url + '?sslmode=disable', { tls: tls('verify-full', cert) }), ConfigInvalid)
        assert.throws(() => open(url + '?sslmode=prefer', {}), ConfigInvalid)
        assert.throws(() => open(url + '?sslrootcert=/tmp/x', {}), ConfigInvalid)
      } finally {
        await Promise.all(dbs.map((d) => d.close()))
        await tlsServer.close()
      }
    })
  })

  describe('postgres: unavailability', () => {
    test('an exhausted pool is StorageUnavailable, not a wait without end', async () => {
      const db = await freshDb({ pool_size: 1, connect_timeout: 200 })
      try {
        await db.migrate()
        const busy = db.transaction((q) => q.query('SELECT pg_sleep(1)'))
        await assert.rejects(db.query('SELECT 1'), StorageUnavailable)
        await busy
      } finally {
        await db.close()
      }
    })

    test('a stopped server is StorageUnavailable (never "not found"); the same pool recovers when it is back', async () => {
      const url = await server.freshDatabase()
      const s = postgresIdentityStores(new PostgresDb(pgConfig(url, { connect_timeout: 1000 })), true)
      try {
        await s.users.create(newUser('u1'))
        await s.apiKeys.create({
          id: 'k1',
          prefix: 'dbk_00000001',
          hash: 'x',
          user_id: 'u1',
          name: 'n',
          scopes: [],
          created_at: t0,
          expires_at: null,
          rotated_from: null,
        })
        await server.stop()
        await assert.rejects(s.users.byUsername('u1'), StorageUnavailable)
        await assert.rejects(s.apiKeys.byPrefix('dbk_00000001'), StorageUnavailable)
        await assert.rejects(s.refresh.familyRevokedAt('f1'), StorageUnavailable)
        await assert.rejects(s.throttle.fail('ip:1', t0, 1000), StorageUnavailable)
        await server.start()
        assert.equal((await s.users.byUsername('u1'))?.id, 'u1')
        assert.equal((await s.apiKeys.byPrefix('dbk_00000001'))?.id, 'k1')
      } finally {
        await server.start().catch(() => undefined)
        await s.close()
      }
    })

    test('a gateway started before its database migrates on first use once it is there', async () => {
      const url = await server.freshDatabase()
      await server.stop()
      const db = new PostgresDb(pgConfig(url, { connect_timeout: 1000 }))
      const s = postgresIdentityStores(db, true)
      try {
        await assert.rejects(db.migrate(), StorageUnavailable)
        await assert.rejects(s.users.byId('u1'), StorageUnavailable)
        await server.start()
        assert.equal(await s.users.byId('u1'), null)
        assert.equal(await db.version(), schemaVersion)
      } finally {
        await server.start().catch(() => undefined)
        await s.close()
      }
    })
  })
}
