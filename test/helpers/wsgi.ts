// Starts a WSGI app from test/fixtures/ under a real WSGI server (gunicorn or waitress), so that
// tests see what such an app makes of a request (PEP 3333 environ, SCRIPT_NAME, HTTP_* keys).
// Debian's packages (gunicorn, python3-waitress, python3-flask) belong to /usr/bin/python3, not
// to whatever python3 is first on PATH, hence the absolute path; the environment is a clean one
// (no GUNICORN_CMD_ARGS, FORWARDED_ALLOW_IPS or PYTHONPATH from the caller's shell).

import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { connect } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './net.js'

export type WsgiServer = 'gunicorn' | 'waitress'

export interface WsgiOptions {
  readonly server: WsgiServer
  /** `module:callable`, the module in test/fixtures/. */
  readonly app: string
}

export interface WsgiHandle {
  readonly url: string
  close(): Promise<void>
}

const PYTHON = '/usr/bin/python3'
const STARTUP_TIMEOUT_MS = 15_000
const POLL_INTERVAL_MS = 100
const KILL_GRACE_MS = 3_000
const STDERR_TAIL_BYTES = 8 * 1024

const packages: Record<WsgiServer, string> = { gunicorn: 'gunicorn python3-flask', waitress: 'python3-waitress python3-flask' }

export function wsgiSkipReason(server: WsgiServer): string {
  return `${server} tests skipped: ${PYTHON} cannot import ${server} and flask (apt-get install -y ${packages[server]}); with CI=true this is a failure instead`
}

// Compiled code runs from dist/test/helpers/, the fixtures stay in test/fixtures/.
function fixturesDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'test', 'fixtures')
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('wsgi helper: cannot find the repository root')
    dir = parent
  }
}

function childEnv(): NodeJS.ProcessEnv {
  // No __pycache__ in the source tree; nothing from the caller's shell configures the server.
  return { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1' }
}

function missingModules(server: WsgiServer): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(PYTHON, ['-c', `import ${server}, flask`], { timeout: 15_000, env: childEnv() }, (err, _stdout, stderr) => {
      if (err === null) return resolve(null)
      const detail = stderr.trim().split('\n').at(-1) ?? ''
      resolve(detail !== '' ? detail : err.message)
    })
  })
}

function serverArgs(server: WsgiServer, app: string, port: number): string[] {
  if (server === 'gunicorn') {
    // One sync worker; its default forwarded_allow_ips (127.0.0.1) is what a Drawbridge on the same host gets.
    return ['-m', 'gunicorn', '--bind', `127.0.0.1:${port}`, '--workers', '1', '--log-level', 'warning', app]
  }
  return ['-m', 'waitress', `--listen=127.0.0.1:${port}`, app]
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    const timer = setTimeout(() => {
      s.destroy()
      resolve(false)
    }, 1_000)
    s.once('connect', () => {
      clearTimeout(timer)
      s.end()
      resolve(true)
    })
    s.once('error', () => {
      clearTimeout(timer)
      resolve(false)
    })
  })
}

/** Null when the server or Flask is missing (tests then skip), unless CI=true: then it throws. */
export async function startWsgi(options: WsgiOptions): Promise<WsgiHandle | null> {
  const missing = await missingModules(options.server)
  if (missing !== null) {
    if (process.env.CI === 'true') throw new Error(`${options.server} tests need ${PYTHON} with ${options.server} and flask (apt-get install -y ${packages[options.server]}): ${missing}`)
    return null
  }
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(PYTHON, serverArgs(options.server, options.app, port), { cwd: fixturesDir(), env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] })

  // Always drain stderr (a full pipe would block the server); keep the tail for error messages.
  let stderrTail = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_BYTES)
  })
  let exited = false
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true
      resolve()
    })
  })
  let spawnError: Error | null = null
  child.once('error', (err) => {
    spawnError = err
  })
  // Never leave the server behind if the test process ends without calling close().
  const killOnExit = (): void => {
    if (!exited) child.kill('SIGKILL')
  }
  process.once('exit', killOnExit)

  let closing: Promise<void> | null = null
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (!exited) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => {
          if (!exited) child.kill('SIGKILL')
        }, KILL_GRACE_MS)
        await exitPromise
        clearTimeout(timer)
      }
      process.off('exit', killOnExit)
    })()
    return closing
  }

  const deadline = Date.now() + STARTUP_TIMEOUT_MS
  for (;;) {
    if (spawnError !== null || exited) {
      await close()
      const reason = spawnError !== null ? String(spawnError) : `exit code ${child.exitCode}`
      throw new Error(`${options.server} stopped before listening (${reason}):\n${stderrTail}`)
    }
    if (await accepts(port)) return { url, close }
    if (Date.now() > deadline) {
      await close()
      throw new Error(`${options.server} did not listen on ${url} within ${STARTUP_TIMEOUT_MS} ms:\n${stderrTail}`)
    }
    await sleep(POLL_INTERVAL_MS)
  }
}
