/**
 * The WebSocket terminal (RFC 6455): opens the upgrade upstream on a fresh connection and pipes
 * bytes both ways. A connection failure is returned (a rejected promise with an UpstreamFailure)
 * for the one fault mapping to answer; an upstream that answers the upgrade with an ordinary
 * response has that response passed on, through the route's response stages.
 */
import { request as httpRequest, STATUS_CODES, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Duplex } from 'node:stream'
import type { Socket } from 'node:net'
import { UpstreamFailure } from '../errors.js'
import type { Transaction } from '../pipeline/transaction.js'
import { verdict, type PipelineContext, type ResponseHeaders } from '../pipeline/types.js'
import { applyResponseStages, refuseUpgrade } from '../pipeline/respond.js'
import { upstreamResponseHeaders } from './response-headers.js'
import { upstreamRequestHeaders } from './request-headers.js'
import type { UpstreamTarget } from './forward.js'

const maskedRefusal = (status: number) => verdict('error_masking', status, 'DRAWBRIDGE_ERR_UPSTREAM_ERROR', 'upgrade refused with a server error')

/** Opens the upgrade upstream; settles once the upstream answered it (or failed to). */
export function openWebSocket(rt: PipelineContext, target: UpstreamTarget, tx: Transaction, socket: Duplex, head: Buffer): Promise<void> {
  return new Promise((resolve, reject) => connectUpstream(rt, target, tx, socket, head, resolve, reject))
}

function connectUpstream(
  rt: PipelineContext,
  target: UpstreamTarget,
  tx: Transaction,
  socket: Duplex,
  head: Buffer,
  answered: () => void,
  failed: (err: UpstreamFailure) => void,
): void {
  const headers = upstreamRequestHeaders(rt, target.forwardHeaders, tx, null)
  headers['connection'] = 'Upgrade'
  headers['upgrade'] = 'websocket'
  const url = new URL(target.upstream.origin)
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
    if (socket.destroyed) return answered()
    const timeout = err.code === 'ETIMEDOUT'
    const kind = timeout ? 'connect_timeout' : 'unavailable'
    rt.metrics.inc('drawbridge_upstream_errors_total', `kind="${kind}"`)
    failed(new UpstreamFailure(timeout ? 'timeout' : 'unavailable', kind, { cause: err }))
  })
  upReq.once('response', (upRes) => {
    tx.upstreamMs = performance.now() - started
    refused(rt, tx, socket, upRes)
    answered()
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
    answered()
  })
  upReq.end()
}

/**
 * The upstream answered the upgrade with an ordinary response: it goes through the same
 * response stages as any other (security headers, cookie flags, CORS) and, in production, a
 * 5xx is masked like any error page.
 */
function refused(rt: PipelineContext, tx: Transaction, socket: Duplex, upRes: IncomingMessage): void {
  const status = upRes.statusCode ?? 502
  tx.status = status
  if (status >= 500 && rt.config.error_masking.enabled) {
    upRes.resume()
    rt.metrics.inc('drawbridge_masked_errors_total', `status="${status}"`)
    refuseUpgrade(tx, socket, maskedRefusal(status))
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
  // Read and dropped: the client's close (FIN) is then seen and the socket freed.
  socket.resume()
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
