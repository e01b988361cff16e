/**
 * `npm start`: the demo API on 127.0.0.1:8000 and Drawbridge on 127.0.0.1:8080 in front of it,
 * both on loopback only. Prints requests to try, with and without the gateway.
 */
import { fileURLToPath } from 'node:url'
import { dirname, resolve } from 'node:path'
import { existsSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { startDemoApi } from './demo-api/server.js'
import { createGateway } from '../src/gateway/index.js'
import { configWarnings, loadConfig } from '../src/config/load.js'
import { ConfigInvalid } from '../src/errors.js'
import { Logger } from '../src/observability/logger.js'

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(resolve(dir, 'package.json'))) dir = dirname(dir)
  return dir
}

// The demo's key-encryption key: made once, beside the demo config (never committed).
const kekFile = resolve(repoRoot(), 'examples/.demo-kek')
if (!existsSync(kekFile)) writeFileSync(kekFile, randomBytes(32).toString('hex') + '\n', { mode: 0o600 })

const apiPort = Number(process.env.DEMO_API_PORT ?? 8000)
const api = await startDemoApi({ port: apiPort })
let config
try {
  config = loadConfig({
    file: resolve(repoRoot(), 'examples/drawbridge.demo.yaml'),
    flags: { upstream: api.url },
    env: process.env,
  })
} catch (e) {
  if (e instanceof ConfigInvalid) for (const i of e.issues) console.error(`${i.path}: ${i.message}`)
  else console.error(e)
  await api.close()
  process.exit(2)
}
const logger = new Logger(config.logging.level)
for (const w of configWarnings(config)) logger.warn(w)
const gateway = createGateway(config, { logger })
const { url, adminUrl } = await gateway.listen()
const demoPassword = 'castle-gate-keeper-2026'
if (gateway.identity !== null && (await gateway.identity.stores.users.byUsername('demo')) === null) {
  const r = await gateway.identity.register('demo', null, demoPassword, ['admin'])
  if (!r.ok) logger.warn('could not create the demo user', { reason: r.reason })
}
const g = url.replace('127.0.0.1', 'localhost')

process.stderr.write(`
Drawbridge ${url}  ->  demo API ${api.url} (deliberately vulnerable; loopback only)
Admin: ${adminUrl}/healthz  ${adminUrl}/readyz  ${adminUrl}/metrics  ${adminUrl}/api/events

Try the same request against the app and through the gateway:
  # SQL injection works on the naive app; the gateway's WAF answers 403 and records an event
  curl -s '${api.url}/users?name=alice%27%20OR%20%271%27=%271'
  curl -si '${g}/users?name=alice%27%20OR%20%271%27=%271'
  curl -s '${adminUrl}/api/events?limit=5'
  # XSS, path traversal and command injection likewise; the ordinary request passes
  curl -si -X POST ${g}/comments -H 'content-type: application/json' -d '{"text":"<script>alert(1)</script>"}'
  curl -si '${g}/files?name=../../etc/passwd'
  curl -si '${g}/ping?host=127.0.0.1;cat%20/etc/passwd'
  curl -s '${g}/users?name=alice'
  # the app leaks a stack trace; the gateway answers a generic JSON error with a request id
  curl -si ${api.url}/debug/crash
  curl -si ${g}/debug/crash
  # docs hidden in production (404), untrusted Host (400), method not allowed (405)
  curl -si ${g}/docs
  curl -si ${g}/health -H 'Host: evil.example'
  curl -si -X TRACE ${g}/health
  # cookies get HttpOnly and SameSite (and Secure on HTTPS)
  curl -si -X POST ${g}/login -H 'content-type: application/json' -d '{"username":"alice","password":"alice-password"}'
  # a preflight from a foreign origin: 403, never forwarded
  curl -si -X OPTIONS ${g}/comments -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST'
  # identity at the edge: /debug/headers needs a login (401 without); the app then sees X-Drawbridge-User
  curl -si ${g}/debug/headers
  TOKEN=$(curl -s -X POST ${g}/auth/login -d 'username=demo&password=${demoPassword}' | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')
  curl -s ${g}/debug/headers -H "Authorization: Bearer $TOKEN"
  curl -s ${g}/auth/me -H "Authorization: Bearer $TOKEN"
  # in a browser: ${g}/auth/login (cookies, CSRF-protected form, no script)
Security events go to ${config.storage.memory ? 'memory' : config.storage.sqlite.path}. Ctrl-C stops both.
`)

const stop = async () => {
  await gateway.close(2000)
  await api.close()
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
