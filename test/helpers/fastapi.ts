// Starts the real FastAPI fixture (test/fixtures/fastapi_app.py) under uvicorn for integration
// tests (Debian's python3-fastapi and python3-uvicorn, see python-server.ts).

import { PYTHON, answers, fixturesDir, missingPythonModules, startPythonServer } from './python-server.js'

export interface FastApiHandle {
  url: string
  close(): Promise<void>
}

export const fastApiSkipReason =
  `FastAPI tests skipped: ${PYTHON} cannot import fastapi and uvicorn ` +
  '(apt-get install -y python3-fastapi python3-uvicorn); with CI=true this is a failure instead'

export async function startFastApi(): Promise<FastApiHandle | null> {
  const missing = await missingPythonModules('fastapi, uvicorn')
  if (missing !== null) {
    if (process.env.CI === 'true') {
      throw new Error(`FastAPI integration tests need ${PYTHON} with fastapi and uvicorn ` + `(apt-get install -y python3-fastapi python3-uvicorn): ${missing}`)
    }
    return null
  }
  const { url, close } = await startPythonServer({
    name: 'uvicorn',
    args: (port) => ['-m', 'uvicorn', 'fastapi_app:app', '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warning'],
    cwd: fixturesDir(),
    ready: answers('/__count'),
  })
  return { url, close }
}
