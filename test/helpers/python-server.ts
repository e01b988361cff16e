/**
 * What the helpers that start real Python servers share (FastAPI under uvicorn, WSGI apps under
 * gunicorn and waitress, the adversarial echo apps): Debian's packages belong to /usr/bin/python3,
 * not to whatever python3 is first on PATH (often pyenv), hence the absolute path; the server
 * gets a clean environment, its stderr is drained (a full pipe would block it) with the tail kept
 * for error messages, it is never left behind when the test process ends, and it counts as
 * started once `ready` says so.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './net.js'

export const PYTHON = '/usr/bin/python3'
const STARTUP_TIMEOUT_MS = 15_000
const POLL_INTERVAL_MS = 100
const KILL_GRACE_MS = 3_000
const STDERR_TAIL_BYTES = 8 * 1024

/** test/fixtures/ (or a folder in it): compiled code runs from dist/test/helpers/. */
export function fixturesDir(sub = ''): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'test', 'fixtures', sub)
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('python-server helper: cannot find the repository root')
    dir = parent
  }
}

/**
 * A clean environment: no __pycache__ in the source tree, no PYTHONHOME or PYTHONPATH meant for
 * another Python, nothing from the caller's shell configuring the server (GUNICORN_CMD_ARGS,
 * FORWARDED_ALLOW_IPS, SCRIPT_NAME).
 */
export function pythonEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' }
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME
  return env
}

/** Null when `import <modules>` works, else why not (the last line of Python's error). */
export function missingPythonModules(modules: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(PYTHON, ['-c', `import ${modules}`], { timeout: 15_000, env: pythonEnv() }, (err, _stdout, stderr) => {
      if (err === null) return resolve(null)
      const detail = stderr.trim().split('\n').at(-1) ?? ''
      resolve(detail !== '' ? detail : err.message)
    })
  })
}

export interface PythonServerOptions {
  /** For error messages: uvicorn, gunicorn, waitress. */
  readonly name: string
  /** The arguments to python3, given the port to listen on. */
  readonly args: (port: number) => string[]
  readonly cwd: string
  /** Whether the server answers yet (polled until it does or the start-up time is over). */
  readonly ready: (url: string, port: number) => Promise<boolean>
}

export interface PythonServerHandle {
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

export async function startPythonServer(options: PythonServerOptions): Promise<PythonServerHandle> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(PYTHON, options.args(port), { cwd: options.cwd, env: pythonEnv(), stdio: ['ignore', 'ignore', 'pipe'] })
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

  const deadline = Date.now() + STARTUP_TIMEOUT_MS
  for (;;) {
    if (spawnError !== null || exited) {
      await close()
      const reason = spawnError !== null ? String(spawnError) : `exit code ${child.exitCode}`
      throw new Error(`${options.name} stopped before answering (${reason}):\n${stderrTail}`)
    }
    if (await options.ready(url, port).catch(() => false)) return { url, port, close }
    if (Date.now() > deadline) {
      await close()
      throw new Error(`${options.name} did not answer on ${url} within ${STARTUP_TIMEOUT_MS} ms:\n${stderrTail}`)
    }
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS))
  }
}

/** A ready check: GET `path` answers 2xx. */
export function answers(pathname: string): (url: string) => Promise<boolean> {
  return async (url) => {
    const res = await fetch(url + pathname, { signal: AbortSignal.timeout(1_000) })
    await res.arrayBuffer()
    return res.ok
  }
}
