/**
 * Shared pieces of the property-based fuzz tests, which all hold Drawbridge to one promise:
 * client input never produces a 5xx from Drawbridge itself and never crashes it. Here: one real
 * gateway in front of one real Node upstream per file, a raw-socket client that never throws,
 * and the fast-check budget.
 */
import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { connect } from 'node:net'
import fc from 'fast-check'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type Handler, type SeenRequest, type TestUpstream } from '../helpers/upstream.js'
import { closeAgent, parseRaw, request, type RawResponse } from '../helpers/http.js'

/**
 * Each property: at most `numRuns` cases and about 12 s (an interrupted run passes with the cases
 * done so far), so the whole folder stays well under a minute. DRAWBRIDGE_FUZZ_RUNS and
 * DRAWBRIDGE_FUZZ_SEED replay or deepen a run locally (fast-check prints the seed on failure).
 */
export function fuzzParams<T>(): fc.Parameters<T> {
  const runs = Number(process.env.DRAWBRIDGE_FUZZ_RUNS ?? 150)
  const seed = process.env.DRAWBRIDGE_FUZZ_SEED
  return {
    numRuns: Number.isInteger(runs) && runs > 0 ? runs : 150,
    interruptAfterTimeLimit: 12_000,
    // node:test's reporters do not print an Error's cause: put the failed assertion in the message
    includeErrorInReport: true,
    ...(seed !== undefined ? { seed: Number(seed) } : {}),
  }
}

export const origins = ['https://app.example.com', 'https://*.example.org', 'http://localhost:3000'] as const
export const scriptReadable = ['csrf_token'] as const
export const sameSiteNone = ['embed'] as const

export interface FuzzTarget {
  readonly gw: TestGateway
  readonly up: TestUpstream
  /** The upstream's record of the request Drawbridge forwarded under this request id, if any. */
  reached(requestId: string | undefined): SeenRequest | undefined
  close(): Promise<void>
}

/**
 * helpers/upstream.ts's echo (always 200, with a `server` and an `x-powered-by` to strip), plus:
 * a request header `x-set-cookies` (base64url of a JSON array of strings) becomes Set-Cookie
 * headers, so fuzzed cookies travel the real upstream -> gateway path.
 */
export const echoUpstream: Handler = (req, res, body) => {
  const headers: Record<string, string | string[]> = { 'content-type': 'application/json', server: 'test-upstream', 'x-powered-by': 'test' }
  const spec = req.headers['x-set-cookies']
  if (typeof spec === 'string') {
    try {
      headers['set-cookie'] = JSON.parse(Buffer.from(spec, 'base64url').toString('utf8')) as string[]
    } catch {
      headers['x-fuzz-bad-spec'] = '1'
    }
  }
  try {
    res.writeHead(200, headers)
  } catch {
    // a value node refuses to send: say so instead of crashing the test process
    res.writeHead(200, { 'content-type': 'application/json', 'x-fuzz-bad-spec': '1' })
  }
  res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString('latin1') }))
}

/** Encodes Set-Cookie values for echoUpstream. */
export const setCookiesHeader = (cookies: readonly string[]): string => Buffer.from(JSON.stringify(cookies), 'utf8').toString('base64url')

/**
 * The configuration every fuzz file runs against (production mode, as in the field). The WAF is
 * off unless asked for: these properties check that header, URL and cookie handling passes
 * values through unchanged, and the WAF would rightly refuse some random values; waf.test.ts
 * fuzzes with it on.
 */
export async function startFuzzTarget(handler: Handler = echoUpstream, waf = false): Promise<FuzzTarget> {
  const up = await startUpstream(handler)
  let gw: TestGateway
  try {
    gw = await startGateway({
      upstream: up.url,
      trusted_hosts: ['localhost', '*.example.com'],
      cors: { allow_origins: [...origins], allow_credentials: true, allow_headers: ['Content-Type', 'Authorization', 'X-Custom'] },
      cookies: { script_readable: [...scriptReadable], allow_samesite_none: [...sameSiteNone] },
      waf: { enabled: waf },
    })
  } catch (err) {
    await up.close()
    throw err
  }
  return {
    gw,
    up,
    reached(requestId) {
      if (requestId === undefined) return undefined
      return up.seen.find((s) => s.headers['x-request-id'] === requestId)
    },
    async close() {
      await gw.close()
      await up.close()
    },
  }
}

/**
 * One fuzz target per test file: started before its tests, stopped (with the shared HTTP agent)
 * after them. The returned object forwards to the running target.
 */
export function useFuzzTarget(options: { waf?: boolean } = {}): FuzzTarget {
  let target: FuzzTarget | undefined
  before(async () => {
    target = await startFuzzTarget(echoUpstream, options.waf ?? false)
  })
  // bounded: a socket the gateway never closes would otherwise hold close() for good
  after(
    async () => {
      await target?.close()
      await closeAgent()
    },
    { timeout: 15_000 },
  )
  const running = (): FuzzTarget => {
    if (target === undefined) throw new Error('the fuzz target is not started')
    return target
  }
  return {
    get gw() {
      return running().gw
    },
    get up() {
      return running().up
    },
    reached: (requestId) => running().reached(requestId),
    close: () => running().close(),
  }
}

export interface Answer extends RawResponse {
  /** Everything received, as latin1. */
  readonly raw: string
  /** The socket error (ECONNRESET...) or 'timeout', when the exchange did not end cleanly. */
  readonly error: string | null
}

/** Drops interim 1xx responses (100 Continue) in front of the final one. */
function finalResponse(s: string): string {
  while (/^HTTP\/1\.[01] 1\d\d /.test(s)) {
    const end = s.indexOf('\r\n\r\n')
    if (end === -1) return s
    s = s.slice(end + 4)
  }
  return s
}

/** Where the first response in `s` ends, or -1 while it is incomplete (or ends with the close). */
function responseEnd(s: string, headRequest: boolean): number {
  const end = s.indexOf('\r\n\r\n')
  if (end === -1) return -1
  const head = s.slice(0, end)
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]
  if (headRequest || status === '204' || status === '304') return end + 4
  const cl = /\r\ncontent-length: *(\d+)/i.exec(head)
  if (cl !== null) return s.length - end - 4 >= Number(cl[1]) ? end + 4 + Number(cl[1]) : -1
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    const last = s.indexOf('\r\n0\r\n\r\n', end + 2)
    return last === -1 ? -1 : last + 7
  }
  return -1 // delimited by the close
}

/**
 * Writes `data` (a latin1 string: one char per byte) on a fresh connection and reads one
 * response. Unlike helpers/http.ts rawRequest it never rejects: a reset after the answer (the
 * server closing with request bytes still unread) is normal for a refused request.
 */
export function exchange(url: string, data: string | Buffer, options: { headRequest?: boolean; timeoutMs?: number } = {}): Promise<Answer> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const socket = connect(Number(u.port), u.hostname)
    const chunks: Buffer[] = []
    let error: string | null = null
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      // only the first response: a refused request may be followed by answers to leftover bytes
      let raw = finalResponse(Buffer.concat(chunks).toString('latin1'))
      const end = responseEnd(raw, options.headRequest === true)
      if (end !== -1) raw = raw.slice(0, end)
      resolve(Object.assign(parseRaw(raw), { raw, error }))
    }
    const timer = setTimeout(() => {
      error = 'timeout'
      finish()
    }, options.timeoutMs ?? 5000)
    socket.on('data', (c: Buffer) => {
      chunks.push(c)
      if (responseEnd(finalResponse(Buffer.concat(chunks).toString('latin1')), options.headRequest === true) !== -1) finish()
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? String(err)
      finish()
    })
    socket.on('close', finish)
    socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data)
  })
}

/** Every answer is a real HTTP response (never a silent close) and never a 5xx. */
export function assertAnswered(res: Answer, input: unknown): void {
  assert.ok(res.status >= 200 && res.status <= 499, `status ${res.status} (socket: ${res.error}) for ${JSON.stringify(input)}\n${res.raw.slice(0, 600)}`)
}

/** An error Drawbridge answered itself: JSON `{ error, code, request_id }` matching X-Request-ID. */
export function assertGatewayError(res: Answer, headRequest: boolean, input: unknown): string {
  const id = res.header('x-request-id')
  assert.ok(id !== undefined && id !== '', `no x-request-id on a ${res.status} for ${JSON.stringify(input)}`)
  if (headRequest) return ''
  let body: { code?: unknown; request_id?: unknown; error?: unknown }
  try {
    body = JSON.parse(res.body) as typeof body
  } catch {
    assert.fail(`a ${res.status} without a JSON body for ${JSON.stringify(input)}: ${res.raw.slice(0, 400)}`)
  }
  assert.equal(typeof body.error, 'string')
  assert.match(String(body.code), /^DRAWBRIDGE_ERR_[A-Z_]+$/)
  assert.equal(body.request_id, id)
  return String(body.code)
}

/** The gateway still serves a normal request, and logged no fault of its own. */
export async function assertAlive(target: FuzzTarget): Promise<void> {
  const res = await request(target.gw.url + '/alive')
  assert.equal(res.status, 200)
  const faults = target.gw.logs().filter((l) => l.level === 'error')
  assert.deepEqual(faults, [], 'the gateway logged errors (stage faults) while fuzzed')
}

/**
 * Records exceptions nobody caught while a test runs (the gateway runs in this process: an
 * 'error' event without a listener lands here). The returned function stops recording and fails
 * the test if there were any; node:test would otherwise pin them on whichever test or hook is
 * current, or report them only once the file ends.
 */
export function watchUncaught(): () => void {
  const seen: unknown[] = []
  const record = (err: unknown): void => void seen.push(err)
  process.on('uncaughtException', record)
  return () => {
    process.off('uncaughtException', record)
    assert.deepEqual(seen.map(String), [], 'uncaught exceptions while fuzzed (each would have ended a gateway process)')
  }
}

/** Counts answers by status; reported as a test diagnostic so a run shows what it exercised. */
export class StatusTally {
  readonly #counts = new Map<number, number>()
  add(status: number): void {
    this.#counts.set(status, (this.#counts.get(status) ?? 0) + 1)
  }
  toString(): string {
    return [...this.#counts]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ')
  }
}

// ---- shared arbitraries ------------------------------------------------------------------

export const tokenChars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('')

/** `arb` about once in `n` cases, otherwise undefined. */
export const sometimes = <T>(arb: fc.Arbitrary<T>, n: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: n - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb })

/** RFC 9110 token (header names, cookie names, methods). */
export const token = (maxLength = 16): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...tokenChars), minLength: 1, maxLength })

/** UTF-8 bytes of a string, as a latin1 string (one char per byte on the wire). */
export const utf8Bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1')

const obsText = fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c))
const visible = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c))

/**
 * A header value node's parser accepts: HTAB, SP, visible ASCII and obs-text (RFC 9110 §5.5),
 * including UTF-8 sequences and lone high bytes.
 */
export const headerValue = (maxLength = 64): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: fc.oneof({ weight: 6, arbitrary: visible }, obsText, fc.constant('\t')), maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: Math.ceil(maxLength / 4) }).map(utf8Bytes) },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 800 }).map((n) => 'v'.repeat(n)) },
  )

/** Values as the receiving parser stores them: optional whitespace around them removed. */
export const ows = (v: string): string => v.replace(/^[ \t]+|[ \t]+$/g, '')
