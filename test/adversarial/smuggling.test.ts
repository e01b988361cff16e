/**
 * Request smuggling and framing, over raw sockets: CL+TE, Transfer-Encoding spellings, duplicate
 * and malformed Content-Length, obs-fold, chunk-size overflows, pipelining, bare LF. Whatever the
 * bytes, there is no desync: every request the app handled is one Drawbridge judged and logged
 * (its X-Request-ID, once, with the same method), a request hidden in another's body never runs
 * (the anonymous `GET /admin/smuggled` would need the admin role), and framing that RFC 9112
 * calls an error is refused with Drawbridge's own 400.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { pythonServers, skipReason } from '../helpers/python-apps.js'
import { accessLines, assertNoInternalError, assertServing, converse, useTargets, verdictOf, type Target } from './support.js'

const targets = useTargets()

const H = 'Host: localhost\r\nUser-Agent: drawbridge-adversarial\r\n'
/** The hidden request: anonymous, so Drawbridge must answer it 401 if it ever sees it as a request. */
const S = 'GET /admin/smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n'
const post = (headers: string, body: string, target = '/public/s') => `POST ${target} HTTP/1.1\r\n${H}${headers}\r\n${body}`
const get = (target: string, headers = '') => `GET ${target} HTTP/1.1\r\n${H}${headers}\r\n`
const chunked = 'Transfer-Encoding: chunked\r\n'
const hello = '5\r\nhello\r\n0\r\n\r\n'

interface Shape {
  readonly name: string
  readonly bytes: string
  /** RFC 9112 makes this framing an error: Drawbridge must answer its own 4xx first. */
  readonly refuse?: boolean
  /** Exactly these statuses, in order (pipelining). */
  readonly statuses?: number[]
  /** How many requests must reach the app. */
  readonly reach?: number
}

const shapes: Shape[] = [
  // Content-Length with Transfer-Encoding (RFC 9112 §6.1: a proxy must not forward both)
  { name: 'CL.TE', bytes: post(`Content-Length: 6\r\n${chunked}`, '0\r\n\r\n' + S), refuse: true },
  { name: 'TE.CL', bytes: post(`${chunked}Content-Length: 4\r\n`, '0\r\n\r\n' + S), refuse: true },
  { name: 'CL.TE with TE first and CL 0', bytes: post(`${chunked}Content-Length: 0\r\n`, hello + S), refuse: true },
  // Transfer-Encoding spellings: only plain chunked is understood
  { name: 'TE chunked, identity', bytes: post('Transfer-Encoding: chunked, identity\r\n', hello + S), refuse: true },
  { name: 'TE identity, chunked', bytes: post('Transfer-Encoding: identity, chunked\r\n', hello + S), refuse: true },
  { name: 'TE gzip, chunked', bytes: post('Transfer-Encoding: gzip, chunked\r\n', hello + S), refuse: true },
  { name: 'TE chunked, chunked', bytes: post('Transfer-Encoding: chunked, chunked\r\n', hello + S), refuse: true },
  { name: 'TE twice (chunked, identity)', bytes: post('Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n', hello + S), refuse: true },
  { name: 'TE x-chunked', bytes: post('Transfer-Encoding: x-chunked\r\n', hello + S) },
  { name: 'TE Chunked (case)', bytes: post('Transfer-Encoding: Chunked\r\n', hello + S) },
  { name: 'TE with a leading space', bytes: post('Transfer-Encoding:  chunked\r\n', hello + S) },
  { name: 'TE with a vertical tab', bytes: post('Transfer-Encoding: chunked\x0b\r\n', hello + S) },
  { name: 'TE with a leading vertical tab', bytes: post('Transfer-Encoding:\x0bchunked\r\n', hello + S) },
  { name: 'TE name with a space before the colon', bytes: post('Transfer-Encoding : chunked\r\nContent-Length: 0\r\n', hello + S), refuse: true },
  { name: 'Transfer_Encoding (underscore) with CL', bytes: post(`Transfer_Encoding: chunked\r\nContent-Length: ${hello.length}\r\n`, hello + S) },
  { name: 'TE chunked on HTTP/1.0', bytes: `POST /public/s HTTP/1.0\r\n${H}${chunked}\r\n${hello}${S}` },
  { name: 'TE by obs-fold', bytes: post('Transfer-Encoding: identity\r\n chunked\r\n', hello + S), refuse: true },
  // Content-Length spellings (RFC 9112 §6.3)
  { name: 'CL twice, same value', bytes: post('Content-Length: 5\r\nContent-Length: 5\r\n', 'hello' + S) },
  { name: 'CL twice, different values', bytes: post('Content-Length: 5\r\nContent-Length: 6\r\n', 'hello!' + S), refuse: true },
  { name: 'CL list, different values', bytes: post('Content-Length: 5, 6\r\n', 'hello!' + S), refuse: true },
  { name: 'CL +5', bytes: post('Content-Length: +5\r\n', 'hello' + S), refuse: true },
  { name: 'CL -5', bytes: post('Content-Length: -5\r\n', 'hello' + S), refuse: true },
  { name: 'CL 0x5', bytes: post('Content-Length: 0x5\r\n', 'hello' + S), refuse: true },
  { name: 'CL 5.0', bytes: post('Content-Length: 5.0\r\n', 'hello' + S), refuse: true },
  { name: 'CL 5a', bytes: post('Content-Length: 5a\r\n', 'hello' + S), refuse: true },
  { name: 'CL overflowing 64 bits', bytes: post('Content-Length: 18446744073709551621\r\n', 'hello' + S), refuse: true },
  { name: 'CL by obs-fold', bytes: post('Content-Length: 5\r\n 6\r\n', 'hello!' + S), refuse: true },
  { name: 'CL with leading zeros', bytes: post('Content-Length: 0005\r\n', 'hello' + S) },
  // obs-fold elsewhere (RFC 9112 §5.2: reject, or replace with spaces)
  { name: 'obs-fold in a plain header', bytes: get('/public/fold', 'X-Note: a\r\n b\r\n') },
  // chunk sizes and chunk framing (RFC 9112 §7.1)
  { name: 'chunk size overflowing 64 bits', bytes: post(chunked, 'ffffffffffffffff1\r\nhello\r\n0\r\n\r\n' + S), refuse: true },
  { name: 'chunk size 0x5', bytes: post(chunked, '0x5\r\nhello\r\n0\r\n\r\n' + S), refuse: true },
  { name: 'chunk size -5', bytes: post(chunked, '-5\r\nhello\r\n0\r\n\r\n' + S), refuse: true },
  { name: 'chunk size +5', bytes: post(chunked, '+5\r\nhello\r\n0\r\n\r\n' + S), refuse: true },
  { name: 'chunk shorter than its data', bytes: post(chunked, '2\r\nhello\r\n0\r\n\r\n' + S), refuse: true },
  { name: 'chunk data without its CRLF', bytes: post(chunked, '5\r\nhelloXX0\r\n\r\n' + S), refuse: true },
  { name: 'chunk size with an extension', bytes: post(chunked, '5;name=value\r\nhello\r\n0\r\n\r\n' + S) },
  { name: 'chunk size with many leading zeros', bytes: post(chunked, '000000000000000000000000005\r\nhello\r\n0\r\n\r\n' + S) },
  { name: 'chunk lines ending in bare LF', bytes: post(chunked, '5\nhello\n0\n\n' + S) },
  {
    name: 'trailer fields naming managed headers',
    bytes: post(chunked, '5\r\nhello\r\n0\r\nX-Drawbridge-User: forged\r\nX-Forwarded-For: 203.0.113.66\r\n\r\n'),
  },
  { name: 'chunked body then a hidden request', bytes: post(chunked, hello + S) },
  // pipelining: each request judged on its own
  { name: 'two pipelined GETs', bytes: get('/public/p1') + get('/public/p2'), statuses: [200, 200], reach: 2 },
  { name: 'a public GET then an admin GET', bytes: get('/public/p1') + S, statuses: [200, 401], reach: 1 },
  {
    name: 'a GET, a WAF attack, a GET',
    bytes: get('/public/p1') + get("/public/p2?q=1'%20UNION%20SELECT%20password%20FROM%20users--") + get('/public/p3'),
    statuses: [200, 403, 200],
    reach: 2,
  },
  { name: 'HEAD then GET', bytes: `HEAD /public/h HTTP/1.1\r\n${H}\r\n` + get('/public/p'), reach: 2 },
  { name: 'a request inside a POST body', bytes: post(`Content-Length: ${S.length}\r\n`, S) },
  { name: 'a GET with a body holding a request', bytes: get('/public/g', `Content-Length: ${S.length}\r\n`) + S },
  { name: 'CL 0 then a request', bytes: post('Content-Length: 0\r\n', S), statuses: [200, 401], reach: 1 },
  { name: 'HTTP/1.0 keep-alive pipelining', bytes: `GET /public/a HTTP/1.0\r\n${H}Connection: keep-alive\r\n\r\nGET /public/b HTTP/1.0\r\n${H}\r\n` },
  { name: 'Expect: 100-continue with a chunked body and a hidden request', bytes: post(`Expect: 100-continue\r\n${chunked}`, hello + S) },
  {
    name: 'h2c upgrade then a request',
    bytes: get('/public/h2c', 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n') + S,
  },
  // line endings and control characters (RFC 9112 §2.2, RFC 9110 §5.5)
  { name: 'bare LF line endings', bytes: 'GET /public/lf HTTP/1.1\nHost: localhost\n\n' },
  { name: 'mixed CRLF and LF', bytes: 'GET /public/lf HTTP/1.1\r\nHost: localhost\n\r\n' },
  { name: 'bare CR in the head', bytes: 'GET /public/cr HTTP/1.1\rHost: localhost\r\n\r\n', refuse: true },
  { name: 'NUL in a header value', bytes: get('/public/nul', 'X-Note: a\x00b\r\n'), refuse: true },
  { name: 'CR in a header value', bytes: get('/public/cr', 'X-Note: a\rb\r\n'), refuse: true },
  { name: 'absolute-form naming a foreign host', bytes: `GET http://evil.example/public/x HTTP/1.1\r\n${H}\r\n`, refuse: true },
  { name: 'request line with a trailing token', bytes: `GET /public/x HTTP/1.1 extra\r\n${H}\r\n`, refuse: true },
  { name: 'request line with two spaces', bytes: `GET  /public/x HTTP/1.1\r\n${H}\r\n` },
  { name: 'HTTP/1.1 without a Host', bytes: 'GET /public/x HTTP/1.1\r\n\r\n', refuse: true },
  { name: 'two Host headers', bytes: `GET /public/x HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n`, refuse: true },
]

async function checkShape(tg: Target, shape: Shape): Promise<void> {
  const what = `${tg.server}: ${shape.name}`
  await tg.app.clear()
  // With a known number of answers, wait for all of them; else stop once the line goes quiet.
  const count = shape.statuses?.length ?? shape.reach
  const c = await converse(tg.gw.url, shape.bytes, {
    timeoutMs: 3000,
    idleMs: count === undefined ? 150 : 1000,
    count,
    heads: shape.bytes.startsWith('HEAD') ? [true] : [],
  })
  for (const r of c.responses) assertNoInternalError(r, what)
  const seen = await tg.app.log()
  // The access line is written when the answer has gone out: give it a moment (bounded).
  const ids = seen.map((s) => s.request_id)
  const deadline = Date.now() + 1000
  let logged = new Map(accessLines(tg.gw).map((l) => [l.request_id, l]))
  while (ids.some((id) => id !== null && !logged.has(id)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25))
    logged = new Map(accessLines(tg.gw).map((l) => [l.request_id, l]))
  }

  // the hidden admin request never ran, and every request the app ran is one Drawbridge judged
  assert.deepEqual(
    seen.filter((s) => s.route === 'admin').map((s) => s.path),
    [],
    `${what}: a hidden request reached the admin handler`,
  )
  assert.equal(new Set(ids).size, ids.length, `${what}: the app ran two requests under one request id (a desync): ${JSON.stringify(ids)}`)
  for (const s of seen) {
    const line = s.request_id === null ? undefined : logged.get(s.request_id)
    assert.ok(line !== undefined, `${what}: the app ran ${s.method} ${s.path} that Drawbridge never logged (request id ${s.request_id})`)
    assert.equal(s.method, line.method, `${what}: Drawbridge judged a ${String(line.method)}, the app ran a ${s.method}`)
  }
  // nothing forged rides in on trailers
  for (const s of seen)
    assert.ok(
      !JSON.stringify(s.headers).includes('forged') && !JSON.stringify(s.headers).includes('203.0.113.66'),
      `${what}: trailer fields reached the app as headers`,
    )

  if (shape.refuse === true) {
    const first = c.responses[0]
    assert.ok(first !== undefined, `${what}: no answer at all (socket: ${c.error})`)
    const v = verdictOf(first)
    assert.ok(
      v.kind === 'refused' && v.status >= 400 && v.status < 500,
      `${what}: expected Drawbridge's own 4xx, got ${first.status}: ${first.head.split('\r\n')[0]}`,
    )
    assert.equal(seen.length, 0, `${what}: refused, yet the app ran ${seen.length} request(s)`)
  }
  if (shape.statuses !== undefined)
    assert.deepEqual(
      c.responses.map((r) => r.status),
      shape.statuses,
      `${what}: answers`,
    )
  if (shape.reach !== undefined) assert.equal(seen.length, shape.reach, `${what}: requests that reached the app`)
}

// The three servers run side by side: each test's cases share that server's request log, so
// they stay in order within the test.
describe('smuggling through Drawbridge', { concurrency: true }, () => {
  for (const server of pythonServers) {
    test(`${server}: no framing trick makes the app run a request Drawbridge did not judge`, async (t) => {
      const tg = targets.get(server)
      if (tg === null) return t.skip(skipReason(server))
      for (const shape of shapes) await t.test(shape.name, () => checkShape(tg, shape))
      await assertServing(tg)
    })
  }
})
