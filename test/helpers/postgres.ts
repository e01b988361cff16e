/**
 * A real PostgreSQL on 127.0.0.1 for tests: initdb into a temp dir, `postgres` on a free
 * port, one empty database per test. As root (CI) the server runs as the `postgres` user, which
 * initdb insists on. Without the binaries the tests skip, except under CI=true where that fails.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { freePort } from './net.js'

export const postgresSkipReason =
  'PostgreSQL tests skipped: no initdb/postgres in /usr/lib/postgresql/*/bin (apt-get install -y postgresql); with CI=true this is a failure instead'

export interface PostgresServer {
  readonly port: number
  /** postgres://... of a new empty database on this server. */
  freshDatabase(): Promise<string>
  /** Stops the server (fast shutdown); `start` brings it back on the same port with the same data. */
  stop(): Promise<void>
  start(): Promise<void>
  /** Stops it and removes its files. */
  close(): Promise<void>
}

export interface PostgresOptions {
  /** PEM files: the server then offers TLS (ssl=on). */
  readonly tls?: { readonly cert: string; readonly key: string }
}

function binDir(): string | null {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return null
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres')) && existsSync(join(root, v, 'bin', 'initdb')))
  versions.sort((a, b) => Number(b) - Number(a))
  return versions.length === 0 ? null : join(root, versions[0]!, 'bin')
}

/** The server must not run as root: the `postgres` account's ids when we are root, else our own. */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
  return { uid, gid }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Starts a server, or null (skip) when PostgreSQL is not installed outside CI. */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer | null> {
  const bin = binDir()
  if (bin === null) {
    if (process.env.CI === 'true') throw new Error('PostgreSQL tests need the Debian package postgresql (initdb and postgres in /usr/lib/postgresql/*/bin)')
    return null
  }
  const user = runAs()
  const dir = mkdtempSync(join(tmpdir(), 'drawbridge-pg-'))
  const data = join(dir, 'data')
  const own = (p: string) => {
    if (user !== null) chownSync(p, user.uid, user.gid)
  }
  own(dir)
  execFileSync(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'drawbridge', '--no-sync', '-E', 'UTF8', '--locale=C'], {
    stdio: 'ignore',
    ...(user ?? {}),
    cwd: dir,
  })
  const extra: string[] = []
  if (options.tls !== undefined) {
    // The server refuses a key file others can read; it must also belong to its own user.
    for (const [from, to] of [
      [options.tls.cert, 'server.crt'],
      [options.tls.key, 'server.key'],
    ] as const) {
      copyFileSync(from, join(data, to))
      chmodSync(join(data, to), 0o600)
      own(join(data, to))
    }
    extra.push('-c', 'ssl=on', '-c', 'ssl_cert_file=server.crt', '-c', 'ssl_key_file=server.key')
  }
  const port = await freePort()
  let child: ChildProcess | null = null
  let stderr = ''

  const start = async (): Promise<void> => {
    const running = child
    if (running !== null && running.exitCode === null && running.signalCode === null) return
    stderr = ''
    const c = spawn(
      join(bin, 'postgres'),
      ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200', ...extra],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        ...(user ?? {}),
        cwd: dir,
      },
    )
    child = c
    // The server must not keep the test process alive; it is killed on exit.
    c.unref()
    ;(c.stderr as unknown as { unref(): void }).unref()
    c.stderr.setEncoding('utf8')
    c.stderr.on('data', (s: string) => (stderr = (stderr + s).slice(-8192)))
    const deadline = Date.now() + 20_000
    for (;;) {
      if (c.exitCode !== null) {
        child = null
        throw new Error(`postgres exited (${c.exitCode}):\n${stderr}`)
      }
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'drawbridge', database: 'postgres', connectionTimeoutMillis: 1000 })
      try {
        await client.connect()
        await client.query('SELECT 1')
        return
      } catch {
        // Not accepting yet.
      } finally {
        await client.end().catch(() => undefined)
      }
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 20 s:\n${stderr}`)
      await sleep(100)
    }
  }

  const stop = async (): Promise<void> => {
    const c = child
    child = null
    if (c === null || c.exitCode !== null || c.signalCode !== null) return
    const exited = new Promise<void>((r) => c.once('exit', () => r()))
    // SIGINT: fast shutdown (clients are cut at once); SIGKILL if it lingers.
    c.kill('SIGINT')
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }

  const killOnExit = () => {
    const c = child
    if (c !== null && c.exitCode === null) c.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
  process.once('exit', killOnExit)

  try {
    await start()
  } catch (err) {
    await stop()
    rmSync(dir, { recursive: true, force: true })
    throw err
  }

  return {
    port,
    async freshDatabase() {
      const name = `t_${randomBytes(6).toString('hex')}`
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'drawbridge', database: 'postgres' })
      await client.connect()
      try {
        await client.query(`CREATE DATABASE ${name}`)
      } finally {
        await client.end()
      }
      return `postgres://drawbridge@127.0.0.1:${port}/${name}`
    },
    stop,
    start,
    async close() {
      await stop()
      process.off('exit', killOnExit)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

let shared: Promise<PostgresServer | null> | null = null

/**
 * The url of a fresh database on one server shared by the whole test process (started on first
 * use, stopped at exit), or null when PostgreSQL is not installed (skip with postgresSkipReason).
 */
export async function freshPostgresUrl(): Promise<string | null> {
  shared ??= startPostgres()
  const server = await shared
  return server === null ? null : server.freshDatabase()
}
