/**
 * The terminal for forwarded routes: sends the request to the upstream through the undici pool
 * and streams the answer back. A failure is returned (a rejected promise with an
 * UpstreamFailure), never answered here: the pipeline's one fault mapping answers it.
 */
import { Writable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { UpstreamFailure } from '../errors.js'
import type { Transaction } from '../pipeline/transaction.js'
import type { PipelineContext, RequestBody, ResponseHeaders, Terminal } from '../pipeline/types.js'
import { applyResponseStages, sendError } from '../pipeline/respond.js'
import type { Upstream } from './pool.js'
import { upstreamRequestHeaders, type ForwardHeaders } from './request-headers.js'
import { upstreamResponseHeaders } from './response-headers.js'
import { looksLikeStackTrace } from './error-masking.js'

const idempotent = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])

/** The upstream and how requests reach it, compiled once per configuration. */
export interface UpstreamTarget {
  readonly upstream: Upstream
  readonly forwardHeaders: ForwardHeaders
}

export function createForwarder(target: UpstreamTarget): Terminal {
  return function forward(ctx: PipelineContext, tx: Transaction, body: RequestBody, contentLength: string | null): Promise<void> {
    return dispatch(ctx, target, tx, body, contentLength)
  }
}

async function dispatch(rt: PipelineContext, target: UpstreamTarget, tx: Transaction, body: RequestBody, contentLength: string | null): Promise<void> {
  const res = tx.res!
  const upstream = target.upstream
  const limiter = upstream.limiter
  const slot = limiter.acquire()
  if (slot === false) throw new UpstreamFailure('overloaded', 'queue full')
  if (slot !== true) {
    const ok = await slot
    if (!ok) throw new UpstreamFailure('overloaded', 'queue timeout')
    if (res.destroyed || res.headersSent) return limiter.release()
  }
  try {
    const headers = upstreamRequestHeaders(rt, target.forwardHeaders, tx, contentLength)
    const retryable = body === null && idempotent.has(tx.method)
    try {
      await send(rt, upstream, tx, headers, body)
    } catch (err) {
      if (!retryable || res.headersSent || res.destroyed || !isStaleConnection(err)) throw err
      rt.metrics.inc('drawbridge_upstream_errors_total', 'kind="retried"')
      await send(rt, upstream, tx, headers, body)
    }
  } catch (err) {
    const failure = upstreamFailure(rt, tx, err)
    if (failure !== null) throw failure
  } finally {
    limiter.release()
  }
}

/** A reused keep-alive connection closed by the upstream before any response byte. */
function isStaleConnection(err: unknown): boolean {
  const code = (err as { code?: string }).code
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE'
}

function send(rt: PipelineContext, upstream: Upstream, tx: Transaction, headers: Record<string, string | string[]>, body: RequestBody): Promise<unknown> {
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
  return upstream.pool.stream(opts, ({ statusCode, headers: upHeaders }) => {
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

/** What an undici error means for the client: a failure to answer with, or null when nothing is left to answer. */
function upstreamFailure(rt: PipelineContext, tx: Transaction, err: unknown): UpstreamFailure | null {
  const res = tx.res!
  const code = (err as { code?: string }).code ?? 'unknown'
  // Already answered (413/408 while streaming, or a whole 204/304), or the client went away or was cut off.
  if (tx.rejectedBy !== null || res.destroyed || res.writableEnded || (tx.req.destroyed && !tx.req.complete)) return null
  if (res.headersSent) {
    rt.metrics.inc('drawbridge_upstream_errors_total', 'kind="aborted_mid_response"')
    res.destroy()
    return null
  }
  if (code === 'UND_ERR_INVALID_ARG' || code === 'ERR_INVALID_CHAR' || code === 'ERR_INVALID_ARG_VALUE') {
    // undici refused what the client sent (odd bytes in the path or a header): the client's fault
    return new UpstreamFailure('unforwardable', 'unforwardable request', { cause: err })
  }
  const timeout = code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
  const kind = !timeout ? 'unavailable' : code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect_timeout' : 'response_timeout'
  rt.metrics.inc('drawbridge_upstream_errors_total', `kind="${kind}"`)
  rt.logger.warn('upstream error', { request_id: tx.id, kind, code })
  return new UpstreamFailure(timeout ? 'timeout' : 'unavailable', kind, { cause: err })
}

/**
 * Holds an upstream 5xx body (bounded) to decide, at its end, whether it is a stack trace or a
 * debug page. If so, the client gets the generic error and the original goes to the log,
 * truncated and redacted; otherwise the original is sent unchanged.
 */
class MaskingCollector extends Writable {
  readonly #rt: PipelineContext
  readonly #tx: Transaction
  readonly #status: number
  readonly #headers: ResponseHeaders
  readonly #chunks: Buffer[] = []
  #size = 0
  #overflow = false

  constructor(rt: PipelineContext, tx: Transaction, status: number, headers: ResponseHeaders) {
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
