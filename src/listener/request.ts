/**
 * The request entry point: builds the Transaction, derives the client and the target, runs the
 * request stages compiled for the route, then hands over to the upstream.
 * Client input never throws out of here: every problem is a 4xx verdict.
 */
import { isIP } from 'node:net'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Transaction } from '../pipeline/transaction.js'
import { verdict, type Verdict } from '../pipeline/types.js'
import { canonicalPath } from '../pipeline/canonical-path.js'
import { normalizeIp } from '../net/address.js'
import type { Runtime } from './runtime.js'
import { fault, sendError, sendVerdict } from './respond.js'
import { forward } from '../upstream/forward.js'
import { connectionListsEndToEnd } from '../upstream/hop-by-hop.js'
import { logTransaction } from './log.js'
import { newRequestId } from './request-id.js'

const urlTooLong = verdict('limits', 414, 'DRAWBRIDGE_ERR_URL_TOO_LONG', 'url too long')
const badTarget = verdict('limits', 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'bad request target')
const badPath = verdict('limits', 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'bad path')
// A raw '#' is not allowed in a request target (RFC 9112 §3.2); parsers that strip it as a
// fragment would route `/docs#x` to /docs behind our back.
const fragment = verdict('limits', 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'fragment in target')
// A Connection header naming Content-Type, Cookie, X-Forwarded-For ... (see hop-by-hop.ts).
const endToEndInConnection = verdict('limits', 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'end-to-end header in connection')

/** X-Request-ID values accepted from trusted proxies: short, and safe to log and echo. */
function validRequestId(v: string | string[] | undefined): v is string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 128) return false
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i)
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95 || c === 46 || c === 58
    if (!ok) return false
  }
  return true
}

/** Builds the transaction for a request or an upgrade; returns a verdict when the head is unacceptable. */
export function prepare(rt: Runtime, req: IncomingMessage, res: ServerResponse | null, secure: boolean): [Transaction, Verdict | null] {
  const peerIp = normalizeIp(req.socket.remoteAddress ?? '')
  const trusted = rt.trustedProxies.matches(peerIp)
  const rid = req.headers['x-request-id']
  const id = trusted && validRequestId(rid) ? rid : newRequestId()
  const tx = new Transaction(id, req, res, peerIp, trusted, secure, rt.pipeline.defaultRoute)
  if (trusted) believeForwarded(rt, tx)
  return [tx, parseTarget(rt, tx) ?? (connectionListsEndToEnd(req.headers.connection, rt.config.auth?.api_keys.header ?? null) ? endToEndInConnection : null)]
}

/** From a trusted proxy only: the client is the right-most X-Forwarded-For entry that is not a trusted proxy. */
function believeForwarded(rt: Runtime, tx: Transaction): void {
  const xff = tx.req.headers['x-forwarded-for']
  if (typeof xff === 'string') {
    const hops = xff.split(',')
    for (let i = hops.length - 1; i >= 0; i--) {
      const ip = normalizeIp(hops[i]!.trim())
      if (isIP(ip) === 0) break
      tx.clientIp = ip
      if (!rt.trustedProxies.matches(ip)) break
    }
  }
  const proto = tx.req.headers['x-forwarded-proto']
  if (typeof proto === 'string') tx.secure = proto.split(',')[0]!.trim().toLowerCase() === 'https'
}

function parseTarget(rt: Runtime, tx: Transaction): Verdict | null {
  const url = tx.req.url ?? ''
  if (url.length > rt.config.limits.max_url_length) return urlTooLong
  if (url.indexOf('#') !== -1) return fragment
  let target = url
  if (url.charCodeAt(0) === 47 /* / */) {
    tx.authority = tx.req.headers.host ?? ''
  } else {
    // absolute-form (RFC 9112 §3.2.2): the authority in the target replaces Host
    const m = /^https?:\/\/([^/?#@]*)(.*)$/i.exec(url)
    if (m === null) return badTarget
    tx.authority = m[1]!
    target = m[2] === '' ? '/' : m[2]!
    if (target.charCodeAt(0) !== 47) target = target.charCodeAt(0) === 63 ? '/' + target : ''
    if (target === '') return badTarget
  }
  const q = target.indexOf('?')
  tx.path = q === -1 ? target : target.slice(0, q)
  tx.query = q === -1 ? '' : target.slice(q + 1)
  const canonical = canonicalPath(tx.path)
  if (canonical === null) return badPath
  tx.canonicalPath = canonical
  tx.route = rt.pipeline.match(canonical, tx.method, tx.path)
  const h = tx.req.headers
  if (h['x-http-method-override'] !== undefined || h['x-http-method'] !== undefined || h['x-method-override'] !== undefined) return methodOverride(rt, tx)
  return null
}

const overrideHeaders = ['x-http-method-override', 'x-http-method', 'x-method-override'] as const
const badOverride = verdict('limits', 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'bad method override')
const methodToken = /^[A-Z][A-Z0-9_-]{0,31}$/
const safeOrTunnel = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT'])

/**
 * Apps that honour a method-override header run the method it names, so a decision taken on the
 * wire method would not hold (POST + `X-HTTP-Method-Override: DELETE` ran a DELETE view under a
 * POST policy). Unless the configuration says the app honours them, the headers are removed so
 * the app cannot act on them; if it does, frameworks honour them on POST only, and a POST is
 * judged by the method named (every stage reads tx.method) while the request goes upstream as
 * sent. Drawbridge's own endpoints never honour them.
 */
function methodOverride(rt: Runtime, tx: Transaction): Verdict | null {
  const h = tx.req.headers
  if (!rt.config.limits.method_override || tx.method !== 'POST' || tx.route.local !== null) {
    for (const name of overrideHeaders) delete h[name]
    return null
  }
  let named: string | null = null
  for (const name of overrideHeaders) {
    const v = h[name]
    if (v === undefined) continue
    // Repeated headers arrive joined with ', ' and fail the token check.
    const m = String(v).trim().toUpperCase()
    if (!methodToken.test(m) || (named !== null && named !== m)) return badOverride
    named = m
  }
  // Only an unsafe method: frameworks differ on whether a POST may become GET, HEAD or OPTIONS
  // (some ignore it), and a POST judged as safe would skip CSRF and GET-only policies.
  if (named === null || safeOrTunnel.has(named)) return badOverride
  tx.method = named
  tx.route = rt.pipeline.match(tx.canonicalPath, named, tx.path)
  return null
}

export function runRequestStages(tx: Transaction): Verdict | undefined | Promise<Verdict | undefined> {
  const stages = tx.route.requestStages
  for (let i = 0; i < stages.length; i++) {
    const r = stages[i]!.requestHeaders!(tx)
    if (r !== undefined) {
      if (typeof (r as Promise<unknown>).then === 'function') return continueAsync(tx, r as Promise<Verdict | undefined>, i + 1)
      return r
    }
  }
  return undefined
}

async function continueAsync(tx: Transaction, pending: Promise<Verdict | undefined>, next: number): Promise<Verdict | undefined> {
  const first = await pending
  if (first !== undefined) return first
  const stages = tx.route.requestStages
  for (let i = next; i < stages.length; i++) {
    const r = await stages[i]!.requestHeaders!(tx)
    if (r !== undefined) return r
  }
  return undefined
}

/** An Expect other than 100-continue (RFC 9110 §10.1.1): 417, as JSON and logged like any answer. */
export function handleBadExpectation(rt: Runtime, req: IncomingMessage, res: ServerResponse, secure: boolean): void {
  const [tx] = prepare(rt, req, res, secure)
  logWhenDone(rt, tx)
  sendError(rt, tx, 417, 'DRAWBRIDGE_ERR_EXPECTATION_FAILED', 'limits', 'unsupported expect')
}

/**
 * The end of an exchange: log it once and, when the client left before the answer was complete,
 * cancel the upstream request (undici listens for 'abort' on `res`, see send()). The response's
 * 'close' is not enough: of requests pipelined on one connection (RFC 9112 §9.3.2) only the one
 * being answered owns the socket, and the responses queued behind it never emit 'close' when
 * the client resets; node destroys their requests instead, so 'close' on the request ends those.
 * One handler for both events ('on', not 'once': no wrapper per request; each fires at most once);
 * the request's only for a queued response.
 */
function logWhenDone(rt: Runtime, tx: Transaction): void {
  const res = tx.res!
  const done = (): void => {
    if (tx.logged) return
    if (!res.writableFinished) {
      // The request's 'close' also comes while its answer is still being written to a live
      // connection (a request body read to the end early): the response's own 'close' follows.
      if (!res.destroyed && !tx.socket.destroyed) return
      res.emit('abort')
      // Marks a queued response dead, so nothing is answered into it (upstreamFailed checks it).
      res.destroy()
    }
    logTransaction(rt, tx)
  }
  res.on('close', done)
  // Only a queued response has no socket yet (node:http assigns it when its turn comes).
  if (res.socket === null) tx.req.on('close', done)
}

export function handleRequest(rt: Runtime, req: IncomingMessage, res: ServerResponse, secure: boolean): void {
  let tx: Transaction
  let early: Verdict | null
  try {
    ;[tx, early] = prepare(rt, req, res, secure)
  } catch (err) {
    rt.logger.error('request setup failed', { err: String(err) })
    res.destroy()
    return
  }
  logWhenDone(rt, tx)
  res.on('error', ignoreResponseError)
  if (early !== null) return sendVerdict(rt, tx, early)
  let result: ReturnType<typeof runRequestStages>
  try {
    result = runRequestStages(tx)
  } catch (err) {
    return fault(rt, tx, err)
  }
  if (result === undefined) return proceed(rt, tx)
  if (typeof (result as Promise<unknown>).then !== 'function') return sendVerdict(rt, tx, result as Verdict)
  ;(result as Promise<Verdict | undefined>).then(
    (v) => (v === undefined ? proceed(rt, tx) : sendVerdict(rt, tx, v)),
    (err) => fault(rt, tx, err),
  )
}

/**
 * A ServerResponse emits 'error' for a write after its end (node:http's OutgoingMessage), with
 * no listener of node's own: that must not end the process. The connection's own failures are
 * node:http's to handle, and 'close' above logs the transaction either way. (IncomingMessage
 * emits 'error' only where a listener exists.)
 */
function ignoreResponseError(): void {}

/** Past the stages: the upstream, or Drawbridge's own endpoint for this route. */
function proceed(rt: Runtime, tx: Transaction): void {
  // The client left while an asynchronous stage ran (a store look-up): its 'abort' came before
  // undici could listen for it, so nothing would cancel a request sent now.
  if (tx.res!.destroyed) return
  const local = tx.route.local
  if (local === null) forward(rt, tx)
  else local(rt, tx)
}
