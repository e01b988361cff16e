// Starts the real FastAPI fixture (test/fixtures/fastapi_app.py) under uvicorn for integration
// tests.
// Debian's python3-fastapi and python3-uvicorn belong to /usr/bin/python3, not to whatever python3
// is first on PATH (often pyenv), hence the absolute path.

import { freePort } from './net.js'
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export interface FastApiHandle {
  url: string
  close(): Promise<void>
}

const PYTHON = '/usr/bin/python3'
const STARTUP_TIMEOUT_MS = 15_000
const POLL_INTERVAL_MS = 100
const KILL_GRACE_MS = 3_000
const STDERR_TAIL_BYTES = 8 * 1024

export const fastApiSkipReason =
  `FastAPI tests skipped: ${PYTHON} cannot import fastapi and uvicorn ` +
  '(apt-get install -y python3-fastapi python3-uvicorn); with CI=true this is a failure instead'

// Compiled code runs from dist/test/helpers/, the fixture stays in test/fixtures/.
function fixturesDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'test', 'fixtures')
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('fastapi helper: cannot find the repository root')
    dir = parent
  }
}

function pythonHasFastApi(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      ['-c', 'import fastapi, uvicorn'],
      { timeout: 15_000, env: childEnv() },
      (err, _stdout, stderr) => {
        if (err === null) return resolve(null)
        const detail = stderr.trim().split('\n').at(-1) ?? ''
        resolve(detail !== '' ? detail : err.message)
      },
    )
  })
}

function childEnv(): NodeJS.ProcessEnv {
  // No __pycache__ in the source tree; a PYTHONHOME meant for another Python would break this one.
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' }
  delete env.PYTHONHOME
  return env
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export async function startFastApi(): Promise<FastApiHandle | null> {
  const missing = await pythonHasFastApi()
  if (missing !== null) {
    if (process.env.CI === 'true') {
      throw new Error(
        `FastAPI integration tests need ${PYTHON} with fastapi and uvicorn ` +
          `(apt-get install -y python3-fastapi python3-uvicorn): ${missing}`,
      )
    }
    return null
  }

  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(
    PYTHON,
    [
      '-m',
      'uvicorn',
      'fastapi_app:app',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--log-level',
      'warning',
    ],
    { cwd: fixturesDir(), env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
  )

  // Always drain stderr (a full pipe would block uvicorn); keep the tail for error messages.
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

  // Never leave uvicorn behind if the test process ends without calling close().
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
      throw new Error(`uvicorn stopped before answering (${reason}):\n${stderrTail}`)
    }
    try {
      const res = await fetch(`${url}/__count`, { signal: AbortSignal.timeout(1_000) })
      await res.arrayBuffer()
      if (res.ok) return { url, close }
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await close()
      throw new Error(
        `uvicorn did not answer on ${url} within ${STARTUP_TIMEOUT_MS} ms:\n${stderrTail}`,
      )
    }
    await sleep(POLL_INTERVAL_MS)
  }
}
