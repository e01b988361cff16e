/**
 * The ceiling of our runtime: node:http + an undici keep-alive pool, streaming both ways, no
 * checks at all. Drawbridge is measured against this (target: at least 0.8x its throughput).
 * Usage: node dist/bench/bare-node-proxy.js LISTEN_PORT UPSTREAM_URL [stream|request|headers]
 * `stream` (pool.stream, the default) measured a little faster than `request` (pool.request +
 * pipe) on this machine; both are kept so the choice can be re-measured. `headers` is `stream`
 * plus only the header work Drawbridge must do on every proxied request (a request id, the
 * forwarded headers, the `api` security header set, Cache-Control): the floor under
 * Drawbridge's cost, which `npm run bench:instructions` counts too.
 */
// The V8 flags Drawbridge sets for itself, so that both run on the same runtime settings
import '../src/cli/v8-flags.js'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { Pool } from 'undici'
import { newRequestId } from '../src/listener/request-id.js'
import { profiles } from '../src/stages/response-hardening/profiles.js'

const [port, upstream] = [Number(process.argv[2]), process.argv[3]!]
const mode = process.argv[4] === 'request' || process.argv[4] === 'headers' ? process.argv[4] : 'stream'
const pool = new Pool(upstream, { connections: 128, keepAliveTimeout: 4000 })
const hop = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

type Headers = Record<string, string | string[] | undefined>

/** A copy of `h` without the `dropped` names. */
function without(h: Headers, dropped: ReadonlySet<string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const name in h) if (!dropped.has(name) && h[name] !== undefined) out[name] = h[name]!
  return out
}

function fail(res: ServerResponse): void {
  if (!res.headersSent) res.writeHead(502)
  res.end()
}

// the headers Drawbridge sets or removes, never copied from either side in `headers` mode
const own = new Set([
  ...hop,
  'server',
  'x-powered-by',
  'host',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-real-ip',
  'x-request-id',
  ...Object.keys(profiles.api.enforced),
])
const enforced = Object.entries(profiles.api.enforced)
const defaults = Object.entries(profiles.api.defaults)

/** `stream` plus the header work every proxied request needs (see the top of this file). */
function forwardWithHeaders(req: IncomingMessage, res: ServerResponse): void {
  const id = newRequestId()
  const ip = req.socket.remoteAddress ?? ''
  const host = req.headers.host ?? ''
  const headers = without(req.headers, own)
  headers['host'] = host
  headers['x-forwarded-for'] = ip
  headers['x-forwarded-proto'] = 'http'
  headers['x-forwarded-host'] = host
  headers['x-real-ip'] = ip
  headers['x-request-id'] = id
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
  pool
    .stream({ path: req.url!, method: req.method as 'GET', headers, body: hasBody ? req : null }, ({ statusCode, headers: up }) => {
      const out = without(up, own)
      out['x-request-id'] = id
      for (const [name, value] of enforced) out[name] = value
      for (const [name, value] of defaults) if (out[name] === undefined) out[name] = value
      res.writeHead(statusCode, out)
      return res
    })
    .catch(() => fail(res))
}

function forward(req: IncomingMessage, res: ServerResponse): void {
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
  const opts = { path: req.url!, method: req.method as 'GET', headers: without(req.headers, hop), body: hasBody ? req : null }
  if (mode === 'stream') {
    pool
      .stream(opts, ({ statusCode, headers }) => {
        res.writeHead(statusCode, without(headers, hop))
        return res
      })
      .catch(() => fail(res))
    return
  }
  pool.request(opts).then(
    ({ statusCode, headers, body }) => {
      res.writeHead(statusCode, without(headers, hop))
      body.on('error', () => res.destroy())
      body.pipe(res)
    },
    () => fail(res),
  )
}

createServer(mode === 'headers' ? forwardWithHeaders : forward).listen(port, '127.0.0.1')
// A normal exit on a signal, so `node --cpu-prof` writes its profile
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0))
