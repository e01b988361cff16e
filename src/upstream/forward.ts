/**
 * The terminal handler: sends the request to the upstream through the undici pool and streams
 * the answer back. Request bodies stream too, except chunked bodies of unknown length, which are
 * buffered up to the route's limit (like nginx's proxy_request_buffering) so that an over-limit
 * body never reaches the app and the app always receives a Content-Length.
 */
import { Writable } from 'node:stream'
import type { Dispatcher } from 'undici'
import type { DrawbridgeErrorCode } from '../errors.js'
import type { Transaction } from '../pipeline/transaction.js'
import type { ResponseHeaders, Verdict } from '../pipeline/types.js'
import type { Runtime } from '../listener/runtime.js'
import type { Config } from '../config/types.js'
import { applyResponseStages, sendError, sendVerdict } from '../listener/respond.js'
import { connectionListed, hopByHop } from './hop-by-hop.js'
import { upstreamResponseHeaders } from './response-headers.js'
import { looksLikeStackTrace } from './error-masking.js'
import { isConsumedCredential } from '../stages/auth/index.js'
import { withoutOwnCookies } from '../stages/auth/cookies.js'

const idempotent = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])
const retryAfter: readonly (readonly [string, string])[] = [['retry-after', '1']]

/**
 * Request headers never copied from the client: hop-by-hop ones, and those Drawbridge sets
 * itself. One set, looked up once per header.
 */
const notCopied: ReadonlySet<string> = new Set([
  ...hopByHop,
  'host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'x-real-ip', 'x-request-id', 'expect', 'content-length',
])

/** Stripped names a trusted proxy may still send, as it sends X-Forwarded-Host. */
const believedFromTrusted: ReadonlySet<string> = new Set([
  'x-forwarded-prefix', 'x-forwarded-path', 'x-forwarded-uri', 'x-forwarded-port', 'x-forwarded-server', 'x-forwarded-scheme', 'x-forwarded-ssl',
])

/**
 * Names browsers and HTTP clients send on nearly every request, known to be copied as they are:
 * found in the one map look-up, they skip the checks for `_` and `X-Drawbridge-`.
 */
const commonNames = [
  'accept', 'accept-encoding', 'accept-language', 'user-agent', 'referer', 'origin', 'cookie', 'authorization', 'content-type',
  'content-encoding', 'cache-control', 'pragma', 'if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range',
  'range', 'dnt', 'priority', 'sec-fetch-site', 'sec-fetch-mode', 'sec-fetch-dest', 'sec-fetch-user', 'sec-ch-ua', 'sec-ch-ua-mobile',
  'sec-ch-ua-platform', 'upgrade-insecure-requests', 'x-requested-with', 'x-csrf-token',
]

/** What happens to a request header, by lower-case name (`_` read as `-`). */
type Rule = 'copy' | 'drop' | 'drop-untrusted'

/** The request header policy, compiled once per configuration. */
export interface ForwardHeaders {
  /** Known names; any other is copied after the checks for `_` and `X-Drawbridge-`. */
  readonly rules: ReadonlyMap<string, Rule>
  /** Names containing `_` that may pass (`request_headers.allow_underscores`). */
  readonly allowUnderscores: ReadonlySet<string>
}

export function compileForwardHeaders(config: Config): ForwardHeaders {
  const rules = new Map<string, Rule>()
  for (const n of commonNames) rules.set(n, 'copy')
  for (const n of config.request_headers.strip) rules.set(n, believedFromTrusted.has(n) ? 'drop-untrusted' : 'drop')
  for (const n of notCopied) rules.set(n, 'drop')
  return { rules, allowUnderscores: new Set(config.request_headers.allow_underscores) }
}

/**
 * The upstream request's headers, built in one pass with no `delete` (a deleted property turns
 * the object into a slow dictionary that undici then walks).
 */
export function upstreamRequestHeaders(rt: Runtime, tx: Transaction, contentLength: string | null): Record<string, string | string[]> {
  const src = tx.req.headers
  const listed = connectionListed(src.connection)
  const auth = rt.config.auth
  const { rules, allowUnderscores } = rt.forwardHeaders
  const trusted = tx.trustedPeer
  const id = tx.identity
  const out: Record<string, string | string[]> = {}
  for (const name in src) {
    // Every check below runs on `key`: the name as a WSGI/CGI app will read it.
    let key = name
    let rule = rules.get(name)
    if (rule === undefined) {
      if (name.indexOf('_') !== -1) {
        // PEP 3333, CGI (RFC 3875 §4.1.18), Rack and PHP turn `-` into `_`, so X_Drawbridge_User
        // or X_Forwarded_For reach the app as the header Drawbridge manages, and gunicorn takes
        // a SCRIPT_NAME header as the mount point. Dropped as nginx does (underscores_in_headers off).
        if (!allowUnderscores.has(name)) {
          underscoreDropped(rt, tx, name)
          continue
        }
        key = name.replaceAll('_', '-')
        rule = rules.get(key)
        if (listed !== null && listed.has(name)) continue
      }
      // Identity headers come from Drawbridge only: a client's copies never pass.
      if (key.charCodeAt(0) === 120 /* x */ && key.startsWith('x-drawbridge-')) continue
    }
    if (rule === 'drop' || (rule === 'drop-untrusted' && !trusted) || (listed !== null && listed.has(key))) continue
    const v = src[name]
    if (v === undefined) continue
    if (auth !== null) {
      // Session cookies and credentials stay at the edge: the app gets X-Drawbridge-* instead.
      if (key === 'cookie' && typeof v === 'string') {
        const rest = withoutOwnCookies(v)
        if (rest !== '') out[name] = rest
        continue
      }
      if (id !== null && isConsumedCredential(key, v, id, auth.api_keys.header)) continue
    }
    out[name] = v
  }
  out['host'] = rt.config.upstream.host_header === 'preserve' ? tx.authority : rt.upstream.host
  const xff = src['x-forwarded-for']
  out['x-forwarded-for'] = trusted && typeof xff === 'string' && xff !== '' ? `${xff}, ${tx.peerIp}` : tx.peerIp
  out['x-forwarded-proto'] = tx.secure ? 'https' : 'http'
  const xfh = src['x-forwarded-host']
  out['x-forwarded-host'] = trusted && typeof xfh === 'string' ? xfh : tx.authority
  out['x-real-ip'] = tx.clientIp
  out['x-request-id'] = tx.id
  if (contentLength !== null) out['content-length'] = contentLength
  if (id !== null) {
    out['x-drawbridge-user'] = headerText(id.username)
    out['x-drawbridge-user-id'] = headerText(id.userId)
    out['x-drawbridge-roles'] = rolesText(id.roles)
    out['x-drawbridge-auth'] = id.via
    if (id.token !== null && auth?.forward_token === true) out['x-drawbridge-token'] = id.token
  }
  return out
}

function underscoreDropped(rt: Runtime, tx: Transaction, name: string): void {
  rt.metrics.inc('drawbridge_dropped_headers_total', 'reason="underscore"')
  rt.logger.debug('request header dropped', { request_id: tx.id, header: name, reason: 'underscore' })
}

// Printable ASCII but `%` (the escape itself) and `,` (the list separator of X-Drawbridge-Roles).
const needsEncoding = /[^\x21-\x24\x26-\x2b\x2d-\x7e]/
const needsEncodingAll = /[^\x21-\x24\x26-\x2b\x2d-\x7e]/gu

/**
 * An identity value as header text. Field values are bytes, and undici refuses characters
 * outside Latin-1 (RFC 9110 §5.5 leaves others undefined), so a username like `łukasz` would
 * make every request of its user fail. Other characters are percent-encoded as UTF-8 (RFC 3986
 * §2.1): `decodeURIComponent` or Python's `urllib.parse.unquote` gives the value back, and plain
 * ASCII names (every ASCII username) are sent unchanged.
 */
export function headerText(s: string): string {
  return needsEncoding.test(s) ? s.replace(needsEncodingAll, percentEncode) : s
}

function percentEncode(ch: string): string {
  // Buffer, not encodeURIComponent: a lone surrogate becomes U+FFFD instead of throwing.
  const bytes = Buffer.from(ch, 'utf8')
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += (bytes[i]! < 16 ? '%0' : '%') + bytes[i]!.toString(16).toUpperCase()
  return out
}

function rolesText(roles: readonly string[]): string {
  if (roles.length === 1) return headerText(roles[0]!)
  let out = ''
  for (let i = 0; i < roles.length; i++) out += (i === 0 ? '' : ',') + headerText(roles[i]!)
  return out
}

type Body = Buffer | NodeJS.ReadableStream | null

export function forward(rt: Runtime, tx: Transaction): void {
  const req = tx.req
  const route = tx.route
  const cl = req.headers['content-length']
  if (cl === undefined && req.headers['transfer-encoding'] === undefined) return void dispatch(rt, tx, null, null)
  // The WAF reads the whole body before any of it reaches the app (issue 3).
  const inspect = route.waf !== null && route.waf.wantsBody(req.headers['content-type'])
  // A binary type is streamed unless its first bytes may be JSON, which some apps parse anyway.
  const sniff = !inspect && route.waf !== null && route.waf.sniffsBody(req.headers['content-type'])
  if (cl !== undefined) {
    const n = Number(cl)
    if (n > route.maxBodyBytes) return sendError(rt, tx, 413, 'DRAWBRIDGE_ERR_BODY_TOO_LARGE', 'limits', 'body too large')
    if (n === 0) return void dispatch(rt, tx, null, '0')
    continueIfAsked(tx)
    armBodyTimer(rt, tx)
    if (inspect) return bufferBody(rt, tx, true)
    if (sniff) return sniffBody(rt, tx, () => void dispatch(rt, tx, req, cl))
    return void dispatch(rt, tx, req, cl)
  }
  const te = req.headers['transfer-encoding']!
  // Only plain chunked framing is understood (RFC 9112 §6.1): other codings would reach the app
  // as undeclared bytes, and a body not framed by chunked could only end with the connection.
  if (te.trim().toLowerCase() !== 'chunked') {
    return sendError(rt, tx, 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'limits', 'unsupported transfer-encoding')
  }
  continueIfAsked(tx)
  armBodyTimer(rt, tx)
  if (route.requestBuffering || inspect) return bufferBody(rt, tx, inspect || sniff)
  if (sniff) return sniffBody(rt, tx, () => void dispatch(rt, tx, limitStream(rt, tx), null))
  return void dispatch(rt, tx, limitStream(rt, tx), null)
}

/**
 * Reads the body's first chunk and puts it back: a body that may be JSON is buffered and
 * inspected, any other is streamed as it would have been.
 */
function sniffBody(rt: Runtime, tx: Transaction, stream: () => void): void {
  const req = tx.req
  req.once('data', (chunk: Buffer) => {
    req.pause()
    req.unshift(chunk)
    if (!tx.route.waf!.mayBeJson(chunk)) return stream()
    bufferBody(rt, tx, true)
    req.resume()
  })
}

/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1): the client waits before sending its body. We say
 * "continue" only once every check on the head has passed, so a refused upload is never sent.
 */
function continueIfAsked(tx: Transaction): void {
  const expect = tx.req.headers.expect
  if (expect !== undefined && expect.toLowerCase() === '100-continue') tx.res!.writeContinue()
}

/**
 * Slow clients (slowloris bodies). Node's own requestTimeout, checked per connection on a coarse
 * interval, enforces the longest body deadline of any route (the listener answers 408 through
 * its clientError handler). A route with a shorter deadline gets this extra check: one coarse
 * sweep for all its pending bodies instead of a timer and listeners per request (undici's
 * timers.js makes the same trade), every 250 ms.
 */
const sweepMs = 250
// Transactions still receiving a body. Entries leave as soon as the exchange is over (see
// dispatch), not at the next sweep: holding thousands of requests for 250 ms would push them
// into the old generation and make every GC expensive.
const pendingBodies = new Map<Transaction, Runtime>()
let sweeper: NodeJS.Timeout | null = null

function sweepBodies(): void {
  const now = performance.now()
  for (const [tx, rt] of pendingBodies) {
    const req = tx.req
    if (req.complete || req.destroyed) pendingBodies.delete(tx)
    else if (now >= tx.startedAt + tx.route.bodyTimeout) {
      pendingBodies.delete(tx)
      bodyTooSlow(rt, tx)
    }
  }
  if (pendingBodies.size === 0 && sweeper !== null) {
    clearInterval(sweeper)
    sweeper = null
  }
}

function armBodyTimer(rt: Runtime, tx: Transaction): void {
  if (!tx.route.bodyDeadlinePerRequest) return
  pendingBodies.set(tx, rt)
  if (sweeper === null) {
    sweeper = setInterval(sweepBodies, sweepMs)
    sweeper.unref()
  }
}

function bodyTooSlow(rt: Runtime, tx: Transaction): void {
  sendError(rt, tx, 408, 'DRAWBRIDGE_ERR_REQUEST_TIMEOUT', 'limits', 'body too slow')
  stopReadingWhenAnswered(tx)
}

/** Stops reading the body (and so aborts a streaming upstream request) once the error has been written. */
function stopReadingWhenAnswered(tx: Transaction): void {
  const req = tx.req
  const res = tx.res!
  if (res.writableFinished) req.destroy()
  else res.once('finish', () => req.destroy())
}

function bufferBody(rt: Runtime, tx: Transaction, inspect: boolean): void {
  const req = tx.req
  const max = tx.route.maxBodyBytes
  const chunks: Buffer[] = []
  let size = 0
  let over = false
  req.on('data', (chunk: Buffer) => {
    if (over) return
    size += chunk.length
    if (size > max) {
      over = true
      chunks.length = 0
      sendError(rt, tx, 413, 'DRAWBRIDGE_ERR_BODY_TOO_LARGE', 'limits', 'body too large')
      req.pause() // the 413 carries Connection: close; node closes the socket once it is written
      return
    }
    chunks.push(chunk)
  })
  req.once('end', () => {
    if (over || tx.res!.headersSent) return
    const body = Buffer.concat(chunks, size)
    if (!inspect) return void dispatch(rt, tx, body, String(size))
    const checked = (v: Verdict | undefined): void => {
      if (tx.res!.headersSent || tx.res!.destroyed) return
      if (v === undefined) void dispatch(rt, tx, body, String(size))
      else sendVerdict(rt, tx, v)
    }
    const fault = (err: unknown): void => {
      rt.logger.error('stage fault', { request_id: tx.id, err: err instanceof Error ? err.stack : String(err) })
      sendError(rt, tx, 500, 'DRAWBRIDGE_ERR_INTERNAL', 'fault', 'waf body check threw')
    }
    let v: Verdict | undefined | Promise<Verdict | undefined>
    try {
      v = tx.route.waf!.checkBody(tx, body)
    } catch (err) {
      return fault(err)
    }
    // multipart bodies are read by busboy, asynchronously; every other kind is judged here and now
    if (v instanceof Promise) v.then(checked, fault)
    else checked(v)
  })
  req.once('error', () => undefined)
}

/** Counts a streamed chunked body and stops it at the limit (request_buffering: false). */
function limitStream(rt: Runtime, tx: Transaction): NodeJS.ReadableStream {
  const req = tx.req
  const max = tx.route.maxBodyBytes
  let size = 0
  req.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size > max && !tx.res!.headersSent) {
      sendError(rt, tx, 413, 'DRAWBRIDGE_ERR_BODY_TOO_LARGE', 'limits', 'body too large')
      stopReadingWhenAnswered(tx)
    }
  })
  return req
}

async function dispatch(rt: Runtime, tx: Transaction, body: Body, contentLength: string | null): Promise<void> {
  const res = tx.res!
  const limiter = rt.upstream.limiter
  const slot = limiter.acquire()
  if (slot === false) return sendError(rt, tx, 503, 'DRAWBRIDGE_ERR_OVERLOADED', 'upstream', 'queue full', retryAfter)
  if (slot !== true) {
    const ok = await slot
    if (!ok) return sendError(rt, tx, 503, 'DRAWBRIDGE_ERR_OVERLOADED', 'upstream', 'queue timeout', retryAfter)
    if (res.destroyed || res.headersSent) return limiter.release()
  }
  try {
    const headers = upstreamRequestHeaders(rt, tx, contentLength)
    const retryable = body === null && idempotent.has(tx.method)
    try {
      await send(rt, tx, headers, body)
    } catch (err) {
      if (!retryable || res.headersSent || res.destroyed || !isStaleConnection(err)) throw err
      rt.metrics.inc('drawbridge_upstream_errors_total', 'kind="retried"')
      await send(rt, tx, headers, body)
    }
  } catch (err) {
    upstreamFailed(rt, tx, err)
  } finally {
    limiter.release()
    // A body still arriving after the answer (a trickling client) stays under the deadline.
    if (tx.req.complete) pendingBodies.delete(tx)
  }
}

/** A reused keep-alive connection closed by the upstream before any response byte. */
function isStaleConnection(err: unknown): boolean {
  const code = (err as { code?: string }).code
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE'
}

function send(rt: Runtime, tx: Transaction, headers: Record<string, string | string[]>, body: Body): Promise<unknown> {
  const res = tx.res!
  const started = performance.now()
  const masking = rt.config.error_masking.enabled
  const opts: Dispatcher.RequestOptions = {
    path: tx.query === '' ? tx.path : tx.path + '?' + tx.query,
    // As sent: a method override was judged by the method it names, the app applies it itself.
    method: tx.req.method as Dispatcher.HttpMethod,
    headers,
    body: body as Dispatcher.RequestOptions['body'],
    // undici accepts any emitter with an 'abort' event as a signal; the request entry emits it
    // on `res` when the client goes away early (cheaper than an AbortController per request).
    signal: res,
    headersTimeout: tx.route.responseTimeout,
    bodyTimeout: tx.route.responseTimeout,
  }
  return rt.upstream.pool
    .stream(opts, ({ statusCode, headers: upHeaders }) => {
      tx.upstreamMs = performance.now() - started
      const bodiless = statusCode === 304 || statusCode === 204
      const out = upstreamResponseHeaders(tx.route.upstreamHeaders, upHeaders, bodiless)
      if (masking && statusCode >= 500) return new MaskingCollector(rt, tx, statusCode, out)
      applyResponseStages(tx, out)
      if (rt.draining) out['connection'] = 'close'
      res.writeHead(statusCode, out)
      if (!bodiless) return res
      // 204 and 304 never have content (RFC 9110 §6.4.1): the answer is complete now. undici
      // then checks a 304's Content-Length (allowed, RFC 9110 §8.6) against the 0 bytes that
      // follow and fails the exchange; by then the client has its answer (see upstreamFailed).
      res.end()
      return new Writable({ write: discard })
    })
}

function discard(_chunk: unknown, _enc: BufferEncoding, cb: () => void): void {
  cb()
}

function upstreamFailed(rt: Runtime, tx: Transaction, err: unknown): void {
  const res = tx.res!
  const code = (err as { code?: string }).code ?? 'unknown'
  // Already answered (413/408 while streaming, or a whole 204/304), or the client went away or was cut off.
  if (tx.rejectedBy !== null || res.destroyed || res.writableEnded || (tx.req.destroyed && !tx.req.complete)) return
  if (res.headersSent) {
    rt.metrics.inc('drawbridge_upstream_errors_total', 'kind="aborted_mid_response"')
    res.destroy()
    return
  }
  let status = 502
  let ecode: DrawbridgeErrorCode = 'DRAWBRIDGE_ERR_UPSTREAM_UNAVAILABLE'
  let kind = 'unavailable'
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    status = 504
    ecode = 'DRAWBRIDGE_ERR_UPSTREAM_TIMEOUT'
    kind = code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect_timeout' : 'response_timeout'
  } else if (code === 'UND_ERR_INVALID_ARG' || code === 'ERR_INVALID_CHAR' || code === 'ERR_INVALID_ARG_VALUE') {
    // undici refused what the client sent (odd bytes in the path or a header): the client's fault
    return sendError(rt, tx, 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'upstream', 'unforwardable request')
  }
  rt.metrics.inc('drawbridge_upstream_errors_total', `kind="${kind}"`)
  rt.logger.warn('upstream error', { request_id: tx.id, kind, code })
  sendError(rt, tx, status, ecode, 'upstream', kind)
}

/**
 * Holds an upstream 5xx body (bounded) to decide, at its end, whether it is a stack trace or a
 * debug page. If so, the client gets the generic error and the original goes to the log,
 * truncated and redacted; otherwise the original is sent unchanged.
 */
class MaskingCollector extends Writable {
  readonly #rt: Runtime
  readonly #tx: Transaction
  readonly #status: number
  readonly #headers: ResponseHeaders
  readonly #chunks: Buffer[] = []
  #size = 0
  #overflow = false

  constructor(rt: Runtime, tx: Transaction, status: number, headers: ResponseHeaders) {
    super()
    this.#rt = rt
    this.#tx = tx
    this.#status = status
    this.#headers = headers
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const max = this.#rt.config.error_masking.max_inspect_bytes
    if (this.#size + chunk.length > max) this.#overflow = true
    else this.#chunks.push(chunk)
    this.#size += chunk.length
    cb()
  }

  override _final(cb: (e?: Error | null) => void): void {
    const rt = this.#rt
    const tx = this.#tx
    const res = tx.res!
    const body = Buffer.concat(this.#chunks)
    const text = body.toString('utf8')
    // Too large to inspect: fail closed and mask it.
    if (this.#overflow || looksLikeStackTrace(text)) {
      rt.metrics.inc('drawbridge_masked_errors_total', `status="${this.#status}"`)
      rt.logger.error('upstream error page masked', {
        request_id: tx.id,
        status: this.#status,
        body: rt.redact.text(text.slice(0, rt.config.error_masking.max_logged_bytes)),
      })
      sendError(rt, tx, this.#status, 'DRAWBRIDGE_ERR_UPSTREAM_ERROR', 'error_masking', 'stack trace')
      return cb()
    }
    const out = this.#headers
    if (tx.method !== 'HEAD') out['content-length'] = String(body.length)
    applyResponseStages(tx, out)
    if (!res.destroyed) {
      res.writeHead(this.#status, out)
      res.end(tx.method === 'HEAD' ? undefined : body)
    }
    cb()
  }
}
