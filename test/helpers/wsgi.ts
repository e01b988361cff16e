// Starts a WSGI app from test/fixtures/ under a real WSGI server (gunicorn or waitress), so that
// tests see what such an app makes of a request (PEP 3333 environ, SCRIPT_NAME, HTTP_* keys).
// Debian's packages (gunicorn, python3-waitress, python3-flask) belong to /usr/bin/python3, not
// to whatever python3 is first on PATH, hence the absolute path; the environment is a clean one
// (no GUNICORN_CMD_ARGS, FORWARDED_ALLOW_IPS or PYTHONPATH from the caller's shell).

import { connect } from 'node:net'
import { PYTHON, fixturesDir, missingPythonModules, startPythonServer } from './python-server.js'

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

const packages: Record<WsgiServer, string> = { gunicorn: 'gunicorn python3-flask', waitress: 'python3-waitress python3-flask' }

export function wsgiSkipReason(server: WsgiServer): string {
  return `${server} tests skipped: ${PYTHON} cannot import ${server} and flask (apt-get install -y ${packages[server]}); with CI=true this is a failure instead`
}

function serverArgs(server: WsgiServer, app: string, port: number): string[] {
  if (server === 'gunicorn') {
    // One sync worker; its default forwarded_allow_ips (127.0.0.1) is what a Drawbridge on the same host gets.
    return ['-m', 'gunicorn', '--bind', `127.0.0.1:${port}`, '--workers', '1', '--log-level', 'warning', app]
  }
  return ['-m', 'waitress', `--listen=127.0.0.1:${port}`, app]
}

/** Whether the server accepts a connection on its port (WSGI apps have no common health route). */
function accepts(_url: string, port: number): Promise<boolean> {
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
  const missing = await missingPythonModules(`${options.server}, flask`)
  if (missing !== null) {
    if (process.env.CI === 'true')
      throw new Error(`${options.server} tests need ${PYTHON} with ${options.server} and flask (apt-get install -y ${packages[options.server]}): ${missing}`)
    return null
  }
  const { url, close } = await startPythonServer({
    name: options.server,
    args: (port) => serverArgs(options.server, options.app, port),
    cwd: fixturesDir(),
    ready: accepts,
  })
  return { url, close }
}
