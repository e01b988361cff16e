/**
 * The runner: a request's head phase (connection and request-header steps), then its body
 * phase (limits, the body read once where a stage or the terminal needs it, the requestBody
 * steps), then the route's terminal. Every refusal and fault is answered through respond.ts.
 *
 * Request bodies stream to the terminal unless something needs them whole: a stage that judges
 * them, a terminal that reads them, or a chunked body of unknown length on a route with request
 * buffering (like nginx's proxy_request_buffering), so that an over-limit body never reaches
 * the app and the app always receives a Content-Length.
 */
import type { Transaction } from './transaction.js'
import type { PipelineContext, RequestBody, Stage, Verdict } from './types.js'
import { verdict } from './types.js'
import { fault, sendError, sendVerdict } from './respond.js'

/**
 * Runs the head phase: the connection steps, then the request-header steps; a promise only once
 * a step answered with one (a store look-up).
 */
export function runHead(tx: Transaction): Verdict | undefined | Promise<Verdict | undefined> {
  const conn = tx.route.connectionStages
  for (let i = 0; i < conn.length; i++) {
    const r = conn[i]!.connection!(tx)
    if (r !== undefined) {
      if (typeof (r as Promise<unknown>).then === 'function') return continueAsync(tx, r as Promise<Verdict | undefined>, i + 1, 0)
      return r
    }
  }
  const stages = tx.route.headerStages
  for (let i = 0; i < stages.length; i++) {
    const r = stages[i]!.requestHeaders!(tx)
    if (r !== undefined) {
      if (typeof (r as Promise<unknown>).then === 'function') return continueAsync(tx, r as Promise<Verdict | undefined>, conn.length, i + 1)
      return r
    }
  }
  return undefined
}

async function continueAsync(tx: Transaction, pending: Promise<Verdict | undefined>, nextConnection: number, nextHeader: number): Promise<Verdict | undefined> {
  const first = await pending
  if (first !== undefined) return first
  const conn = tx.route.connectionStages
  for (let i = nextConnection; i < conn.length; i++) {
    const r = await conn[i]!.connection!(tx)
    if (r !== undefined) return r
  }
  const stages = tx.route.headerStages
  for (let i = nextHeader; i < stages.length; i++) {
    const r = await stages[i]!.requestHeaders!(tx)
    if (r !== undefined) return r
  }
  return undefined
}

/** The whole request: head, body, terminal. Never throws: every outcome is an answer. */
export function runRequest(ctx: PipelineContext, tx: Transaction): void {
  let result: ReturnType<typeof runHead>
  try {
    result = runHead(tx)
  } catch (err) {
    return fault(ctx, tx, err)
  }
  if (result === undefined) return runBody(ctx, tx)
  if (typeof (result as Promise<unknown>).then !== 'function') return sendVerdict(ctx, tx, result as Verdict)
  ;(result as Promise<Verdict | undefined>).then(
    (v) => (v === undefined ? runBody(ctx, tx) : sendVerdict(ctx, tx, v)),
    (err) => fault(ctx, tx, err),
  )
}

const tooLarge = verdict('limits', 413, 'DRAWBRIDGE_ERR_BODY_TOO_LARGE', 'body too large')
const badCoding = verdict('limits', 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'unsupported transfer-encoding')
const tooSlow = verdict('limits', 408, 'DRAWBRIDGE_ERR_REQUEST_TIMEOUT', 'body too slow')

/** The body phase, once the head passed. */
function runBody(ctx: PipelineContext, tx: Transaction): void {
  const req = tx.req
  // The client left while an asynchronous stage ran (a store look-up): its 'abort' came before
  // the terminal could listen for it, so nothing would cancel a request sent now.
  if (tx.res!.destroyed) return
  const route = tx.route
  const cl = req.headers['content-length']
  if (cl === undefined && req.headers['transfer-encoding'] === undefined) return void terminal(ctx, tx, null, null)
  const want = wanted(tx, route.bodyStages)
  if (cl !== undefined) {
    const n = Number(cl)
    if (n > route.maxBodyBytes) return answer(ctx, tx, tooLarge)
    if (n === 0) return void terminal(ctx, tx, null, '0')
    continueIfAsked(tx)
    armBodyTimer(ctx, tx)
    if (want === 'whole' || route.bufferBody) return bufferBody(ctx, tx, want === 'whole')
    if (want === 'first-chunk') return sniffBody(ctx, tx, () => void terminal(ctx, tx, req, cl))
    return void terminal(ctx, tx, req, cl)
  }
  const te = req.headers['transfer-encoding']!
  // Only plain chunked framing is understood (RFC 9112 §6.1): other codings would reach the app
  // as undeclared bytes, and a body not framed by chunked could only end with the connection.
  if (te.trim().toLowerCase() !== 'chunked') return answer(ctx, tx, badCoding)
  continueIfAsked(tx)
  armBodyTimer(ctx, tx)
  if (route.requestBuffering || route.bufferBody || want === 'whole') return bufferBody(ctx, tx, want !== 'none')
  if (want === 'first-chunk') return sniffBody(ctx, tx, () => void terminal(ctx, tx, limitStream(ctx, tx), null))
  return void terminal(ctx, tx, limitStream(ctx, tx), null)
}

/** The most any body stage wants of this request's body. */
function wanted(tx: Transaction, stages: readonly Stage[]): 'none' | 'whole' | 'first-chunk' {
  let want: 'none' | 'whole' | 'first-chunk' = 'none'
  for (let i = 0; i < stages.length; i++) {
    const w = stages[i]!.wantsBody!(tx)
    if (w === 'whole') return w
    if (w === 'first-chunk') want = w
  }
  return want
}

function answer(ctx: PipelineContext, tx: Transaction, v: Verdict): void {
  sendError(ctx, tx, v.status, v.code!, v.stage, v.reason)
}

/**
 * Reads the body's first chunk and puts it back: a body that a stage wants after seeing it is
 * buffered and judged, any other goes on as it would have.
 */
function sniffBody(ctx: PipelineContext, tx: Transaction, stream: () => void): void {
  const req = tx.req
  req.once('data', (chunk: Buffer) => {
    req.pause()
    req.unshift(chunk)
    const stages = tx.route.bodyStages
    let wants = false
    for (let i = 0; i < stages.length && !wants; i++) wants = stages[i]!.bodyAfterFirstChunk?.(tx, chunk) === true
    if (!wants) return stream()
    bufferBody(ctx, tx, true)
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
// terminal()), not at the next sweep: holding thousands of requests for 250 ms would push them
// into the old generation and make every GC expensive.
const pendingBodies = new Map<Transaction, PipelineContext>()
let sweeper: NodeJS.Timeout | null = null

function sweepBodies(): void {
  const now = performance.now()
  for (const [tx, ctx] of pendingBodies) {
    const req = tx.req
    if (req.complete || req.destroyed) pendingBodies.delete(tx)
    else if (now >= tx.startedAt + tx.route.bodyTimeout) {
      pendingBodies.delete(tx)
      answer(ctx, tx, tooSlow)
      stopReadingWhenAnswered(tx)
    }
  }
  if (pendingBodies.size === 0 && sweeper !== null) {
    clearInterval(sweeper)
    sweeper = null
  }
}

function armBodyTimer(ctx: PipelineContext, tx: Transaction): void {
  if (!tx.route.bodyDeadlinePerRequest) return
  pendingBodies.set(tx, ctx)
  if (sweeper === null) {
    sweeper = setInterval(sweepBodies, sweepMs)
    sweeper.unref()
  }
}

/** Stops reading the body (and so aborts a streaming upstream request) once the error has been written. */
function stopReadingWhenAnswered(tx: Transaction): void {
  const req = tx.req
  const res = tx.res!
  if (res.writableFinished) req.destroy()
  else res.once('finish', () => req.destroy())
}

function bufferBody(ctx: PipelineContext, tx: Transaction, judge: boolean): void {
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
      answer(ctx, tx, tooLarge)
      req.pause() // the 413 carries Connection: close; node closes the socket once it is written
      return
    }
    chunks.push(chunk)
  })
  req.once('end', () => {
    if (over || tx.res!.headersSent) return
    const body = Buffer.concat(chunks, size)
    if (!judge) return void terminal(ctx, tx, body, String(size))
    const judged = (v: Verdict | undefined): void => {
      if (tx.res!.headersSent || tx.res!.destroyed) return
      if (v === undefined) void terminal(ctx, tx, body, String(size))
      else sendVerdict(ctx, tx, v)
    }
    let v: Verdict | undefined | Promise<Verdict | undefined>
    try {
      v = runBodySteps(tx, body)
    } catch (err) {
      return fault(ctx, tx, err)
    }
    // multipart bodies are read by busboy, asynchronously; every other kind is judged here and now
    if (v instanceof Promise) v.then(judged, (err: unknown) => fault(ctx, tx, err))
    else judged(v)
  })
  req.once('error', () => undefined)
}

/** The requestBody steps in order; a promise only once a step answered with one. */
function runBodySteps(tx: Transaction, body: Buffer): Verdict | undefined | Promise<Verdict | undefined> {
  const stages = tx.route.bodyStages
  for (let i = 0; i < stages.length; i++) {
    const s = stages[i]!
    const r = s.wantsBody!(tx) === 'none' ? undefined : s.requestBody!(tx, body)
    if (r === undefined) continue
    if (r instanceof Promise) return continueBodySteps(tx, body, r, i + 1)
    return r
  }
  return undefined
}

async function continueBodySteps(tx: Transaction, body: Buffer, pending: Promise<Verdict | undefined>, next: number): Promise<Verdict | undefined> {
  const first = await pending
  if (first !== undefined) return first
  const stages = tx.route.bodyStages
  for (let i = next; i < stages.length; i++) {
    const s = stages[i]!
    if (s.wantsBody!(tx) === 'none') continue
    const r = await s.requestBody!(tx, body)
    if (r !== undefined) return r
  }
  return undefined
}

/** Counts a streamed chunked body and stops it at the limit (request_buffering: false). */
function limitStream(ctx: PipelineContext, tx: Transaction): NodeJS.ReadableStream {
  const req = tx.req
  const max = tx.route.maxBodyBytes
  let size = 0
  req.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size > max && !tx.res!.headersSent) {
      answer(ctx, tx, tooLarge)
      stopReadingWhenAnswered(tx)
    }
  })
  return req
}

/**
 * Hands the request to the route's terminal; its failure is a fault like any other. (An async
 * function and await: cheaper per request than two reaction closures on the terminal's promise.)
 */
async function terminal(ctx: PipelineContext, tx: Transaction, body: RequestBody, contentLength: string | null): Promise<void> {
  try {
    await tx.route.terminal(ctx, tx, body, contentLength)
  } catch (err) {
    fault(ctx, tx, err)
  }
  // A body still arriving after the answer (a trickling client) stays under the deadline.
  if (tx.route.bodyDeadlinePerRequest && tx.req.complete) pendingBodies.delete(tx)
}
