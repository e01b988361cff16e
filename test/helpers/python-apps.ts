/**
 * Starts the echo apps of test/fixtures/adversarial/ under real Python servers: Starlette under
 * uvicorn, Flask under gunicorn and under waitress (Debian's python3-starlette, python3-uvicorn,
 * python3-flask, gunicorn, python3-waitress), each on a free loopback port.
 * Debian's packages belong to /usr/bin/python3, not to whatever python3 is first on PATH (often
 * pyenv), hence the absolute path. Without them the caller skips with `skipReason`, except with
 * CI=true, where starting throws instead.
 */
import { PYTHON, answers, fixturesDir, missingPythonModules, startPythonServer } from './python-server.js'

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

/** Starts one echo app; null when its Python modules are missing (a failure with CI=true). */
export async function startPythonApp(server: PythonServer): Promise<PythonApp | null> {
  const missing = await missingPythonModules(modules[server])
  if (missing !== null) {
    if (process.env.CI === 'true')
      throw new Error(`adversarial tests need ${PYTHON} with ${modules[server]} (apt-get install -y ${packages[server]}): ${missing}`)
    return null
  }
  const { url, close } = await startPythonServer({
    name: server,
    args: (port) => argsFor(server, port),
    cwd: fixturesDir('adversarial'),
    ready: answers('/__log'),
  })
  const log = async (): Promise<Seen[]> => {
    const res = await fetch(`${url}/__log`, { signal: AbortSignal.timeout(5_000) })
    return (await res.json()) as Seen[]
  }
  const clear = async (): Promise<void> => {
    const res = await fetch(`${url}/__clear`, { method: 'POST', signal: AbortSignal.timeout(5_000) })
    await res.arrayBuffer()
  }
  return { server, url, log, clear, close }
}
