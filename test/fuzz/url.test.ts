/**
 * Fuzzing request targets: arbitrary paths and queries over a raw socket never get
 * a 5xx or a silent close, refused targets never reach the app, forwarded ones reach it as sent,
 * and no spelling of a docs path that an upstream router would read as /docs gets past
 * production docs hiding.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { assertAlive, assertAnswered, assertGatewayError, exchange, fuzzParams, sometimes, useFuzzTarget, StatusTally, utf8Bytes } from './support.js'

const target = useFuzzTarget()

const pct = (s: string): string => [...Buffer.from(s, 'utf8')].map((b) => '%' + b.toString(16).padStart(2, '0')).join('')

/** Segments that trip decoders and normalisers but are fine by themselves. */
const tricky = [
  '',
  '.',
  '..',
  '...',
  '%2e',
  '%2E%2e',
  '.%2e',
  '%2f',
  '%2F',
  '%5c',
  '%5C..',
  '\\',
  '..\\',
  ';',
  'a;b=c',
  ';jsessionid=1',
  '%7f',
  '%e2%80%ae',
  '%ef%bb%bf',
  '%252e',
  '~',
  '*',
  ':',
  '@',
  "!$&'()*+,=",
  '?',
  '??',
  '&',
  '=',
  'docs',
  'DOCS',
  'openapi.json',
  'redoc',
  'api',
  'a.b',
  'x..y',
  '%20',
  '+',
  '"',
  '<script>',
  '{x}',
  '|',
  '^',
  '`',
]
/** Segments a correct gateway refuses with a 400: bad escapes, invalid UTF-8, NUL and controls. */
const refused = ['%00', '%0a', '%0d%0a', '%ff', '%c0%ae', '%c0%af', '%ed%a0%80', '%', '%2', '%zz', '%%32%65', '%u002e']

const segment = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...tricky) },
  { weight: 8, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 10 }).map((s) => s.replaceAll(' ', '').replaceAll('%', '%25')) },
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }).map(pct) },
  { weight: 1, arbitrary: fc.constantFrom(...refused) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 6 }) },
  // very long segments: 414 above limits.max_url_length, 431 above limits.max_header_bytes
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((n) => 'a'.repeat(n)) },
)

/** Raw bytes the parser must refuse (non-ASCII, controls, spaces, CR/LF): always a JSON 400. */
const poison = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }).map(utf8Bytes),
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 4 }),
  fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 4 }),
)

const query = fc.option(
  fc
    .array(fc.tuple(segment, fc.option(segment, { nil: undefined })), { maxLength: 4 })
    .map((pairs) => pairs.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join('&')),
  { nil: undefined },
)

const authority = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('localhost', 'LOCALHOST:8080', 'a.example.com', 'localhost.') },
  { weight: 1, arbitrary: fc.constantFrom('evil.com', '[::1]', 'user@localhost', 'localhost:', '', 'localhost:8080:80') },
)

const requestTarget = fc.record({
  method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'),
  absolute: sometimes(fc.tuple(fc.constantFrom('http://', 'HTTP://', 'https://'), authority), 4),
  leading: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('/', '/', '/', '//', '/./', '/\\') },
    { weight: 1, arbitrary: fc.constantFrom('', '\\', '*', './') }, // not a target: 400
  ),
  segments: fc.array(segment, { maxLength: 5 }),
  trailing: fc.constantFrom('', '', '/', '//', '/.', '/..', ';x'),
  query,
  poison: sometimes(fc.tuple(poison, fc.nat()), 6),
})

type Case = typeof requestTarget extends fc.Arbitrary<infer T> ? T : never

function targetOf(c: Case): string {
  const path = c.leading + c.segments.join('/') + c.trailing + (c.query === undefined ? '' : '?' + c.query)
  const t = c.absolute === undefined ? path : c.absolute[0] + c.absolute[1] + path
  if (c.poison === undefined) return t
  const at = c.poison[1] % (t.length + 1)
  return t.slice(0, at) + c.poison[0] + t.slice(at)
}

/** What the upstream should receive for a forwarded target: the path and query as sent. */
function forwardedForm(target: string): string {
  let rest = target
  const m = /^https?:\/\/[^/?#@]*(.*)$/i.exec(target)
  if (m !== null) rest = m[1] === '' || m[1]!.startsWith('?') ? '/' + m[1] : m[1]!
  return rest.endsWith('?') && rest.indexOf('?') === rest.length - 1 ? rest.slice(0, -1) : rest
}

const printable = (s: string): boolean => /^[\x21-\x7e]*$/.test(s)

test('random request targets never get a 5xx or a silent close; refused ones never reach the app', async (t) => {
  const tally = new StatusTally()
  await fc.assert(
    fc.asyncProperty(requestTarget, async (c) => {
      const line = targetOf(c)
      const body = c.method === 'POST' || c.method === 'PUT' || c.method === 'PATCH' ? 'content-length: 0\r\n' : ''
      const head = c.method === 'HEAD'
      const res = await exchange(target.gw.url, `${c.method} ${line} HTTP/1.1\r\nhost: localhost\r\n${body}connection: close\r\n\r\n`, { headRequest: head })
      tally.add(res.status)
      assertAnswered(res, line)
      const seen = target.reached(res.header('x-request-id'))
      if (res.status === 200) {
        // the echo upstream answers 200 to everything: this one was forwarded
        assert.ok(seen !== undefined, `a 200 that did not come from the upstream for ${JSON.stringify(line)}`)
        if (printable(line)) assert.equal(seen.url, forwardedForm(line), 'the target is forwarded as received')
        return
      }
      assert.equal(seen, undefined, `a refused request (${res.status}) reached the app: ${JSON.stringify(line)}`)
      assertGatewayError(res, head, line)
    }),
    fuzzParams(),
  )
  t.diagnostic(`statuses: ${tally}`)
  await assertAlive(target)
})

// ---- docs hiding ----------------------------------------------------------------------------

const docsPaths = new Set(['/docs', '/redoc', '/openapi.json', '/docs/oauth2-redirect'])

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
const beforeQuery = (t: string): string => t.split('?')[0]!

/** How common upstream routers read a target's path. */
const readings = {
  // Starlette on h11: unquote of the part before '?'
  starlette: (t: string) => decode(beforeQuery(t)),
  // routers and proxies that merge slashes (nginx merge_slashes, Spring)
  mergedSlashes: (t: string) => decode(beforeQuery(t)).replace(/\/{2,}/g, '/'),
  // the WHATWG URL parser: dot segments, '\\' as '/', %2e as '.'
  whatwg: (t: string) => {
    try {
      return decode(new URL('http://h' + t).pathname)
    } catch {
      return ''
    }
  },
  // Servlet containers (Tomcat, Jetty): ';params' dropped from each raw segment, then decoded
  servlet: (t: string) => decode(beforeQuery(t).replace(/;[^/]*/g, '')),
} as const

type Reading = keyof typeof readings

/** Each reading, case-insensitive and without a trailing slash (routers differ on both). */
function upstreamReadings(t: string, which: readonly Reading[]): string[] {
  return which.map((r) => readings[r](t)).map((p) => (p.length > 1 ? p.replace(/\/+$/, '') : p).toLowerCase())
}

const hexCase = fc.boolean()
const obfuscatedChar = (ch: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(ch) },
    { weight: 1, arbitrary: fc.constant(ch.toUpperCase()) },
    { weight: 1, arbitrary: hexCase.map((upper) => (upper ? pct(ch).toUpperCase() : pct(ch))) },
  )
const obfuscated = (seg: string): fc.Arbitrary<string> => fc.tuple(...[...seg].map(obfuscatedChar)).map((a) => a.join(''))

const separator = fc.constantFrom('/', '/', '/', '//', '\\', '/./', '/%2e/', '/x/../', '/x/%2e%2e/', '/x/%2E%2E\\', '%2f', '/.//', '/;p/')
const params = fc.constantFrom('', '', '', ';', ';x=1', ';jsessionid=a')
const decoys = fc.constantFrom('doc', 'docsx', 'docs.', 'api', 'openapi', 'json', 'redocs', 'oauth2-redirect.html')

const docsTarget = fc
  .record({
    path: fc.constantFrom(['docs'], ['redoc'], ['openapi.json'], ['docs', 'oauth2-redirect']),
    parts: fc.array(fc.tuple(separator, fc.boolean(), params), { minLength: 2, maxLength: 2 }),
    segments: fc.array(fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: decoys }), { minLength: 2, maxLength: 2 }),
    trailing: fc.constantFrom('', '', '/', '/.', '//', '/%2e', '/%2E/', '?', '?a=1', '/?x=/docs', ';x', '%2f', '%2F.'),
    absolute: fc.boolean(),
  })
  .chain((r) =>
    fc.tuple(...r.path.map((seg, i) => (r.segments[i] !== null ? fc.constant(r.segments[i]!) : obfuscated(seg)))).map((segs) => {
      let t = ''
      segs.forEach((s, i) => {
        const [sep, , param] = r.parts[i]!
        t += (i === 0 && !sep.startsWith('/') ? '/' : '') + sep + s + param
      })
      t += r.trailing
      return { target: t, absolute: r.absolute }
    }),
  )

/** Sends docs-like targets; whatever reaches the app must not read as a docs path under `which`. */
async function docsHidingHolds(t: TestContext, which: readonly Reading[]): Promise<void> {
  const tally = new StatusTally()
  await fc.assert(
    fc.asyncProperty(docsTarget, async ({ target: path, absolute }) => {
      const line = absolute ? 'http://localhost' + path : path
      const res = await exchange(target.gw.url, `GET ${line} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n`)
      tally.add(res.status)
      assertAnswered(res, line)
      const seen = target.reached(res.header('x-request-id'))
      if (seen === undefined) {
        const code = assertGatewayError(res, false, line)
        assert.ok(code === 'DRAWBRIDGE_ERR_NOT_FOUND' || code === 'DRAWBRIDGE_ERR_BAD_REQUEST', code)
        return
      }
      const read = upstreamReadings(seen.url, which)
      assert.ok(!read.some((p) => docsPaths.has(p)), `${JSON.stringify(line)} reached the app, which may read it as ${read.join(' | ')}`)
    }),
    fuzzParams(),
  )
  t.diagnostic(`statuses: ${tally}`)
  await assertAlive(target)
}

test('no spelling of /docs, /redoc or /openapi.json that an upstream router would route gets past docs hiding', async (t) => {
  await docsHidingHolds(t, ['starlette', 'mergedSlashes', 'whatwg'])
})

// Regression (found by the fuzzer): canonical-path.ts decoded first ('%2f' -> '/', '\\' -> '/')
// and dropped ';params' afterwards, per decoded segment; servlet containers drop ';params' from the
// raw segment first. So /docs;%2fx and /docs;\\x canonicalised to /docs/x and were forwarded, and
// Tomcat/Jetty (Spring) route them to /docs.
test('docs hiding holds for servlet-style ;params readings', async (t) => {
  for (const line of ['/docs;%2fx', '/docs;\\x', '/openapi.json;a%2F..%2Fb', '/redoc;%2f%2e%2e%2fx']) {
    const res = await exchange(target.gw.url, `GET ${line} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n`)
    assert.ok(target.reached(res.header('x-request-id')) === undefined, `${line} reached the app`)
  }
  await docsHidingHolds(t, ['servlet'])
})

// Regression (found by the fuzzer): node keeps '#fragment' in req.url, the canonical path kept it
// as a literal, and the target was forwarded as is; WHATWG URL, Node's url.parse (Express, Fastify's
// router) and uvicorn with httptools drop the fragment and route /docs#x to /docs.
test('a #fragment in the target does not hide a docs path from docs hiding', async () => {
  for (const line of ['/docs#x', '/openapi.json#', '/docs/oauth2-redirect#a', '/redoc#/', 'http://localhost/docs#x']) {
    const res = await exchange(target.gw.url, `GET ${line} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n`)
    assert.ok(target.reached(res.header('x-request-id')) === undefined, `${line} reached the app`)
    assert.ok(res.status === 404 || res.status === 400, `${line}: ${res.status}`)
  }
})
