/**
 * CONNECT would turn the gateway into an open tunnel: always refused, logged and counted like
 * the parser's refusals (every request has its access line). node:http hands the socket over
 * without an 'error' listener of its own: rawError adds one (a client resetting while the 405
 * is written must not crash the process). What the client sends after the head is read and
 * dropped, so the close is a FIN, not a reset.
 */
import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import type { PipelineContext } from '../pipeline/types.js'
import { rawError } from '../pipeline/respond.js'

export function refuseConnect(rt: PipelineContext, socket: Socket): void {
  const id = randomUUID()
  rt.metrics.inc('drawbridge_rejections_total', 'stage="route_policy",reason="connect"')
  rt.metrics.inc('drawbridge_requests_total', 'status="405",route="none"')
  rt.logger.info('access', {
    request_id: id,
    client_ip: socket.remoteAddress ?? null,
    method: 'CONNECT',
    status: 405,
    rejected_by: 'route_policy',
    reason: 'connect',
  })
  rawError(socket, 405, 'DRAWBRIDGE_ERR_METHOD_NOT_ALLOWED', id)
  socket.resume()
}
