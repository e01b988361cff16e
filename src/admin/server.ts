/**
 * The admin listener (loopback by default, like Caddy's admin API): /healthz, /readyz, /metrics,
 * /api/events. It checks Host against loopback names so a web page cannot reach it through DNS
 * rebinding, and /metrics and /api/events may require a bearer token (compared in constant time).
 */
import { createServer, type Server } from 'node:http'
import { createHash, timingSafeEqual } from 'node:crypto'
import { parseAuthority } from '../net/authority.js'
import { Metrics, type MetricsSnapshot } from '../observability/metrics.js'
import type { ReadinessResult } from './readiness.js'
import type { EventQuery, StoredSecurityEvent } from '../storage/types.js'

export interface AdminOptions {
  readonly listenHost: string
  readonly token: () => string | null
  readonly snapshots: () => Promise<MetricsSnapshot[]>
  readonly readiness: () => Promise<ReadinessResult>
  /** Security events, newest first; null where no store is open. */
  readonly events: ((q: EventQuery) => Promise<StoredSecurityEvent[]>) | null
}

const eventFilters = ['category', 'rule', 'client_ip', 'request_id'] as const

/** `GET /api/events` query parameters, checked; a string names the bad parameter. */
export function parseEventQuery(search: URLSearchParams): EventQuery | string {
  const q: { -readonly [K in keyof EventQuery]: EventQuery[K] } = { limit: 50 }
  for (const [k, v] of search) {
    if (k === 'limit') {
      if (!/^[0-9]{1,3}$/.test(v) || Number(v) < 1 || Number(v) > 500) return 'limit'
      q.limit = Number(v)
    } else if (k === 'before') {
      if (!/^[0-9]{1,15}$/.test(v)) return 'before'
      q.before = Number(v)
    } else if (k === 'action') {
      if (v !== 'blocked' && v !== 'logged') return 'action'
      q.action = v
    } else if (k === 'since' || k === 'until') {
      const t = Date.parse(v)
      if (v.length > 64 || Number.isNaN(t)) return k
      q[k] = new Date(t).toISOString()
    } else if ((eventFilters as readonly string[]).includes(k)) {
      if (v.length === 0 || v.length > 256) return k
      q[k as (typeof eventFilters)[number]] = v
    } else {
      return k.slice(0, 64)
    }
  }
  return q
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
    const authorized = (): boolean => {
      const token = o.token()
      if (token === null) return true
      const auth = req.headers.authorization ?? ''
      const given = auth.startsWith('Bearer ') ? auth.slice(7) : ''
      if (timingSafeEqual(digest(given), digest(token))) return true
      res.setHeader('www-authenticate', 'Bearer')
      send(401, { error: 'unauthorized', code: 'DRAWBRIDGE_ERR_UNAUTHORIZED' })
      return false
    }
    if (path === '/metrics') {
      if (!authorized()) return
      o.snapshots().then(
        (snaps) => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' })
          res.end(Metrics.render(snaps))
        },
        () => send(500, { error: 'internal_error', code: 'DRAWBRIDGE_ERR_INTERNAL' }),
      )
      return
    }
    if (path === '/api/events' && o.events !== null) {
      if (!authorized()) return
      const q = parseEventQuery(new URL(req.url ?? '/', 'http://admin').searchParams)
      if (typeof q === 'string') return send(400, { error: 'bad_request', code: 'DRAWBRIDGE_ERR_BAD_REQUEST', parameter: q })
      o.events(q).then(
        (events) => send(200, { events, next: events.length === q.limit ? String(events[events.length - 1]!.id) : null }),
        () => send(503, { error: 'store_unavailable', code: 'DRAWBRIDGE_ERR_INTERNAL' }),
      )
      return
    }
    send(404, { error: 'not_found', code: 'DRAWBRIDGE_ERR_NOT_FOUND' })
  })
  server.on('clientError', (_err, socket) => socket.destroy())
  return server
}
