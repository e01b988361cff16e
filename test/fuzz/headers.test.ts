/**
 * Fuzzing request heads: random header names and values, duplicates, Host
 * variants (ports, IPv6 brackets, trailing dots), absolute-form targets, Connection naming other
 * headers, X-Forwarded-* garbage and bodies. Never a 5xx; the Host decision matches the trusted
 * hosts; what reaches the app carries Drawbridge's forwarded headers, not the client's.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { startGateway } from '../helpers/gateway.js'
import { startUpstream } from '../helpers/upstream.js'
import {
  assertAlive,
  assertAnswered,
  assertGatewayError,
  exchange,
  fuzzParams,
  headerValue,
  ows,
  sometimes,
  useFuzzTarget,
  StatusTally,
  token,
} from './support.js'

const target = useFuzzTarget()

/** Headers that change the framing or the protocol: generated on purpose below, never at random. */
const framing = new Set(['host', 'content-length', 'transfer-encoding', 'expect', 'connection', 'upgrade'])
const hopByHop = ['te', 'trailer', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'http2-settings', 'upgrade', 'transfer-encoding']
/** A Connection header naming one of these (`_` read as `-`) is refused with 400: the app would see another request. */
const endToEnd = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'content-range',
  'transfer-encoding',
  'host',
  'cookie',
  'authorization',
  'origin',
  'referer',
  'x-csrf-token',
  'sec-fetch-site',
  'sec-fetch-mode',
  'sec-fetch-dest',
  'sec-fetch-user',
  'x-request-id',
  'x-real-ip',
  'forwarded',
  'expect',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
])
const listsEndToEnd = (names: readonly string[]): boolean =>
  names.some((n) => {
    const name = n.toLowerCase().replaceAll('_', '-')
    return endToEnd.has(name) || name.startsWith('x-forwarded-') || name.startsWith('x-drawbridge-')
  })
/** request_headers.strip by default: never forwarded (no trusted proxies here). */
const stripped = new Set([
  'x-original-url',
  'x-original-uri',
  'x-rewrite-url',
  'x-forwarded-prefix',
  'x-forwarded-path',
  'x-forwarded-uri',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-forwarded-scheme',
  'x-forwarded-ssl',
  'front-end-https',
  'x-url-scheme',
  'x-host',
  'x-original-host',
  'x-http-host-override',
  'true-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'client-ip',
  'x-originating-ip',
  'x-remote-ip',
  'x-remote-addr',
  'x-proxyuser-ip',
  'x-envoy-external-address',
])
/** Set by Drawbridge itself whatever the client sent. */
const replaced = new Set(['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip', 'x-request-id', 'content-length'])

const headerName = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'Accept',
      'Accept-Language',
      'User-Agent',
      'Referer',
      'Authorization',
      'Content-Type',
      'Cookie',
      'Origin',
      'Range',
      'If-None-Match',
      'X-Forwarded-For',
      'x-forwarded-for',
      'X-Forwarded-Host',
      'X-Forwarded-Proto',
      'Forwarded',
      'X-Real-IP',
      'X-Request-ID',
      'Via',
      'Max-Forwards',
      'TE',
      'Trailer',
      'Keep-Alive',
      'Proxy-Connection',
      'Proxy-Authorization',
      'HTTP2-Settings',
      'X-HTTP-Method-Override',
      'X-Original-URL',
      'X-Rewrite-URL',
      'constructor',
      'toString',
      'hasOwnProperty',
    ),
  },
  { weight: 2, arbitrary: token(24).filter((n) => !framing.has(n.toLowerCase())) },
)

const forwardedGarbage = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '1.2.3.4',
        '127.0.0.1',
        '10.0.0.1',
        '::1',
        '[::1]:80',
        '::ffff:127.0.0.1',
        'unknown',
        '_hidden',
        '999.1.1.1',
        '1.2.3.4:5678',
        '"q"',
        'for=1.2.3.4;proto=https',
        'https',
        'localhost',
        '',
      ),
      fc.ipV4(),
      fc.ipV6(),
    ),
    { minLength: 1, maxLength: 5 },
  )
  .chain((parts) => fc.constantFrom(',', ', ', ' ,', ',,').map((sep) => parts.join(sep)))

const value = fc.oneof({ weight: 3, arbitrary: headerValue(64) }, { weight: 1, arbitrary: forwardedGarbage })

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/)
const allowedName = fc.oneof(
  { weight: 1, arbitrary: fc.constant('localhost') },
  { weight: 1, arbitrary: fc.array(label, { minLength: 1, maxLength: 3 }).map((ls) => ls.join('.') + '.example.com') },
)
const otherName = fc.oneof(
  fc.constantFrom(
    'example.com',
    'evil.com',
    'localhost.evil.com',
    'a.example.com.evil.com',
    '.example.com',
    'example.com.',
    'xexample.com',
    'a.example.co',
    '127.0.0.1',
    '[::1]',
    '[::ffff:127.0.0.1]',
    '[::1',
    '::1',
    'local_host',
    'localhost..',
    '%6cocalhost',
    'a%2eexample.com',
    'localhos',
    'localhost1',
  ),
  fc.array(label, { minLength: 1, maxLength: 3 }).map((ls) => ls.join('.')),
)
const port = sometimes(
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(':80', ':8080', ':0', ':65535', ':99999') },
    { weight: 1, arbitrary: fc.constantFrom(':123456', ':', ':abc', ':-1', ':+80', '::80') },
  ),
  3,
)

/** A Host value (also used as the authority of absolute-form targets): no spaces, '/', '?', '#' or '@'. */
const authority = fc
  .record({
    name: fc.oneof({ weight: 3, arbitrary: allowedName }, { weight: 1, arbitrary: otherName }),
    upper: fc.boolean(),
    dot: sometimes(fc.constant('.'), 4),
    port,
  })
  .map(({ name, upper, dot, port }) => (upper ? name.toUpperCase() : name) + (dot ?? '') + (port ?? ''))

/** Odd Host header values that are not even authorities. */
const oddHost = fc.oneof(
  fc.constantFrom('', ' ', 'localhost, evil.com', 'local host', 'localhost/x', 'user@localhost', 'localhost?x', 'localhost#x', 'http://localhost'),
  headerValue(20),
)

const head = fc.record({
  absolute: sometimes(authority, 4),
  hosts: fc.oneof(
    { weight: 8, arbitrary: fc.array(authority, { minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.array(fc.oneof(authority, oddHost), { maxLength: 3 }) },
  ),
  headers: fc.array(fc.tuple(headerName, value), { maxLength: 10 }),
  connection: fc.array(fc.oneof(headerName, fc.constantFrom('host', 'content-length', 'x-forwarded-for', 'x-request-id', 'keep-alive', 'te')), {
    maxLength: 3,
  }),
  body: sometimes(
    fc.record({ chunks: fc.array(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 60 }), { minLength: 1, maxLength: 3 }), chunked: fc.boolean() }),
    4,
  ),
})

type Head = typeof head extends fc.Arbitrary<infer T> ? T : never

function render(h: Head): { wire: string; authority: string | null } {
  const method = h.body === undefined ? 'GET' : 'POST'
  let wire = `${method} ${h.absolute === undefined ? '' : 'http://' + h.absolute}/h?q=1 HTTP/1.1\r\n`
  for (const host of h.hosts) wire += `Host: ${host}\r\n`
  for (const [n, v] of h.headers) wire += `${n}: ${v}\r\n`
  wire += `Connection: ${['close', ...h.connection].join(', ')}\r\n`
  if (h.body !== undefined) {
    const data = h.body.chunks.join('')
    if (h.body.chunked) {
      wire += 'Transfer-Encoding: chunked\r\n\r\n'
      for (const c of h.body.chunks) wire += `${c.length.toString(16)}\r\n${c}\r\n`
      wire += '0\r\n\r\n'
    } else {
      wire += `Content-Length: ${data.length}\r\n\r\n${data}`
    }
  } else {
    wire += '\r\n'
  }
  // Which authority the gateway must judge: the target's, else the one Host header
  const authority = h.absolute ?? (h.hosts.length === 1 ? ows(h.hosts[0]!) : null)
  return { wire, authority }
}

const overrideHeaders = new Set(['x-http-method-override', 'x-http-method', 'x-method-override'])

/** Our reading of trusted_hosts [localhost, *.example.com]: a name, an optional port, one trailing dot. */
function trusted(authority: string): boolean {
  const m = /^(.*?)(?::([0-9]{1,5}))?$/.exec(authority)!
  if (m[2] !== undefined && Number(m[2]) > 65_535) return false
  let name = m[1]!.toLowerCase()
  if (name.length > 1 && name.endsWith('.')) name = name.slice(0, -1)
  // no empty labels, none starting with '-' (RFC 1123 §2.1)
  if (name.split('.').some((l) => l === '' || l.startsWith('-'))) return false
  return name === 'localhost' || /^([a-z0-9_-]+\.)+example\.com$/.test(name)
}

test('random request heads never get a 5xx; the Host decision is right; the app gets our forwarded headers', async (t) => {
  const tally = new StatusTally()
  await fc.assert(
    fc.asyncProperty(head, async (h) => {
      const { wire, authority } = render(h)
      const res = await exchange(target.gw.url, wire)
      tally.add(res.status)
      assertAnswered(res, wire)
      const seen = target.reached(res.header('x-request-id'))
      // HTTP/1.1 needs exactly one Host header, absolute-form target or not (RFC 9112 §3.2)
      const expectPass = authority !== null && h.hosts.length === 1 && trusted(authority)
      if (!expectPass) {
        assert.equal(res.status, 400, `untrusted or ambiguous host answered ${res.status}: ${JSON.stringify(wire)}`)
        assert.equal(seen, undefined)
        const code = assertGatewayError(res, false, wire)
        assert.ok(code === 'DRAWBRIDGE_ERR_HOST_NOT_ALLOWED' || code === 'DRAWBRIDGE_ERR_BAD_REQUEST', code)
        return
      }
      if (listsEndToEnd(h.connection)) {
        assert.equal(res.status, 400, `Connection: ${h.connection.join(', ')} answered ${res.status}`)
        assert.equal(seen, undefined)
        assert.equal(assertGatewayError(res, false, wire), 'DRAWBRIDGE_ERR_BAD_REQUEST')
        return
      }
      assert.equal(res.status, 200, `a trusted host was refused: ${JSON.stringify(wire)}\n${res.raw.slice(0, 400)}`)
      assert.ok(seen !== undefined)
      // Drawbridge's own forwarded headers, whatever the client sent (no trusted proxies configured)
      assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1')
      assert.equal(seen.headers['x-real-ip'], '127.0.0.1')
      assert.equal(seen.headers['x-forwarded-proto'], 'http')
      assert.equal(seen.headers['host'], authority)
      assert.equal(seen.headers['x-forwarded-host'], authority)
      assert.equal(seen.headers['forwarded'], undefined)
      assert.equal(seen.url, '/h?q=1')
      for (const name of hopByHop) assert.ok(!Object.hasOwn(seen.headers, name), `hop-by-hop ${name} was forwarded`)
      const listed = new Set(h.connection.map((n) => n.toLowerCase()))
      for (const name of listed) if (!replaced.has(name)) assert.ok(!Object.hasOwn(seen.headers, name), `${name} is named in Connection but was forwarded`)
      // end-to-end headers sent once arrive unchanged
      const counts = new Map<string, number>()
      for (const [n] of h.headers) counts.set(n.toLowerCase(), (counts.get(n.toLowerCase()) ?? 0) + 1)
      for (const [n, v] of h.headers) {
        const name = n.toLowerCase()
        if (counts.get(name) !== 1 || replaced.has(name) || listed.has(name) || hopByHop.includes(name) || name === 'forwarded') continue
        // a header named __proto__ cannot be an own property of a plain object: not forwarded
        if (name === '__proto__') continue
        // names with `_` (WSGI/CGI apps read them as `-`) and URL/client-IP headers are dropped
        // method-override headers too: the app would run another method than the one judged
        if (name.includes('_') || stripped.has(name) || overrideHeaders.has(name)) {
          assert.ok(!Object.hasOwn(seen.headers, name), `${name} was forwarded`)
          continue
        }
        assert.equal(seen.headers[name], ows(v), `${name} changed on the way`)
      }
      if (h.body !== undefined) {
        const data = h.body.chunks.join('')
        assert.equal(seen.body.toString('latin1'), data)
        assert.equal(seen.headers['content-length'], String(data.length))
      }
      // response hardening
      assert.equal(res.header('server'), undefined)
      assert.equal(res.header('x-powered-by'), undefined)
      assert.equal(res.header('x-content-type-options'), 'nosniff')
    }),
    fuzzParams(),
  )
  t.diagnostic(`statuses: ${tally}`)
  await assertAlive(target)
})

test('heads with odd bytes, huge or repeated framing headers get a JSON 4xx, never a 5xx or a silent close', async (t) => {
  const tally = new StatusTally()
  const anyByte = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c))
  const line = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(token(12), headerValue(24)).map(([n, v]) => `${n}: ${v}`) },
    { weight: 1, arbitrary: fc.tuple(token(12), fc.string({ unit: anyByte, maxLength: 24 })).map(([n, v]) => `${n}: ${v}`) },
    { weight: 1, arbitrary: fc.string({ unit: anyByte, maxLength: 24 }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'Content-Length: 1',
        'Content-Length: 5',
        'Content-Length: -1',
        'Content-Length: 1, 2',
        'Content-Length: 99999999999999999999',
        'Content-Length: 0x10',
        'Transfer-Encoding: gzip',
        'Transfer-Encoding: chunked, gzip',
        'Transfer-Encoding: identity',
        'Transfer-Encoding: chunked',
        'Host: localhost',
        'Host:',
        ' Host: localhost',
        'Host : localhost',
        'X-A: a\rb',
        'X-A: \x00',
        'X-A:: b',
        ': empty',
        'X-A',
        'Connection: upgrade',
        'Upgrade: h2c',
        'Expect: 100-continue',
        'X-Long: ' + 'x'.repeat(17_000),
      ),
    },
  )
  const raw = fc.record({
    method: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'OPTIONS', 'DELETE', 'HEAD', 'PATCH') },
      { weight: 1, arbitrary: fc.constantFrom('PROPFIND', 'get', 'G3T', 'PRI', 'TRACE') },
    ),
    version: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('HTTP/1.1', 'HTTP/1.0') },
      { weight: 1, arbitrary: fc.constantFrom('HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'http/1.1', '') },
    ),
    lines: fc.array(line, { maxLength: 4 }),
    host: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  })
  await fc.assert(
    fc.asyncProperty(raw, async (r) => {
      // Bytes that complete any small body the head announces (a chunked one too); only then, as
      // bytes after a complete request are a second, pipelined request.
      const tail = r.lines.some((l) => /^(content-length|transfer-encoding)\s*:/i.test(l)) ? '0\r\n\r\n' : ''
      const wire =
        `${r.method} /x ${r.version}\r\n` + (r.host ? 'Host: localhost\r\n' : '') + r.lines.map((l) => l + '\r\n').join('') + 'Connection: close\r\n\r\n' + tail
      const res = await exchange(target.gw.url, wire, { headRequest: r.method === 'HEAD', timeoutMs: 1500 })
      tally.add(res.status)
      assertAnswered(res, wire)
      if (res.status !== 200) assertGatewayError(res, r.method === 'HEAD', wire)
    }),
    fuzzParams(),
  )
  t.diagnostic(`statuses: ${tally}`)
  await assertAlive(target)
})

// Regression (found by the fuzzer, after the pipelining fix): when the parse error was in the body
// of the request in flight itself (a malformed chunk), 'clientError' waited for that request's
// answer, which never came: its body never ends. The connection was held with no answer and no
// deadline (body_timeout did not fire either), a cheap way to pin connections.
test('a malformed chunk in the body of the request in flight gets a prompt JSON 400', async () => {
  // ('5\r\nabc\r\n\r\n' is not malformed: it is an incomplete body, which body_timeout answers with 408)
  for (const body of ['nope\r\n', '3\r\nabc\r\n0\r\nx\r\n', '3\r\nabcdef\r\n']) {
    const res = await exchange(target.gw.url, `POST /x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`, {
      timeoutMs: 1000,
    })
    assert.equal(res.status, 400, `${JSON.stringify(body)}: status ${res.status} (${res.error})`)
    assertGatewayError(res, false, body)
  }
})

// Regression (found by the fuzzer): without a 'checkExpectation' listener node answered any other
// Expect value itself: a bare 417 without x-request-id, security headers or the JSON error body,
// and without an access-log line.
test('an Expect header other than 100-continue is answered by Drawbridge', async () => {
  const res = await exchange(target.gw.url, 'GET /x HTTP/1.1\r\nHost: localhost\r\nExpect: something-else\r\nConnection: close\r\n\r\n')
  assert.equal(res.status, 417)
  assert.equal(res.header('x-content-type-options'), 'nosniff')
  assertGatewayError(res, false, 'Expect: something-else')
})

// Regression (found while fuzzing): a malformed request pipelined behind a valid one made the
// 'clientError' handler write its raw 400 at once, while the valid request was still at the
// upstream. The client read that 400 as the answer to the valid request, which the app did
// process (RFC 9112 §9.3.2: answers go in order).
test('a malformed pipelined request does not take the place of the answer before it', async () => {
  const before = target.up.seen.length
  const res = await exchange(target.gw.url, 'POST /transfer HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\nGARBAGE\r\n\r\n', { timeoutMs: 2000 })
  await new Promise((resolve) => setTimeout(resolve, 500)) // let a forwarded request land
  const processed = target.up.seen.slice(before).some((s) => s.url === '/transfer')
  if (processed) assert.equal(res.status, 200, 'the app processed the request, but the client was told 400')
})

// Regression (found by the fuzzer): with `Connection: Upgrade` and `Upgrade: websocket` on a
// plain HTTP route, an upstream that does not take the upgrade (any Node app without an 'upgrade'
// listener) answers normally, and the WebSocket terminal relayed that answer raw: no error masking, no
// Set-Cookie hardening, no security headers.
test('an upgrade the upstream refuses still goes through error masking and cookie hardening', async () => {
  const up = await startUpstream((_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain', 'set-cookie': ['sid=1; Path=/', 'x=2; SameSite=None'] })
    res.end('Traceback (most recent call last):\n  File "/srv/app.py", line 3, in handler\nKeyError: \'missing\'\n')
  })
  const gw = await startGateway({ upstream: up.url })
  try {
    const res = await exchange(
      gw.url,
      'GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      { timeoutMs: 2000 },
    )
    assert.ok(res.status >= 400, `status ${res.status}`)
    assert.doesNotMatch(res.body, /Traceback/)
    for (const c of res.raw.match(/^set-cookie: .*$/gim) ?? []) {
      assert.match(c, /;\s*HttpOnly/i)
      assert.match(c, /;\s*SameSite=(Lax|Strict)/i)
    }
    assert.equal(res.header('x-content-type-options'), 'nosniff')
  } finally {
    await gw.close()
    await up.close()
  }
})
