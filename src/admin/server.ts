/**
 * The admin listener (loopback by default, like Caddy's admin API): /healthz, /readyz, /metrics.
 * It checks Host against loopback names so a web page cannot reach it through DNS rebinding,
 * and /metrics may require a bearer token (compared in constant time).
 */
import { createServer, type Server } from 'node:http'
import { createHash, timingSafeEqual } from 'node:crypto'
import { parseAuthority } from '../stages/host-check/index.js'
import { Metrics, type MetricsSnapshot } from '../observability/metrics.js'
import type { ReadinessResult } from './readiness.js'

export interface AdminOptions {
  readonly listenHost: string
  readonly token: () => string | null
  readonly snapshots: () => Promise<MetricsSnapshot[]>
  readonly readiness: () => Promise<ReadinessResult>
}

const json = { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

export function createAdminServer(o: AdminOptions): Server {
  const allowedHosts = new Set(['localhost', '127.0.0.1', '[::1]'])
  const h = o.listenHost.includes(':') ? `[${o.listenHost}]` : o.listenHost.toLowerCase()
  if (h !== '0.0.0.0' && h !== '[::]') allowedHosts.add(h)

  const server = createServer({ maxHeaderSize: 8192, requireHostHeader: false }, (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, json)
      res.end(JSON.stringify(body))
    }
    const host = parseAuthority(req.headers.host ?? '')
    if (host === null || !allowedHosts.has(host)) return send(403, { error: 'forbidden', code: 'DRAWBRIDGE_ERR_FORBIDDEN' })
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'method_not_allowed', code: 'DRAWBRIDGE_ERR_METHOD_NOT_ALLOWED' })
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/healthz') return send(200, { status: 'ok' })
    if (path === '/readyz') {
      o.readiness().then(
        (r) => send(r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not_ready', checks: r.checks }),
        () => send(503, { status: 'not_ready' }),
      )
      return
    }
    if (path === '/metrics') {
      const token = o.token()
      if (token !== null) {
        const auth = req.headers.authorization ?? ''
        const given = auth.startsWith('Bearer ') ? auth.slice(7) : ''
        if (!timingSafeEqual(digest(given), digest(token))) {
          res.setHeader('www-authenticate', 'Bearer')
          return send(401, { error: 'unauthorized', code: 'DRAWBRIDGE_ERR_UNAUTHORIZED' })
        }
      }
      o.snapshots().then(
        (snaps) => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' })
          res.end(Metrics.render(snaps))
        },
        () => send(500, { error: 'internal_error', code: 'DRAWBRIDGE_ERR_INTERNAL' }),
      )
      return
    }
    send(404, { error: 'not_found', code: 'DRAWBRIDGE_ERR_NOT_FOUND' })
  })
  server.on('clientError', (_err, socket) => socket.destroy())
  return server
}
