/**
 * PostgreSQL: durable records shared by several Drawbridge instances, through a `pg`
 * pool. Migrations are numbered and recorded in `drawbridge_schema`; each step runs in its own
 * transaction under an advisory lock, so instances starting together never both run one.
 * Every driver failure that means "the database cannot answer now" (refused, reset, timeout, pool
 * exhausted, shutting down) becomes StorageUnavailable: callers answer 503, never a wrong answer.
 */
import { readFileSync } from 'node:fs'
import pg from 'pg'
import type { PostgresConfig, StoreTls } from '../../config/types.js'
import { ConfigInvalid, StorageConflict, StorageUnavailable } from '../../errors.js'

/** Schema steps, in order; never edit a released one, append a new one. Times are epoch ms (BIGINT). */
const migrations: readonly string[] = [
  // 1: security events and identity, as in the SQLite schema.
  `CREATE TABLE security_events (
     id BIGSERIAL PRIMARY KEY,
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
     confidence DOUBLE PRECISION NOT NULL,
     score DOUBLE PRECISION NOT NULL,
     action TEXT NOT NULL
   );
   CREATE INDEX security_events_category ON security_events (category, id);
   CREATE INDEX security_events_client_ip ON security_events (client_ip, id);
   CREATE INDEX security_events_request_id ON security_events (request_id);
   CREATE INDEX security_events_time ON security_events (time);
   CREATE TABLE users (
     id TEXT PRIMARY KEY,
     username TEXT NOT NULL,
     username_key TEXT NOT NULL UNIQUE,
     email TEXT,
     email_key TEXT UNIQUE,
     password_hash TEXT NOT NULL,
     roles JSONB NOT NULL,
     disabled BOOLEAN NOT NULL,
     created_at BIGINT NOT NULL,
     updated_at BIGINT NOT NULL
   );
   CREATE TABLE refresh_families (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     created_at BIGINT NOT NULL,
     revoked_at BIGINT,
     revoke_reason TEXT
   );
   CREATE INDEX refresh_families_user ON refresh_families (user_id);
   CREATE TABLE refresh_tokens (
     hash TEXT PRIMARY KEY,
     family_id TEXT NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
     issued_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL,
     client TEXT NOT NULL,
     used_at BIGINT,
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
     scopes JSONB NOT NULL,
     created_at BIGINT NOT NULL,
     expires_at BIGINT,
     revoked_at BIGINT,
     last_used_at BIGINT,
     rotated_from TEXT
   );
   CREATE INDEX api_keys_user ON api_keys (user_id);
   CREATE TABLE keys (
     seq BIGSERIAL NOT NULL,
     kid TEXT PRIMARY KEY,
     use TEXT NOT NULL,
     alg TEXT NOT NULL,
     created_at BIGINT NOT NULL,
     public_jwk TEXT,
     sealed TEXT NOT NULL,
     verify_until BIGINT
   );
   CREATE TABLE login_failures (
     key TEXT PRIMARY KEY,
     count INTEGER NOT NULL,
     window_start BIGINT NOT NULL,
     locked_until BIGINT
   );`,
]

export const schemaVersion = migrations.length

/** Any fixed number: the advisory lock all instances take around a migration step. */
const migrationLock = 0x44726177 // 'Draw'

/** The database holds a newer schema than this Drawbridge knows: refuse to run rather than guess. */
export class SchemaTooNew extends Error {
  readonly version: number
  constructor(version: number) {
    super(`database schema version ${version} is newer than this Drawbridge (${schemaVersion}): upgrade Drawbridge`)
    this.name = 'SchemaTooNew'
    this.version = version
  }
}

// int8 (BIGINT, BIGSERIAL, count(*)) arrives as a string by default: our values are epoch
// milliseconds and ids, far below 2^53. Set per pool, not globally (other code may use pg).
const int8 = 20
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === int8 ? (v: string) => Number(v) : (pg.types.getTypeParser(oid, format) as (v: string) => unknown)) as typeof pg.types.getTypeParser,
}

/**
 * TLS from the config, and what of the URL survives: libpq-style `ssl*` parameters in the URL
 * would silently override the config inside pg, so they are taken out. With `tls` configured
 * they are refused; without it `sslmode` is read here with libpq's meaning (pg reads
 * `require` as verify-full) and the other ssl parameters are refused (use tls.ca_file etc.).
 */
export function connectionOptions(c: PostgresConfig): { connectionString: string; ssl: false | import('node:tls').ConnectionOptions } {
  let url: URL
  try {
    url = new URL(c.url)
  } catch {
    throw new ConfigInvalid([{ path: '/storage/postgres/url', message: 'not a URL' }])
  }
  const sslParams = [...url.searchParams.keys()].filter((k) => k.toLowerCase().startsWith('ssl') || k === 'uselibpqcompat')
  let tls: StoreTls | null = c.tls
  if (sslParams.length > 0) {
    const mode = url.searchParams.get('sslmode')
    if (tls !== null || sslParams.some((k) => k !== 'sslmode')) {
      throw new ConfigInvalid([
        {
          path: '/storage/postgres/url',
          message: `TLS parameters in the URL (${sslParams.join(', ')}) conflict with storage.postgres.tls or are not supported: set storage.postgres.tls instead`,
        },
      ])
    }
    if (mode === 'disable') tls = { mode: 'disable', ca_file: null, cert_file: null, key_file: null }
    else if (mode === 'require') tls = { mode: 'require', ca_file: null, cert_file: null, key_file: null }
    else if (mode === 'verify-ca' || mode === 'verify-full') tls = { mode: 'verify-full', ca_file: null, cert_file: null, key_file: null }
    // prefer/allow fall back to plain text on their own: not something a security gateway does quietly.
    else
      throw new ConfigInvalid([
        { path: '/storage/postgres/url', message: 'sslmode must be disable, require, verify-ca or verify-full (or set storage.postgres.tls)' },
      ])
    for (const k of sslParams) url.searchParams.delete(k)
  }
  return { connectionString: url.toString(), ssl: sslOptions(tls) }
}

function sslOptions(t: StoreTls | null): false | import('node:tls').ConnectionOptions {
  if (t === null || t.mode === 'disable') return false
  // require: encrypted, certificate not checked (libpq sslmode=require).
  if (t.mode === 'require') return { rejectUnauthorized: false }
  return {
    rejectUnauthorized: true,
    ...(t.ca_file !== null ? { ca: readFileSync(t.ca_file) } : {}),
    ...(t.cert_file !== null ? { cert: readFileSync(t.cert_file) } : {}),
    ...(t.key_file !== null ? { key: readFileSync(t.key_file) } : {}),
  }
}

/** SQLSTATE classes that mean "not now" rather than "wrong": connection, resources, shutdown, cancel, serialization. */
const unavailableClasses = new Set(['08', '53', '57', '58', '40'])

/** A driver error as one of ours: conflict (unique violation), unavailable, or the error itself (a bug). */
export function mapError(err: unknown): unknown {
  if (err instanceof StorageConflict || err instanceof StorageUnavailable || err instanceof SchemaTooNew) return err
  const e = err as { code?: unknown; severity?: unknown }
  // Errors from the server carry a severity and a SQLSTATE; the rest are the socket, the pool or a timeout.
  if (typeof e?.severity === 'string' && typeof e.code === 'string') {
    if (e.code === '23505') return new StorageConflict('unique value already taken', { cause: err })
    if (unavailableClasses.has(e.code.slice(0, 2))) return new StorageUnavailable('postgres', 'postgresql cannot answer now', { cause: err })
    return err
  }
  return new StorageUnavailable('postgres', 'postgresql unreachable', { cause: err })
}

export type Queryable = Pick<pg.PoolClient, 'query'>

/** The pool, the migrations and error mapping; the stores only write SQL. */
export class PostgresDb {
  readonly pool: pg.Pool
  #migrated: Promise<void> | null = null
  #closed = false

  constructor(c: PostgresConfig) {
    const { connectionString, ssl } = connectionOptions(c)
    this.pool = new pg.Pool({
      connectionString,
      ssl,
      max: c.pool_size,
      connectionTimeoutMillis: c.connect_timeout,
      // Server side: a statement never runs longer; client side: an unanswering server is not waited on forever.
      statement_timeout: c.statement_timeout,
      query_timeout: c.statement_timeout + 1000,
      idleTimeoutMillis: 30_000,
      types,
    })
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined)
  }

  /**
   * Brings the schema up to date, once; after a failure (database down) the next call tries again,
   * so a gateway started before its database recovers without a restart.
   */
  migrate(): Promise<void> {
    this.#migrated ??= this.#migrate().catch((err: unknown) => {
      this.#migrated = null
      throw mapError(err)
    })
    return this.#migrated
  }

  async #migrate(): Promise<void> {
    // A step on a big table, or waiting for another instance's step, may outlast statement_timeout:
    // both timeouts are lifted to five minutes for the migration's own statements.
    const long = 300_000
    for (let step = 1; step <= migrations.length; step++) {
      const done = await this.#inTransaction(async (q) => {
        const run = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) =>
          q.query<R>({ text, values, query_timeout: long + 1000 } as pg.QueryConfig)
        await run(`SET LOCAL statement_timeout = ${long}`)
        await run('SELECT pg_advisory_xact_lock($1)', [migrationLock])
        await run('CREATE TABLE IF NOT EXISTS drawbridge_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)')
        const r = await run<{ v: number | null }>('SELECT max(version) AS v FROM drawbridge_schema')
        const current = r.rows[0]?.v ?? 0
        if (current > migrations.length) throw new SchemaTooNew(current)
        if (current >= step) return current >= migrations.length
        await run(migrations[step - 1]!)
        await run('INSERT INTO drawbridge_schema (version, applied_at) VALUES ($1, $2)', [step, Date.now()])
        return false
      })
      if (done) return
    }
  }

  /** The schema version the database holds (0: none). */
  async version(): Promise<number> {
    const exists = await this.query<{ t: string | null }>("SELECT to_regclass('drawbridge_schema')::text AS t", [], false)
    if (exists.rows[0]?.t == null) return 0
    const r = await this.query<{ v: number | null }>('SELECT max(version) AS v FROM drawbridge_schema', [], false)
    return r.rows[0]?.v ?? 0
  }

  async query<R extends pg.QueryResultRow>(sql: string, params: readonly unknown[] = [], migrated = true): Promise<pg.QueryResult<R>> {
    if (migrated) await this.migrate()
    try {
      return await this.pool.query<R>(sql, params as unknown[])
    } catch (err) {
      throw mapError(err)
    }
  }

  /** `fn` inside BEGIN/COMMIT on one connection; rolled back when it throws. */
  async transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    await this.migrate()
    return this.#inTransaction(fn)
  }

  async #inTransaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    let client: pg.PoolClient
    try {
      client = await this.pool.connect()
    } catch (err) {
      throw mapError(err)
    }
    let broken = false
    try {
      await client.query('BEGIN')
      const out = await fn(client)
      await client.query('COMMIT')
      return out
    } catch (err) {
      await client.query('ROLLBACK').catch(() => (broken = true))
      throw mapError(err)
    } finally {
      // A connection whose rollback failed is not given back to the pool.
      client.release(broken)
    }
  }

  /** A cheap round trip for /readyz. */
  async ping(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        this.query('SELECT 1', [], false),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new StorageUnavailable('postgres', 'postgresql did not answer in time')), timeoutMs)
        }),
      ])
    } finally {
      clearTimeout(timer)
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.pool.end()
  }
}

/**
 * /readyz: one short-lived connection and `SELECT 1` within `timeoutMs` (readiness caches the
 * answer, so this costs at most one connection per cache period). Resolves to an error label or null.
 */
export async function probePostgres(c: PostgresConfig, timeoutMs: number): Promise<string | null> {
  const { connectionString, ssl } = connectionOptions(c)
  const client = new pg.Client({ connectionString, ssl, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, statement_timeout: timeoutMs })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.query('SELECT 1')
    return null
  } catch (err) {
    const e = err as { code?: unknown }
    return typeof e.code === 'string' ? e.code : 'unreachable'
  } finally {
    await client.end().catch(() => undefined)
  }
}
