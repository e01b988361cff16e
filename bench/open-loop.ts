/**
 * An open-loop load generator for the moderate-load latency of `npm run bench` (the target: p99
 * added latency under 2 ms at moderate load).
 *
 * wrk is closed-loop: each connection sends its next request when the last one is answered, so
 * `wrk -c4` keeps a one-core proxy 100% busy (full load with four connections, not moderate load)
 * and a pause of the proxy delays only the four requests in flight. Here requests leave on a fixed
 * schedule, `rate` a second, whether or not earlier ones have been answered, over a fixed set of
 * keep-alive connections (opened before the clock starts, as a client's pool would be); a request
 * that finds every connection busy waits for one, and its latency counts from the moment it was
 * due to leave, so a pause of the proxy counts for every request it held up (no coordinated
 * omission).
 * The generator's own timer jitter (a tick that fires late) is not counted: it is not the target's.
 *
 * Light on purpose (it shares its core with the upstream): raw keep-alive sockets, the request bytes
 * built once, responses framed by Content-Length only (the benchmark's upstream always sends one).
 *
 * `node open-loop.js PORT RATE SECONDS PATH HEADERS_JSON [WARMUP_SECONDS]` (the warm-up runs at the
 * same rate on the same connections first, uncounted: new sockets make V8 re-tune the proxy's
 * code for a second or so, in Drawbridge as in the bare proxy) prints
 * `{ "sent", "ok", "errors", "p50ms", "p99ms", "p999ms", "maxms", "connections" }` (null latency:
 * some request was never answered). Loopback only; bounded by count and by time.
 */
import net from 'node:net'

const [portArg, rateArg, secondsArg, path, headersJson, warmupArg] = process.argv.slice(2)
const port = Number(portArg)
const rate = Number(rateArg)
const seconds = Number(secondsArg)
const warmup = Number(warmupArg ?? 0)
if (!Number.isInteger(port) || !(rate > 0) || !(seconds > 0) || !(warmup >= 0) || path === undefined || headersJson === undefined) {
  console.error('usage: open-loop.js PORT RATE SECONDS PATH HEADERS_JSON [WARMUP_SECONDS]')
  process.exit(2)
}
const headers = JSON.parse(headersJson) as Record<string, string>
const request = Buffer.from(
  `GET ${path} HTTP/1.1\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n',
  'latin1',
)

const uncounted = Math.round(rate * warmup)
const total = uncounted + Math.round(rate * seconds)
// Connections, all opened before the clock starts: far more than this rate needs at sub-ms latency
const poolSize = 32
// Infinity until answered: a request lost at the deadline counts as the slowest
const latencies = new Float64Array(total).fill(Infinity)
let done = 0
let ok = 0
let sent = 0

interface Conn {
  socket: net.Socket
  busy: boolean
  dead: boolean
  /** The request in flight: its index and the time it counts from. */
  index: number
  since: number
  buffered: Buffer
}
const idle: Conn[] = []
const queue: { index: number; since: number }[] = []
let connections = 0
// Connections opened to replace lost ones (bounded: at most one per request)
let replaced = 0

function open(): Conn {
  connections++
  const c: Conn = { socket: net.connect(port, '127.0.0.1'), busy: false, dead: false, index: -1, since: 0, buffered: Buffer.alloc(0) }
  c.socket.setNoDelay(true)
  c.socket.on('data', (chunk: Buffer) => onData(c, chunk))
  c.socket.on('error', () => fail(c))
  c.socket.on('close', () => fail(c))
  return c
}

function send(c: Conn, index: number, since: number): void {
  c.busy = true
  c.index = index
  c.since = since
  c.socket.write(request)
}

function dispatch(index: number, since: number): void {
  const c = idle.pop()
  if (c === undefined) queue.push({ index, since })
  else send(c, index, since)
}

/** One whole response in `c.buffered`: its length, or -1 while incomplete. */
function responseLength(b: Buffer): number {
  const end = b.indexOf('\r\n\r\n')
  if (end === -1) return -1
  const head = b.toString('latin1', 0, end)
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head)
  const length = end + 4 + (m === null ? 0 : Number(m[1]))
  return b.length >= length ? length : -1
}

function onData(c: Conn, chunk: Buffer): void {
  c.buffered = c.buffered.length === 0 ? chunk : Buffer.concat([c.buffered, chunk])
  const length = responseLength(c.buffered)
  if (length === -1 || !c.busy) return
  const status = c.buffered.toString('latin1', 9, 12)
  c.buffered = c.buffered.subarray(length)
  complete(c.index, c.since, status === '200')
  c.busy = false
  ready(c)
}

/** A free connection takes the oldest waiting request, or waits in the pool. */
function ready(c: Conn): void {
  const next = queue.shift()
  if (next !== undefined) send(c, next.index, next.since)
  else idle.push(c)
}

/** A lost connection: its request (if any) failed; a new one takes its place in the pool. */
function fail(c: Conn): void {
  if (c.dead) return // 'error' and 'close' both come
  c.dead = true
  connections--
  c.socket.destroy()
  const at = idle.indexOf(c)
  if (at !== -1) idle.splice(at, 1)
  if (c.busy) {
    c.busy = false
    complete(c.index, c.since, false)
  }
  if (done === total || replaced >= total) return
  replaced++
  ready(open())
}

function complete(index: number, since: number, good: boolean): void {
  latencies[index] = performance.now() - since
  if (good && index >= uncounted) ok++
  if (++done === total) report()
}

// Sends every request that is due, then sleeps until the next one is.
const interval = 1000 / rate
let start = 0
function tick(): void {
  const now = performance.now()
  while (sent < total && start + sent * interval <= now) dispatch(sent++, now)
  if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()))
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

function report(): void {
  clearTimeout(deadline)
  const sorted = latencies.slice(uncounted).sort()
  // JSON has no Infinity: null says "not answered"
  const r = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null)
  console.log(
    JSON.stringify({
      sent: sent - uncounted,
      ok,
      errors: total - uncounted - ok,
      p50ms: r(percentile(sorted, 50)),
      p99ms: r(percentile(sorted, 99)),
      p999ms: r(percentile(sorted, 99.9)),
      maxms: r(sorted[sorted.length - 1]!),
      connections,
    }),
  )
  process.exit(0)
}

// Bounded in time: 5 s after the last send, whatever has not answered stays unanswered.
const deadline = setTimeout(report, (warmup + seconds) * 1000 + 5000)
// The pool is connected before the clock starts (handshakes are not the target's latency)
for (let i = 0; i < poolSize; i++) idle.push(open())
setTimeout(() => {
  start = performance.now()
  tick()
}, 100)
