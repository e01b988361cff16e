/**
 * The ceiling of our runtime: node:http + an undici keep-alive pool, streaming both ways, no
 * checks at all. Drawbridge is measured against this (target: at least 0.8x its throughput).
 * Usage: node dist/bench/bare-node-proxy.js LISTEN_PORT UPSTREAM_URL
 */
import { createServer } from 'node:http'
import { Pool } from 'undici'

const [port, upstream] = [Number(process.argv[2]), process.argv[3]!]
const pool = new Pool(upstream, { connections: 128, keepAliveTimeout: 4000 })
const hop = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

createServer((req, res) => {
  const headers: Record<string, string | string[]> = {}
  for (const name in req.headers) if (!hop.has(name)) headers[name] = req.headers[name]!
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
  pool
    .stream({ path: req.url!, method: req.method as 'GET', headers, body: hasBody ? req : null }, ({ statusCode, headers: h }) => {
      const out: Record<string, string | string[] | undefined> = {}
      for (const name in h) if (!hop.has(name)) out[name] = h[name] as string | string[]
      res.writeHead(statusCode, out)
      return res
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    })
}).listen(port, '127.0.0.1')
