/**
 * The logging phase: runs once for every request, blocked or not (the route's logging steps,
 * security events, metrics and the access log line).
 */
import type { Transaction } from './transaction.js'
import type { PipelineContext } from './types.js'
import { label } from '../observability/metrics.js'

export function logTransaction(rt: PipelineContext, tx: Transaction): void {
  if (tx.logged) return
  tx.logged = true
  try {
    const stages = tx.route.loggingStages
    for (let i = 0; i < stages.length; i++) stages[i]!.logging!(tx)
    record(rt, tx)
  } catch (err) {
    // The logging phase must never take the process down.
    rt.logger.error('logging phase failed', { request_id: tx.id, err: String(err) })
  }
}

function record(rt: PipelineContext, tx: Transaction): void {
  const res = tx.res
  // 0: the client went away before an answer. A response queued behind another on a connection
  // the client reset never owned the socket (res.socket stays null): none of it was sent.
  // Upgrades have no response object: their status was set when they were answered.
  const status = res === null ? tx.status : res.headersSent && (res.writableFinished || res.socket !== null) ? res.statusCode : 0
  tx.status = status
  const seconds = (performance.now() - tx.startedAt) / 1000
  const route = tx.route.metricLabel
  const labels = tx.route.statusLabels
  rt.metrics.inc('drawbridge_requests_total', labels[status] ?? (labels[status] = `status="${status}",${route}`))
  rt.metrics.observe('drawbridge_request_duration_seconds', route, seconds)
  if (tx.upstreamMs >= 0) rt.metrics.observe('drawbridge_upstream_duration_seconds', route, tx.upstreamMs / 1000)
  if (tx.rejectedBy !== null) {
    rt.metrics.inc('drawbridge_rejections_total', `stage="${label(tx.rejectedBy)}",reason="${label(tx.rejectReason ?? '')}"`)
  }
  if (tx.wafFindings !== null && !tx.eventsRecorded) recordWafEvents(rt, tx)
  if (!rt.config.logging.access_log || !rt.logger.enabled('info')) return
  // Built by hand on the hot path. Values that can hold client bytes (path, user agent) go
  // through jsonString; the others are validated tokens (uuid or plain id, IP, method,
  // host name, route name, internal reason strings) and need no escaping.
  const ua = tx.req.headers['user-agent']
  let uaJson = 'null'
  if (ua !== undefined) {
    // Clients repeat their User-Agent: one remembered encoding saves the escaping.
    if (ua !== lastUa) {
      lastUa = ua
      lastUaJson = jsonString(ua)
    }
    uaJson = lastUaJson
  }
  rt.logger.raw(
    'info',
    'access',
    `"request_id":"${tx.id}","client_ip":"${tx.clientIp}","method":"${tx.method}",` +
      `"path":${jsonString(rt.redact.pathWithQuery(tx.path, tx.query))},"host":"${tx.host}","status":${status},` +
      `"bytes_sent":${tx.socket.bytesWritten - tx.socketBytesAtStart},"duration_ms":${hundredths(seconds * 1000)},` +
      `"upstream_ms":${tx.upstreamMs < 0 ? 'null' : hundredths(tx.upstreamMs)},` +
      `"user_agent":${uaJson},"route":"${tx.route.name}",` +
      `"rejected_by":${tx.rejectedBy === null ? 'null' : `"${tx.rejectedBy}"`},"reason":${tx.rejectReason === null ? 'null' : `"${tx.rejectReason}"`}`,
  )
}

/**
 * A duration in ms to two decimals, as a JSON number ("0.23", "3.00"), from integers: printing
 * the rounded double (its shortest decimal form) cost three times as much.
 */
export function hundredths(ms: number): string {
  const h = Math.round(ms * 100)
  if (!(h >= 0 && h < 1e9)) return String(h / 100)
  const whole = Math.floor(h / 100)
  const frac = h - whole * 100
  return whole + (frac < 10 ? '.0' : '.') + frac
}

let lastUa = ''
let lastUaJson = '""'

/** A JSON string literal: printable ASCII without quote or backslash needs no escaping (most paths and user agents). */
function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(s)
  }
  return '"' + s + '"'
}

/** The WAF's findings as security events (once per request); a ban offence when it blocked. */
export function recordWafEvents(rt: PipelineContext, tx: Transaction): void {
  tx.eventsRecorded = true
  rt.events.record(
    {
      requestId: tx.id,
      clientIp: tx.clientIp,
      method: tx.method,
      path: rt.redact.pathWithQuery(tx.path, tx.query).slice(0, 2048),
      route: tx.route.name,
      score: tx.wafScore,
      action: tx.wafBlocked ? 'blocked' : 'logged',
      findings: tx.wafFindings!,
    },
    rt.redact,
  )
  if (tx.wafBlocked && rt.bans !== null) rt.bans.offence(tx.clientIp, 'waf', tx.id)
}
