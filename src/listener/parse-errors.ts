/**
 * Requests node:http could not parse (a bad head, too large a head, too slow a client): answered
 * as JSON with a request id like every other refusal, logged and counted, never a bare reset.
 */
import { randomUUID } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { DrawbridgeErrorCode } from '../errors.js'
import type { PipelineContext } from '../pipeline/types.js'
import { rawError } from '../pipeline/respond.js'
import { label } from '../observability/metrics.js'

/** Requests node:http could not parse: answered as JSON too, never a bare socket reset. */
export function clientError(rt: PipelineContext, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  // A bad request pipelined behind a good one: answers go in order (RFC 9112 §9.3.2), so the
  // error waits until the response in flight on this connection is complete.
  const inFlight = (socket as unknown as { _httpMessage?: ServerResponse | null })._httpMessage
  if (inFlight != null && !inFlight.writableFinished && !inFlight.req.complete) {
    // The error is in the body of the request in flight (a malformed chunk): answer it now if
    // nothing was sent yet; closing the socket also aborts its upstream request.
    if (inFlight.headersSent) socket.destroy()
    else respondRaw(rt, err, socket)
    return
  }
  if (inFlight != null && !inFlight.writableFinished) {
    inFlight.once('finish', () => (socket.writable ? clientError(rt, err, socket) : socket.destroy()))
    inFlight.once('close', () => {
      if (!inFlight.writableFinished) socket.destroy()
    })
    return
  }
  respondRaw(rt, err, socket)
}

function respondRaw(rt: PipelineContext, err: NodeJS.ErrnoException, socket: Socket): void {
  let status = 400
  let code: DrawbridgeErrorCode = 'DRAWBRIDGE_ERR_BAD_REQUEST'
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431
    code = 'DRAWBRIDGE_ERR_HEADERS_TOO_LARGE'
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT') {
    status = 408
    code = 'DRAWBRIDGE_ERR_REQUEST_TIMEOUT'
  }
  const id = randomUUID()
  rt.metrics.inc('drawbridge_rejections_total', `stage="parser",reason="${label(err.code ?? 'unknown')}"`)
  rt.metrics.inc('drawbridge_requests_total', `status="${status}",route="none"`)
  rt.logger.info('access', { request_id: id, client_ip: socket.remoteAddress ?? null, status, rejected_by: 'parser', reason: err.code ?? null })
  rawError(socket, status, code, id)
}
