/**
 * WebSocket upgrades (RFC 6455). The head goes through the same request stages as any request;
 * then the Origin must be allowed (same origin, or in the CORS allowlist): browsers always send
 * it, so this stops cross-site WebSocket hijacking. Upstream bytes are then piped both ways.
 */
import { request as httpRequest, STATUS_CODES, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Duplex } from 'node:stream'
import type { Socket } from 'node:net'
import type { Runtime } from '../listener/runtime.js'
import type { Transaction } from '../pipeline/transaction.js'
import type { ResponseHeaders } from '../pipeline/types.js'
import { prepare, runRequestStages } from '../listener/request.js'
import { afterBlockStored, applyResponseStages, rawError } from '../listener/respond.js'
import { logTransaction, recordWafEvents } from '../listener/log.js'
import { StorageUnavailable } from '../errors.js'
import { upstreamResponseHeaders } from './response-headers.js'
import { upstreamRequestHeaders } from './forward.js'

export function handleUpgrade(rt: Runtime, req: IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void {
  socket.on('error', () => socket.destroy())
  let tx: Transaction
  try {
    const [t, early] = prepare(rt, req, null, secure)
    tx = t
    // One access line per upgrade like any request, when its connection ends: refused (by
    // Drawbridge or the app), failed, or a WebSocket session (logged with its whole duration).
    socket.once('close', () => logTransaction(rt, t))
    if (early !== null) return reject(tx, socket, early.status, early.code ?? 'DRAWBRIDGE_ERR_BAD_REQUEST', early.stage, early.reason)
  } catch {
    socket.destroy()
    return
  }
  if (!rt.config.websocket.enabled || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
    return reject(tx, socket, 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'websocket', 'upgrade not allowed')
  }
  // The opening handshake is a GET (RFC 6455 §4.1); any other method would be judged as itself
  // here and opened upstream as a GET.
  if (req.method !== 'GET') return reject(tx, socket, 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'websocket', 'upgrade method not GET')
  const run = (v: ReturnType<typeof runRequestStages>) => {
    Promise.resolve(v).then(
      (verdict) => {
        if (verdict !== undefined) {
          // An attack in an upgrade is an attack: stored before the answer, counted toward a ban.
          return afterBlockStored(rt, tx, () =>
            reject(tx, socket, verdict.status >= 400 ? verdict.status : 400, verdict.code ?? 'DRAWBRIDGE_ERR_BAD_REQUEST', verdict.stage, verdict.reason),
          )
        }
        if (tx.wafFindings !== null) recordWafEvents(rt, tx)
        if (!originAllowed(rt, tx)) return reject(tx, socket, 403, 'DRAWBRIDGE_ERR_ORIGIN_NOT_ALLOWED', 'websocket', 'origin not allowed')
        connectUpstream(rt, tx, socket, head)
      },
      (err: unknown) => {
        if (!(err instanceof StorageUnavailable)) return reject(tx, socket, 500, 'DRAWBRIDGE_ERR_INTERNAL', 'fault', 'stage threw')
        rt.storeErrors.decision(err.store, `request:${tx.route.name}`, 'deny', tx.id, err.cause ?? err)
        reject(tx, socket, 503, 'DRAWBRIDGE_ERR_STORE_UNAVAILABLE', 'storage', 'store unavailable')
      },
    )
  }
  try {
    run(runRequestStages(tx))
  } catch {
    reject(tx, socket, 500, 'DRAWBRIDGE_ERR_INTERNAL', 'fault', 'stage threw')
  }
}

function originAllowed(rt: Runtime, tx: Transaction): boolean {
  const origin = tx.req.headers.origin
  if (origin === undefined) return !rt.config.websocket.require_origin
  if (rt.wsOrigins.matches(origin)) return true
  // Same origin: the page was served by this very host.
  const expected = (tx.secure ? 'https://' : 'http://') + tx.authority.toLowerCase()
  return origin.toLowerCase() === expected
}

function reject(
  tx: Transaction,
  socket: Duplex,
  status: number,
  code: Parameters<typeof rawError>[2],
  stage: string,
  reason: string,
): void {
  // Counted and logged by the logging phase, as for any request.
  tx.status = status
  tx.rejectedBy = stage
  tx.rejectReason = reason
  rawError(socket as Socket, status, code, tx.id)
  drain(socket)
}

/**
 * node:http hands the upgrade socket over paused: once it is refused, what the client still
 * sends is read and dropped, so its close (FIN) is seen and the socket freed; unread, a client
 * that closes would leave it open for good.
 */
function drain(socket: Duplex): void {
  socket.resume()
}

function connectUpstream(rt: Runtime, tx: Transaction, socket: Duplex, head: Buffer): void {
  const headers = upstreamRequestHeaders(rt, tx, null)
  headers['connection'] = 'Upgrade'
  headers['upgrade'] = 'websocket'
  const url = new URL(rt.upstream.origin)
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  const upReq = request({
    host: url.hostname,
    port: url.port || (url.protocol === 'https:' ? 443 : 80),
    method: 'GET',
    path: tx.query === '' ? tx.path : tx.path + '?' + tx.query,
    headers,
    // A fresh connection per upgrade: a refused upgrade's socket must never be reused.
    agent: false,
    timeout: rt.config.upstream.connect_timeout,
    rejectUnauthorized: !rt.config.upstream.insecure_skip_tls_verify,
  })
  socket.once('close', () => upReq.destroy())
  const started = performance.now()
  upReq.once('timeout', () => upReq.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })))
  upReq.on('error', (err: NodeJS.ErrnoException) => {
    if (socket.destroyed) return
    const timeout = err.code === 'ETIMEDOUT'
    const kind = timeout ? 'connect_timeout' : 'unavailable'
    rt.metrics.inc('drawbridge_upstream_errors_total', `kind="${kind}"`)
    tx.status = timeout ? 504 : 502
    tx.rejectedBy = 'upstream'
    tx.rejectReason = kind
    rawError(socket as Socket, timeout ? 504 : 502, timeout ? 'DRAWBRIDGE_ERR_UPSTREAM_TIMEOUT' : 'DRAWBRIDGE_ERR_UPSTREAM_UNAVAILABLE', tx.id)
    drain(socket)
  })
  upReq.once('response', (upRes) => {
    tx.upstreamMs = performance.now() - started
    refused(rt, tx, socket, upRes)
  })
  upReq.once('upgrade', (upRes, upSocket, upHead) => {
    upReq.setTimeout(0)
    tx.status = 101
    tx.upstreamMs = performance.now() - started
    // The 101 goes through the route's header filter and response stages like any answer
    // (configured removals, Server, Set-Cookie flags); the upgrade's own two headers are put back.
    const out = upstreamResponseHeaders(tx.route.upstreamHeaders, upRes.headers)
    applyResponseStages(tx, out)
    out['connection'] = 'Upgrade'
    out['upgrade'] = upRes.headers.upgrade ?? 'websocket'
    socket.write(responseHead(101, out) + '\r\n')
    if (upHead.length > 0) socket.write(upHead)
    if (head.length > 0) upSocket.write(head)
    upSocket.on('error', () => socket.destroy())
    socket.on('error', () => upSocket.destroy())
    upSocket.once('close', () => socket.destroy())
    socket.once('close', () => upSocket.destroy())
    upSocket.pipe(socket)
    socket.pipe(upSocket)
    rt.logger.info('websocket open', { request_id: tx.id, client_ip: tx.clientIp, path: tx.path })
  })
  upReq.end()
}

/**
 * The upstream answered the upgrade with an ordinary response: it goes through the same
 * response stages as any other (security headers, cookie flags, CORS) and, in production, a
 * 5xx is masked like any error page.
 */
function refused(rt: Runtime, tx: Transaction, socket: Duplex, upRes: IncomingMessage): void {
  const status = upRes.statusCode ?? 502
  tx.status = status
  if (status >= 500 && rt.config.error_masking.enabled) {
    upRes.resume()
    tx.rejectedBy = 'error_masking'
    tx.rejectReason = 'upgrade refused with a server error'
    rt.metrics.inc('drawbridge_masked_errors_total', `status="${status}"`)
    rawError(socket as Socket, status, 'DRAWBRIDGE_ERR_UPSTREAM_ERROR', tx.id)
    drain(socket)
    return
  }
  const out = upstreamResponseHeaders(tx.route.upstreamHeaders, upRes.headers)
  applyResponseStages(tx, out)
  socket.write(responseHead(status, out) + 'connection: close\r\n\r\n')
  // An answer cut off by the upstream cannot be completed: the client sees the close. One that
  // ended is followed by the same bounded close as Drawbridge's own refusals.
  upRes.once('close', () => {
    if (!upRes.complete) socket.destroy()
  })
  upRes.once('end', () => (socket as Socket).setTimeout(refusedCloseMs, () => socket.destroy()))
  drain(socket)
  upRes.pipe(socket)
}

/** How long a refused upgrade's socket may wait, its answer written, for the client to close. */
const refusedCloseMs = 5000

/** Status line and header lines of an answer written to the raw socket (no blank line). */
function responseHead(status: number, headers: ResponseHeaders): string {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) head += `${name}: ${v}\r\n`
  }
  return head
}
