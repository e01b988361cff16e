/**
 * Answers Drawbridge gives itself: verdicts and errors. Every error is JSON
 * `{ "error", "code", "request_id" }` and goes through the same response stages as upstream
 * responses (security headers, CORS), so a browser app can read it and nothing leaks.
 */
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { errorLabels, StorageUnavailable, type DrawbridgeErrorCode } from '../errors.js'
import type { Transaction } from '../pipeline/transaction.js'
import type { ResponseHeaders, Verdict } from '../pipeline/types.js'
import type { Runtime } from './runtime.js'
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
  for (let i = 0; i < stages.length; i++) stages[i]!.responseHeaders!(tx, headers)
}

export function sendError(
  rt: Runtime,
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
export function afterBlockStored(rt: Runtime, tx: Transaction, answer: () => void): void {
  if (!tx.wafBlocked || tx.wafFindings === null || tx.eventsRecorded) return answer()
  recordWafEvents(rt, tx)
  void rt.events.stored(eventWaitMs).then(() => {
    // Not for a client that went away meanwhile.
    if (!tx.req.socket.destroyed) answer()
  })
}

export function sendVerdict(rt: Runtime, tx: Transaction, v: Verdict): void {
  tx.verdict = v
  afterBlockStored(rt, tx, () => answerVerdict(rt, tx, v))
}

function answerVerdict(rt: Runtime, tx: Transaction, v: Verdict): void {
  if (v.code !== null) {
    sendError(rt, tx, v.status, v.code, v.stage, v.reason, v.headers)
    return
  }
  const res = tx.res!
  const headers: ResponseHeaders = { 'x-request-id': tx.id, 'content-length': '0' }
  if (v.headers !== null) for (const [k, val] of v.headers) headers[k] = val
  // CORS already wrote its own headers on a preflight: only harden.
  const stages = tx.route.responseStages
  for (let i = 0; i < stages.length; i++) if (stages[i]!.id !== 'cors') stages[i]!.responseHeaders!(tx, headers)
  if (rt.draining || bodyPending(tx)) headers['connection'] = 'close'
  res.writeHead(v.status, headers)
  res.end()
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

/**
 * A stage or Drawbridge's own endpoint threw. A store that cannot answer now (PostgreSQL down) is
 * 503 with Retry-After: the request could not be judged, and is neither allowed nor refused as
 * if it had been (issue 5). Anything else is a fault in Drawbridge, not the client's doing: 500.
 * Both carry the request id and are logged.
 */
export function fault(rt: Runtime, tx: Transaction, err: unknown): void {
  if (err instanceof StorageUnavailable) {
    // Counted and logged like every decision taken without a store (summarised under load).
    rt.storeErrors.decision(err.store, `request:${tx.route.name}`, 'deny', tx.id, err.cause ?? err)
    sendError(rt, tx, 503, 'DRAWBRIDGE_ERR_STORE_UNAVAILABLE', 'storage', 'store unavailable', storeRetryAfter)
    return
  }
  rt.logger.error('stage fault', { request_id: tx.id, err: err instanceof Error ? err.stack : String(err) })
  sendError(rt, tx, 500, 'DRAWBRIDGE_ERR_INTERNAL', 'fault', 'stage threw')
}
