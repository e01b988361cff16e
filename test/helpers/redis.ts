/**
 * A real redis-server on 127.0.0.1 for tests (Debian package redis-server, installed by .ci/run):
 * no persistence, its own port. `stop()` and `start()` again on the same port show outages and
 * recovery. Missing binary: null (the caller skips), except under CI=true where it throws.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { connect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { freePort } from './net.js'

const BINARY = 'redis-server'
const STARTUP_TIMEOUT_MS = 10_000

export const redisSkipReason = 'Redis tests skipped: redis-server is not installed (apt-get install -y redis-server); with CI=true this is a failure instead'

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Stops the server (SIGKILL: an outage, not a clean shutdown). */
  stop(): Promise<void>
  /** Starts it again on the same port (empty: nothing persisted). */
  start(): Promise<void>
  /** Freezes the server (SIGSTOP): commands wait unanswered, connections stay open. */
  pause(): void
  /** Thaws a paused server (SIGCONT). */
  resume(): void
  close(): Promise<void>
}

function available(): boolean {
  return spawnSync(BINARY, ['--version'], { stdio: 'ignore' }).status === 0
}

export interface RedisOptions {
  /** PEM files: the server then speaks TLS only (its port), clients not asked for certificates. */
  readonly tls?: { readonly cert: string; readonly key: string }
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer | null> {
  if (!available()) {
    if (process.env.CI === 'true') throw new Error(`${BINARY} is missing under CI=true`)
    return null
  }
  const port = await freePort()
  let child: ChildProcess | null = null
  const killOnExit = () => child?.kill('SIGKILL')
  process.on('exit', killOnExit)

  const launch = async (): Promise<void> => {
    const listen =
      options.tls === undefined
        ? ['--port', String(port)]
        : ['--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.cert, '--tls-key-file', options.tls.key, '--tls-auth-clients', 'no']
    const c = spawn(BINARY, [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child = c
    let output = ''
    c.stdout.on('data', (d: Buffer) => (output += d.toString()).length > 8192 && (output = output.slice(-4096)))
    c.stderr.on('data', (d: Buffer) => (output += d.toString()))
    const deadline = Date.now() + STARTUP_TIMEOUT_MS
    while (!(await ping(port, options.tls !== undefined))) {
      if (c.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on ${port}:\n${output}`)
      await new Promise((r) => setTimeout(r, 30))
    }
  }
  const stop = async (): Promise<void> => {
    const c = child
    if (c === null || c.exitCode !== null) return
    const exited = new Promise((r) => c.once('exit', r))
    c.kill('SIGKILL')
    await exited
    child = null
  }
  await launch()
  return {
    port,
    url: `${options.tls === undefined ? 'redis' : 'rediss'}://127.0.0.1:${port}`,
    stop,
    start: launch,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    async close() {
      child?.kill('SIGCONT')
      await stop()
      process.off('exit', killOnExit)
    },
  }
}

/** One PING over a raw socket: answers +PONG once the server accepts commands. */
function ping(port: number, tls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    // The helper only checks that the server answers; tests check certificates through Drawbridge.
    const s = tls ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }) : connect({ host: '127.0.0.1', port })
    const done = (ok: boolean) => {
      s.destroy()
      resolve(ok)
    }
    s.setTimeout(500, () => done(false))
    s.once('error', () => done(false))
    s.once(tls ? 'secureConnect' : 'connect', () => s.write('PING\r\n'))
    s.once('data', (d) => done(d.toString().startsWith('+PONG')))
  })
}
