/**
 * The ceiling of our runtime: node:http + an undici keep-alive pool, streaming both ways, no
 * checks at all. Drawbridge is measured against this (target: at least 0.8x its throughput).
 * Usage: node dist/bench/bare-node-proxy.js LISTEN_PORT UPSTREAM_URL [stream|request]
 * `stream` (pool.stream, the default) measured a little faster than `request` (pool.request +
 * pipe) on this machine; both are kept so the choice can be re-measured.
 */
// The V8 flags Drawbridge sets for itself, so that both run on the same runtime settings
import '../src/cli/v8-flags.js'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { Pool } from 'undici'

const [port, upstream] = [Number(process.argv[2]), process.argv[3]!]
const mode = process.argv[4] === 'request' ? 'request' : 'stream'
const pool = new Pool(upstream, { connections: 128, keepAliveTimeout: 4000 })
const hop = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

type Headers = Record<string, string | string[] | undefined>

function strip(h: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const name in h) if (!hop.has(name) && h[name] !== undefined) out[name] = h[name]!
  return out
}

function fail(res: ServerResponse): void {
  if (!res.headersSent) res.writeHead(502)
  res.end()
}

function forward(req: IncomingMessage, res: ServerResponse): void {
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
  const opts = { path: req.url!, method: req.method as 'GET', headers: strip(req.headers), body: hasBody ? req : null }
  if (mode === 'stream') {
    pool
      .stream(opts, ({ statusCode, headers }) => {
        res.writeHead(statusCode, strip(headers))
        return res
      })
      .catch(() => fail(res))
    return
  }
  pool.request(opts).then(
    ({ statusCode, headers, body }) => {
      res.writeHead(statusCode, strip(headers))
      body.on('error', () => res.destroy())
      body.pipe(res)
    },
    () => fail(res),
  )
}

createServer(forward).listen(port, '127.0.0.1')
// A normal exit on a signal, so `node --cpu-prof` writes its profile
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0))
