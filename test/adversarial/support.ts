/**
 * Shared pieces of the adversarial suite: real Python echo apps (Starlette under uvicorn, Flask
 * under gunicorn and waitress) behind real gateways with identity and route policies on, a raw
 * socket client that never throws and reads every response on a connection, and the checks that
 * tell Drawbridge's own refusals from the app's answers.
 *
 * Every file starts its Python servers once (before/after hooks) and asks, per case, the question
 * that matters: did the decision Drawbridge took hold for what the app routed and parsed?
 */
import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { connect } from 'node:net'
import { startAuthGateway, type AuthGateway } from '../helpers/auth.js'
import { closeAgent, parseRaw, request, type RawResponse } from '../helpers/http.js'
import { pythonServers, startPythonApp, type PythonApp, type PythonServer, type Seen } from '../helpers/python-apps.js'

const CLOSE_TIMEOUT_MS = 10_000

export const userPassword = 'a plain user pass phrase 2026'
export const adminPassword = 'an admin pass phrase for 2026'
export const browserHeaders = { origin: 'http://localhost', 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' }

/**
 * The route policies every target runs with. /admin needs the admin role; DELETE under /reports
 * too (other methods only a login); GET under /ops needs the admin role while other methods
 * are public; /health and /public are open; anything else needs a login (production default).
 */
export const policies = [
  { match: { path: '/health' }, access: 'public' },
  { match: { path: '/public' }, access: 'public' },
  { match: { path: '/admin' }, roles: ['admin'] },
  { match: { path: '/reports', methods: ['DELETE'] }, roles: ['admin'] },
  { match: { path: '/ops', methods: ['GET'] }, roles: ['admin'] },
  { match: { path: '/ops' }, access: 'public' },
  { match: { path: '/ws' }, access: 'public' },
]

export interface Target {
  readonly server: PythonServer
  readonly app: PythonApp
  readonly gw: AuthGateway
  /** Bearer tokens: alice has the role user, root the role admin. */
  readonly userToken: string
  readonly adminToken: string
}

async function login(gw: AuthGateway, username: string, password: string): Promise<string> {
  const res = await request(`${gw.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  assert.equal(res.status, 200, `login of ${username}: ${res.text}`)
  return String(res.json().access_token)
}

async function startTarget(server: PythonServer, gateway: Record<string, unknown>): Promise<Target | null> {
  const app = await startPythonApp(server)
  if (app === null) return null
  let gw: AuthGateway | undefined
  try {
    gw = await startAuthGateway(
      {
        upstream: { url: app.url, response_timeout: '5s' },
        limits: { header_timeout: '2s', body_timeout: '2s' },
        ...gateway,
      },
      { policies },
    )
    assert.equal((await gw.identity.register('alice', null, userPassword, ['user'])).ok, true)
    assert.equal((await gw.identity.register('root', null, adminPassword, ['admin'])).ok, true)
    return { server, app, gw, userToken: await login(gw, 'alice', userPassword), adminToken: await login(gw, 'root', adminPassword) }
  } catch (err) {
    await gw?.close()
    await app.close()
    throw err
  }
}

/**
 * One target per Python server for the whole file, started in before() and stopped in after().
 * get(server) is null when that server's packages are missing (the test then skips with
 * skipReason(server); with CI=true starting fails instead).
 */
export function useTargets(
  servers: readonly PythonServer[] = pythonServers,
  gateway: Record<string, unknown> = {},
): { get(server: PythonServer): Target | null } {
  const targets = new Map<PythonServer, Target | null>()
  before(async () => {
    const started = await Promise.allSettled(servers.map((s) => startTarget(s, gateway)))
    started.forEach((r, i) => {
      if (r.status === 'fulfilled') targets.set(servers[i]!, r.value)
    })
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  })
  after(async () => {
    // A gateway that cannot finish closing (a connection it lost track of) fails the file
    // instead of hanging it; the Python servers are stopped either way.
    const stuck: string[] = []
    for (const t of targets.values()) {
      if (t === null) continue
      const closed = await Promise.race([t.gw.close().then(() => true), new Promise<false>((r) => setTimeout(r, CLOSE_TIMEOUT_MS, false).unref())])
      if (!closed) stuck.push(t.server)
      await t.app.close()
    }
    await closeAgent()
    assert.deepEqual(stuck, [], `gateway.close() did not finish within ${CLOSE_TIMEOUT_MS} ms (in front of these servers)`)
  })
  return {
    get(server) {
      return targets.get(server) ?? null
    },
  }
}

// ---- raw requests ------------------------------------------------------------------------

export interface RawRequest {
  method?: string
  target: string
  /** Header lines as [name, value], sent exactly (a name may repeat). */
  headers?: [string, string][]
  body?: string | Buffer
  /** Adds Content-Length for the body (default true when there is one). */
  contentLength?: boolean
  version?: string
}

/** Serialises a request as bytes (latin1), with Host: localhost and a plain User-Agent first. */
export function rawBytes(r: RawRequest): Buffer {
  const body = r.body === undefined ? Buffer.alloc(0) : typeof r.body === 'string' ? Buffer.from(r.body, 'latin1') : r.body
  const lines = [`${r.method ?? 'GET'} ${r.target} ${r.version ?? 'HTTP/1.1'}`, 'Host: localhost', 'User-Agent: drawbridge-adversarial']
  for (const [n, v] of r.headers ?? []) lines.push(`${n}: ${v}`)
  if (body.length > 0 && r.contentLength !== false) lines.push(`Content-Length: ${body.length}`)
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), body])
}

export interface Conversation {
  /** Every response read on the connection, in order (interim 1xx left out). */
  readonly responses: RawResponse[]
  readonly raw: string
  /** The socket error (ECONNRESET...) or 'timeout', when it did not end with a clean close. */
  readonly error: string | null
}

/**
 * Splits a byte stream (latin1) into the HTTP responses it holds; `heads` marks HEAD answers.
 * `complete` counts the responses whose end has been seen.
 */
export function splitResponses(s: string, heads: readonly boolean[] = []): { responses: RawResponse[]; complete: number } {
  const out: RawResponse[] = []
  let complete = 0
  let rest = s
  while (rest.startsWith('HTTP/')) {
    const end = rest.indexOf('\r\n\r\n')
    if (end === -1) {
      out.push(parseRaw(rest))
      break
    }
    const head = rest.slice(0, end)
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0)
    if (status >= 100 && status < 200 && status !== 101) {
      rest = rest.slice(end + 4)
      continue
    }
    let stop = end + 4
    let done = true
    const noBody = heads[out.length] === true || status === 204 || status === 304 || status === 101
    const cl = /\r\ncontent-length: *(\d+)/i.exec(head)
    if (!noBody && cl !== null) {
      stop = end + 4 + Number(cl[1])
      done = rest.length >= stop
    } else if (!noBody && /\r\ntransfer-encoding: *chunked/i.test(head)) {
      const last = rest.indexOf('\r\n0\r\n\r\n', end)
      done = last !== -1
      stop = done ? last + 7 : rest.length
    } else if (!noBody) {
      stop = rest.length
      done = false // delimited by the close
    }
    out.push(parseRaw(rest.slice(0, stop)))
    if (!done) break
    complete++
    if (status === 101) break
    rest = rest.slice(stop)
  }
  return { responses: out, complete }
}

export interface ConverseOptions {
  /** Overall cap (default 4 s). */
  timeoutMs?: number
  /** Which responses answer HEAD requests (no body). */
  heads?: boolean[]
  /** Stop once this many complete responses have arrived. */
  count?: number
  /** Stop when nothing arrived for this long after at least one complete response (default 200 ms). */
  idleMs?: number
  /** Reset the connection (RST) this long after writing, instead of reading answers. */
  resetAfterMs?: number
}

/**
 * Writes `data` on a fresh connection and reads until the server closes, `count` responses are
 * complete, the line goes idle after a complete response, or `timeoutMs` passes. Never rejects.
 * The connection is not half-closed: node's http server drops unanswered requests when a client
 * half-closes, which is not what a client means by pipelining.
 */
export function converse(url: string, data: Buffer | string, options: ConverseOptions = {}): Promise<Conversation> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const socket = connect(Number(u.port), u.hostname)
    const chunks: Buffer[] = []
    let error: string | null = null
    let done = false
    let idle: NodeJS.Timeout | undefined
    const finish = (): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      clearTimeout(idle)
      if (options.resetAfterMs !== undefined && !socket.destroyed) socket.resetAndDestroy()
      else socket.destroy()
      const raw = Buffer.concat(chunks).toString('latin1')
      resolve({ responses: splitResponses(raw, options.heads).responses, raw, error })
    }
    const timer = setTimeout(() => {
      error = 'timeout'
      finish()
    }, options.timeoutMs ?? 4000)
    socket.on('data', (c: Buffer) => {
      chunks.push(c)
      const { complete } = splitResponses(Buffer.concat(chunks).toString('latin1'), options.heads)
      if (options.count !== undefined && complete >= options.count) return finish()
      if (complete > 0) {
        clearTimeout(idle)
        idle = setTimeout(finish, options.idleMs ?? 200)
      }
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? String(err)
      finish()
    })
    socket.on('close', finish)
    socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, () => {
      if (options.resetAfterMs !== undefined) setTimeout(finish, options.resetAfterMs)
    })
  })
}

/**
 * Writes each step on one connection, the next once the previous one's answer has begun to
 * arrive (or 300 ms passed), then reads until close, idle or `timeoutMs`.
 */
export function converseSteps(url: string, steps: Buffer[], options: { timeoutMs?: number; idleMs?: number } = {}): Promise<Conversation> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const socket = connect(Number(u.port), u.hostname)
    const chunks: Buffer[] = []
    let error: string | null = null
    let done = false
    let next = 0
    let stepTimer: NodeJS.Timeout | undefined
    let idle: NodeJS.Timeout | undefined
    const finish = (): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      clearTimeout(stepTimer)
      clearTimeout(idle)
      socket.destroy()
      const raw = Buffer.concat(chunks).toString('latin1')
      resolve({ responses: splitResponses(raw).responses, raw, error })
    }
    const writeNext = (): void => {
      clearTimeout(stepTimer)
      if (done || next >= steps.length || socket.destroyed) return
      socket.write(steps[next++]!)
      stepTimer = setTimeout(writeNext, 300)
    }
    const timer = setTimeout(() => {
      error = 'timeout'
      finish()
    }, options.timeoutMs ?? 4000)
    socket.on('data', (c: Buffer) => {
      chunks.push(c)
      if (next < steps.length) setTimeout(writeNext, 20)
      clearTimeout(idle)
      idle = setTimeout(() => next >= steps.length && finish(), options.idleMs ?? 300)
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? String(err)
      finish()
    })
    socket.on('close', finish)
    writeNext()
  })
}

/** One request, one response (the first on the connection). */
export async function send(url: string, r: RawRequest, timeoutMs = 4000): Promise<RawResponse & { error: string | null }> {
  const c = await converse(url, rawBytes(r), { timeoutMs, heads: [r.method === 'HEAD'], count: 1 })
  const first = c.responses[0] ?? parseRaw('')
  return { ...first, error: c.error }
}

// ---- who answered ------------------------------------------------------------------------

export type Verdict = { kind: 'refused'; status: number; code: string } | { kind: 'app'; status: number; seen: Seen } | { kind: 'other'; status: number }

/**
 * Drawbridge's own refusal (a 4xx JSON `{ error, code: DRAWBRIDGE_ERR_*, request_id }` matching
 * X-Request-ID), the echo app's answer (its JSON says which route it picked), or anything else
 * (an app's own 404 page, a redirect, no answer).
 */
export function verdictOf(res: RawResponse): Verdict {
  let body: Record<string, unknown> | null = null
  try {
    const parsed: unknown = JSON.parse(res.body)
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>
  } catch {
    body = null
  }
  if (body !== null && typeof body.code === 'string' && body.code.startsWith('DRAWBRIDGE_ERR_')) {
    if (res.status >= 400 && res.status < 500 && body.request_id === res.header('x-request-id') && typeof body.error === 'string') {
      return { kind: 'refused', status: res.status, code: body.code }
    }
    return { kind: 'other', status: res.status }
  }
  if (body !== null && typeof body.route === 'string' && typeof body.app === 'string') return { kind: 'app', status: res.status, seen: body as unknown as Seen }
  return { kind: 'other', status: res.status }
}

/** Never a fault of Drawbridge's own: no 500 / DRAWBRIDGE_ERR_INTERNAL, whatever the input. */
export function assertNoInternalError(res: RawResponse, what: string): void {
  let code: unknown
  try {
    code = (JSON.parse(res.body) as { code?: unknown }).code
  } catch {
    code = undefined
  }
  assert.notEqual(code, 'DRAWBRIDGE_ERR_INTERNAL', `${what}: Drawbridge answered its own internal error\n${res.head}`)
  // Drawbridge's own answers carry a DRAWBRIDGE_ERR_ code; a 500 without one is the upstream's, passed on.
  const own = typeof code === 'string' && code.startsWith('DRAWBRIDGE_ERR_') && !code.startsWith('DRAWBRIDGE_ERR_UPSTREAM')
  assert.ok(!(res.status === 500 && own), `${what}: Drawbridge answered a 500 of its own (${String(code)})\n${res.head}`)
}

/** The value the app saw for a header, by the name the app reads (case and `_`/`-` folded), joined. */
export function appHeader(seen: Seen, name: string): string | undefined {
  const want = name.toLowerCase().replaceAll('_', '-')
  const values = seen.headers.filter(([n]) => n.toLowerCase().replaceAll('_', '-') === want).map(([, v]) => v)
  return values.length === 0 ? undefined : values.join(',')
}

/** Everything the app received that a client could have forged, as one string to search. */
export function appReceived(seen: Seen): string {
  return JSON.stringify([seen.headers, seen.environ_http ?? {}, seen.script_name ?? '', seen.client, seen.access_route ?? []])
}

/** Access log lines of a gateway (msg "access"). */
export function accessLines(gw: AuthGateway): Record<string, unknown>[] {
  return gw.logs().filter((l) => l.msg === 'access')
}

export function bearer(token: string): [string, string] {
  return ['Authorization', `Bearer ${token}`]
}

/** The gateway still answers, and the app behind it too. */
export async function assertServing(t: Target): Promise<void> {
  const res = await send(t.gw.url, { target: '/health' })
  assert.equal(res.status, 200, `the gateway in front of ${t.server} stopped answering /health: ${res.head}`)
  assert.equal(verdictOf(res).kind, 'app')
}
