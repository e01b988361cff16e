/**
 * The one writer of Drawbridge's own answers: verdicts, errors, faults, and what its own
 * endpoints send. Every error is JSON `{ "error", "code", "request_id" }` and goes through the
 * same response stages as upstream responses (security headers, CORS), so a browser app can
 * read it and nothing leaks. Faults are mapped to statuses here and nowhere else (see fault()).
 */
import { STATUS_CODES, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { errorLabels, StorageUnavailable, UpstreamFailure, type DrawbridgeErrorCode } from '../errors.js'
import type { Transaction } from './transaction.js'
import { verdict, type PipelineContext, type ResponseHeaders, type Verdict } from './types.js'
import { recordWafEvents } from './log.js'

export function errorBody(code: DrawbridgeErrorCode, requestId: string): string {
  return `{"error":"${errorLabels[code]}","code":"${code}","request_id":${JSON.stringify(requestId)}}`
}

/** Whether the request body may still be unread: then the connection cannot be reused. */
function bodyPending(tx: Transaction): boolean {
  return !tx.req.complete && (tx.req.headers['content-length'] !== undefined || tx.req.headers['transfer-encoding'] !== undefined)
}

/** What every answer carries, upstream's or ours: the request id, then the route's response stages. */
export function applyResponseStages(tx: Transaction, headers: ResponseHeaders): void {
  headers['x-request-id'] = tx.id
  const stages = tx.route.responseStages
  for (let i = 0; i < stages.length; i++) stages[i]!.response!(tx, headers)
}

export function sendError(
  rt: PipelineContext,
  tx: Transaction,
  status: number,
  code: DrawbridgeErrorCode,
  stage: string,
  reason: string,
  extra: readonly (readonly [string, string])[] | null = null,
): void {
  const res = tx.res!
  tx.rejectedBy = stage
  tx.rejectReason = reason
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = errorBody(code, tx.id)
  const headers: ResponseHeaders = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  }
  if (extra !== null) for (const [k, v] of extra) headers[k] = v
  applyResponseStages(tx, headers)
  headers['cache-control'] = 'no-store'
  if (rt.draining || bodyPending(tx)) headers['connection'] = 'close'
  res.writeHead(status, headers)
  res.end(tx.method === 'HEAD' ? undefined : body)
}

/** How long a blocked request's answer may wait for its security event to be stored. */
const eventWaitMs = 1000

/**
 * Runs `answer` for a refused request; a WAF block's security events are stored first (at most
 * `eventWaitMs`, see SecurityEvents.stored), so an instance killed the next moment has lost no
 * event for an attack it answered. Used for responses and for refused WebSocket upgrades.
 */
export function afterBlockStored(rt: PipelineContext, tx: Transaction, answer: () => void): void {
  if (!tx.wafBlocked || tx.wafFindings === null || tx.eventsRecorded) return answer()
  recordWafEvents(rt, tx)
  void rt.events.stored(eventWaitMs).then(() => {
    // Not for a client that went away meanwhile.
    if (!tx.req.socket.destroyed) answer()
  })
}

export function sendVerdict(rt: PipelineContext, tx: Transaction, v: Verdict): void {
  tx.verdict = v
  afterBlockStored(rt, tx, () => answerVerdict(rt, tx, v))
}

function answerVerdict(rt: PipelineContext, tx: Transaction, v: Verdict): void {
  if (v.code !== null) {
    sendError(rt, tx, v.status, v.code, v.stage, v.reason, v.headers)
    return
  }
  const res = tx.res!
  const headers: ResponseHeaders = { 'x-request-id': tx.id, 'content-length': '0' }
  if (v.headers !== null) for (const [k, val] of v.headers) headers[k] = val
  // CORS already wrote its own headers on a preflight: only harden.
  const stages = tx.route.responseStages
  for (let i = 0; i < stages.length; i++) if (stages[i]!.id !== 'cors') stages[i]!.response!(tx, headers)
  if (rt.draining || bodyPending(tx)) headers['connection'] = 'close'
  res.writeHead(v.status, headers)
  res.end()
}

/**
 * An answer outside any pipeline (the HTTPS redirect listener): the JSON error for `code`, or no
 * body; with the request id, and the connection closed after it.
 */
export function sendBare(res: ServerResponse, status: number, code: DrawbridgeErrorCode | null, requestId: string, extra: ResponseHeaders | null): void {
  const body = code === null ? '' : errorBody(code, requestId)
  const headers: ResponseHeaders = { ...extra, 'x-request-id': requestId, 'content-length': String(Buffer.byteLength(body)), connection: 'close' }
  if (code !== null) {
    headers['content-type'] = 'application/json'
    headers['cache-control'] = 'no-store'
  }
  res.writeHead(status, headers)
  res.end(body)
}

// Raw answers on a socket where node:http has no response object (parse errors, upgrades).
const rawSecurityHeaders =
  "content-type: application/json\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\ncontent-security-policy: default-src 'none'; frame-ancestors 'none'\r\n"

/** How long a socket answered with rawError may stay open waiting for the client to close it. */
const rawCloseMs = 5000

function destroyOnError(this: Socket): void {
  this.destroy()
}

function destroyOnTimeout(this: Socket): void {
  this.destroy()
}

/**
 * Writes the answer and closes. The socket may have no 'error' listener of node:http's any more
 * (CONNECT and upgrade sockets are handed over without one): a client that resets the connection
 * while the answer is written must not throw out of the process. A client that never closes its
 * side is cut off after `rawCloseMs`.
 */
export function rawError(socket: Socket, status: number, code: DrawbridgeErrorCode, requestId: string): void {
  if (socket.listeners('error').indexOf(destroyOnError) === -1) socket.on('error', destroyOnError)
  if (socket.destroyed) return
  socket.setTimeout(rawCloseMs, destroyOnTimeout)
  const body = errorBody(code, requestId)
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${rawSecurityHeaders}x-request-id: ${requestId}\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  )
}

/** Seconds a client should wait before retrying a request refused for an unreachable store. */
const storeRetryAfter = [['retry-after', '5']] as const
/** ... and one refused because the upstream's queue is full. */
const overloadRetryAfter = [['retry-after', '1']] as const
const internal = verdict('fault', 500, 'DRAWBRIDGE_ERR_INTERNAL', 'stage threw')

/**
 * The one fault mapping, for every phase and entry point. A store that cannot answer now
 * (PostgreSQL down) is 503 with Retry-After: the request could not be judged, and is neither
 * allowed nor refused as if it had been. An upstream that failed is 502, 504 or 503 (its
 * queue), and a request it could not be sent as is 400. Anything else is a fault in Drawbridge,
 * not the client's doing: 500. All carry the request id and are logged.
 */
export function faultVerdict(rt: PipelineContext, tx: Transaction, err: unknown): Verdict {
  if (err instanceof StorageUnavailable) {
    // Counted and logged like every decision taken without a store (summarised under load).
    rt.storeErrors.decision(err.store, `request:${tx.route.name}`, 'deny', tx.id, err.cause ?? err)
    return verdict('storage', 503, 'DRAWBRIDGE_ERR_STORE_UNAVAILABLE', 'store unavailable', storeRetryAfter)
  }
  if (err instanceof UpstreamFailure) {
    return verdict('upstream', err.status, err.code, err.reason, err.status === 503 ? overloadRetryAfter : null)
  }
  rt.logger.error('stage fault', { request_id: tx.id, err: err instanceof Error ? err.stack : String(err) })
  return internal
}

/** A stage, the body phase, a terminal or Drawbridge's own endpoint threw: answered by the one mapping. */
export function fault(rt: PipelineContext, tx: Transaction, err: unknown): void {
  const v = faultVerdict(rt, tx, err)
  sendError(rt, tx, v.status, v.code!, v.stage, v.reason, v.headers)
}

/**
 * An answer of Drawbridge's own endpoints (the auth endpoints): their status, headers and body,
 * with the request id and the route's response stages like every other answer. `after`: headers
 * set once the stages ran (the endpoint's own cookies and caching); not cacheable unless it says.
 */
export function sendAnswer(
  rt: PipelineContext,
  tx: Transaction,
  status: number,
  headers: ResponseHeaders,
  body: string | Buffer | null,
  after: ResponseHeaders | null = null,
): void {
  const res = tx.res!
  if (res.headersSent) return
  if (body !== null) headers['content-length'] = String(Buffer.byteLength(body))
  applyResponseStages(tx, headers)
  headers['cache-control'] ??= 'no-store'
  if (after !== null) for (const k in after) headers[k] = after[k]
  if (rt.draining) headers['connection'] = 'close'
  res.writeHead(status, headers)
  res.end(tx.method === 'HEAD' || body === null ? undefined : body)
}

/**
 * Refuses a WebSocket upgrade on its raw socket (there is no response object): the verdict's
 * status (at least 400), JSON error, then a bounded close. What the client still sends is read
 * and dropped: node:http hands the socket over paused, and unread, a client that closes would
 * leave it open for good.
 */
export function refuseUpgrade(tx: Transaction, socket: Duplex, v: Verdict): void {
  const status = v.status >= 400 ? v.status : 400
  // Counted and logged by the logging phase, as for any request.
  tx.status = status
  tx.rejectedBy = v.stage
  tx.rejectReason = v.reason
  rawError(socket as Socket, status, v.code ?? 'DRAWBRIDGE_ERR_BAD_REQUEST', tx.id)
  socket.resume()
}

/** A fault while an upgrade was judged or connected: the one mapping, answered on the raw socket. */
export function upgradeFault(rt: PipelineContext, tx: Transaction, socket: Duplex, err: unknown): void {
  refuseUpgrade(tx, socket, faultVerdict(rt, tx, err))
}
