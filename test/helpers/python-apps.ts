/**
 * Starts the echo apps of test/fixtures/adversarial/ under real Python servers: Starlette under
 * uvicorn, Flask under gunicorn and under waitress (Debian's python3-starlette, python3-uvicorn,
 * python3-flask, gunicorn, python3-waitress), each on a free loopback port.
 * Debian's packages belong to /usr/bin/python3, not to whatever python3 is first on PATH (often
 * pyenv), hence the absolute path. Without them the caller skips with `skipReason`, except with
 * CI=true, where starting throws instead.
 */
import { freePort } from './net.js'
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export type PythonServer = 'uvicorn' | 'gunicorn' | 'waitress'
export const pythonServers: readonly PythonServer[] = ['uvicorn', 'gunicorn', 'waitress']

/** What an echo app answered or logged for one request (see the fixtures for the fields). */
export interface Seen {
  app: string
  route: string
  method: string
  path: string
  headers: [string, string][]
  query: [string, string][]
  body: string
  json: unknown
  json_parsed: boolean
  client: string | null
  request_id: string | null
  scheme?: string
  original_method?: string | null
  path_info?: string
  script_name?: string
  raw_path?: string
  access_route?: string[]
  environ_http?: Record<string, string>
}

export interface PythonApp {
  readonly server: PythonServer
  readonly url: string
  /** Every request the app has handled since start or the last clear(), oldest first (bounded). */
  log(): Promise<Seen[]>
  clear(): Promise<void>
  close(): Promise<void>
}

const PYTHON = '/usr/bin/python3'
const STARTUP_TIMEOUT_MS = 15_000
const POLL_INTERVAL_MS = 100
const KILL_GRACE_MS = 3_000
const STDERR_TAIL_BYTES = 8 * 1024

const modules: Record<PythonServer, string> = {
  uvicorn: 'uvicorn, starlette',
  gunicorn: 'gunicorn, flask',
  waitress: 'waitress, flask',
}
const packages: Record<PythonServer, string> = {
  uvicorn: 'python3-uvicorn python3-starlette',
  gunicorn: 'gunicorn python3-flask',
  waitress: 'python3-waitress python3-flask',
}

export function skipReason(server: PythonServer): string {
  return `${server} tests skipped: ${PYTHON} cannot import ${modules[server]} (apt-get install -y ${packages[server]}); with CI=true this is a failure instead`
}

function fixturesDir(): string {
  // Compiled code runs from dist/test/helpers/, the fixtures stay in test/fixtures/.
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'test', 'fixtures', 'adversarial')
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('python-apps helper: cannot find the repository root')
    dir = parent
  }
}

function childEnv(): NodeJS.ProcessEnv {
  // A clean environment: no __pycache__ in the source tree, no PYTHONHOME or PYTHONPATH meant for
  // another Python, and no SCRIPT_NAME (gunicorn would mount the app under it).
  const env: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' }
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME
  return env
}

function missingModules(server: PythonServer): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(PYTHON, ['-c', `import ${modules[server]}`], { timeout: 15_000, env: childEnv() }, (err, _stdout, stderr) => {
      if (err === null) return resolve(null)
      const detail = stderr.trim().split('\n').at(-1) ?? ''
      resolve(detail !== '' ? detail : err.message)
    })
  })
}

function argsFor(server: PythonServer, port: number): string[] {
  switch (server) {
    case 'uvicorn':
      // Defaults otherwise, as deployed: proxy headers believed from 127.0.0.1 (Drawbridge).
      return ['-m', 'uvicorn', 'starlette_echo:app', '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warning']
    case 'gunicorn':
      return ['-m', 'gunicorn', '--bind', `127.0.0.1:${port}`, '--workers', '1', '--log-level', 'warning', 'flask_echo:app']
    case 'waitress':
      return ['-m', 'waitress', '--host=127.0.0.1', `--port=${port}`, '--threads=4', 'flask_echo:app']
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Starts one echo app; null when its Python modules are missing (a failure with CI=true). */
export async function startPythonApp(server: PythonServer): Promise<PythonApp | null> {
  const missing = await missingModules(server)
  if (missing !== null) {
    if (process.env.CI === 'true') throw new Error(`adversarial tests need ${PYTHON} with ${modules[server]} (apt-get install -y ${packages[server]}): ${missing}`)
    return null
  }
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(PYTHON, argsFor(server, port), { cwd: fixturesDir(), env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] })

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
  // Never leave a server behind if the test process ends without calling close().
  const killOnExit = (): void => {
    if (!exited) child.kill('SIGKILL')
  }
  process.once('exit', killOnExit)

  let closing: Promise<void> | null = null
  const close = (): Promise<void> => {
    // SIGTERM to the server's own process: gunicorn's master then stops its worker itself.
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

  const log = async (): Promise<Seen[]> => {
    const res = await fetch(`${url}/__log`, { signal: AbortSignal.timeout(5_000) })
    return (await res.json()) as Seen[]
  }
  const clear = async (): Promise<void> => {
    const res = await fetch(`${url}/__clear`, { method: 'POST', signal: AbortSignal.timeout(5_000) })
    await res.arrayBuffer()
  }

  const deadline = Date.now() + STARTUP_TIMEOUT_MS
  for (;;) {
    if (spawnError !== null || exited) {
      await close()
      const reason = spawnError !== null ? String(spawnError) : `exit code ${child.exitCode}`
      throw new Error(`${server} stopped before answering (${reason}):\n${stderrTail}`)
    }
    try {
      const res = await fetch(`${url}/__log`, { signal: AbortSignal.timeout(1_000) })
      await res.arrayBuffer()
      if (res.ok) return { server, url, log, clear, close }
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await close()
      throw new Error(`${server} did not answer on ${url} within ${STARTUP_TIMEOUT_MS} ms:\n${stderrTail}`)
    }
    await sleep(POLL_INTERVAL_MS)
  }
}
