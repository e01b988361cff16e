/**
 * Fuzzing CORS: random Origin and Access-Control-Request-* headers on OPTIONS, GET
 * and POST. Never a 5xx; a preflight is answered at the edge and never forwarded; an origin
 * outside the allowlist never gets Access-Control-Allow-Origin.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
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

// The fuzz target allows: https://app.example.com, https://*.example.org, http://localhost:3000
// (support.ts), credentials on, default methods, headers Content-Type, Authorization, X-Custom.
const allowedMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'])
const allowedHeaders = new Set(['content-type', 'authorization', 'x-custom'])

/** Our own reading of the allowlist, independent of compileOriginMatcher. */
function originAllowed(origin: string): boolean {
  const o = origin.toLowerCase()
  return o === 'https://app.example.com' || o === 'http://localhost:3000' || /^https:\/\/[a-z0-9-]+(\.[a-z0-9-]+)*\.example\.org$/.test(o)
}

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?$/)
const builtOrigin = fc
  .record({
    scheme: fc.constantFrom('https://', 'https://', 'http://', 'HTTPS://', 'ftp://', 'https:/', '//', ''),
    user: sometimes(fc.constantFrom('user@', 'app.example.com@', 'a:b@'), 8),
    labels: fc.array(label, { maxLength: 2 }),
    domain: fc.constantFrom(
      'example.org',
      'example.com',
      'app.example.com',
      'localhost',
      'example.org.evil.com',
      'evilexample.org',
      'example.org.',
      'EXAMPLE.ORG',
    ),
    port: sometimes(fc.constantFrom(':443', ':3000', ':80', ':8443', ':'), 4),
    tail: sometimes(fc.constantFrom('/', '/x', '?', '#', '.', '%2e', '\\', ' ', ',https://app.example.com'), 5),
  })
  .map((o) => o.scheme + (o.user ?? '') + [...o.labels, o.domain].join('.') + (o.port ?? '') + (o.tail ?? ''))

const allowedOrigin = fc.oneof(
  fc.constantFrom('https://app.example.com', 'http://localhost:3000'),
  fc.array(label, { minLength: 1, maxLength: 3 }).map((ls) => `https://${ls.join('.')}.example.org`),
)

const origin = fc.oneof(
  { weight: 3, arbitrary: allowedOrigin },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'https://app.example.com',
      'https://APP.example.com',
      'http://app.example.com',
      'https://app.example.com:443',
      'https://app.example.com/',
      'https://a.example.org',
      'https://a.b.example.org',
      'https://example.org',
      'https://.example.org',
      'https://a..example.org',
      'https://a.example.org.evil.com',
      'https://evil.com/.example.org',
      'https://a_b.example.org',
      'http://localhost:3000',
      'http://localhost:3001',
      'http://localhost',
      'null',
      'null ',
      '*',
      '',
      'file://',
      'https://app.example.com, https://evil.com',
    ),
  },
  { weight: 3, arbitrary: builtOrigin },
  { weight: 1, arbitrary: headerValue(40) },
)

const requestMethod = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE') },
  { weight: 2, arbitrary: fc.constantFrom('OPTIONS', 'CONNECT', 'TRACE', 'put', ' PUT ', 'PUT, DELETE', '') },
  { weight: 1, arbitrary: token(10) },
  { weight: 1, arbitrary: headerValue(16) },
)

const requestHeaderName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('Content-Type', 'content-type', 'AUTHORIZATION', 'X-Custom', 'x-custom', ' x-custom ') },
  { weight: 1, arbitrary: fc.constantFrom('X-Other', 'Cookie', 'Origin', '', 'Content-Type;x') },
  { weight: 1, arbitrary: token(12) },
)
const requestHeaders = fc
  .tuple(fc.array(requestHeaderName, { minLength: 1, maxLength: 3 }), fc.constantFrom(',', ', ', ' , ', ',,'))
  .map(([names, sep]) => names.join(sep))

const corsCase = fc.record({
  method: fc.constantFrom('OPTIONS', 'OPTIONS', 'OPTIONS', 'GET', 'POST'),
  origins: fc.oneof({ weight: 8, arbitrary: fc.array(origin, { minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.array(origin, { maxLength: 2 }) }),
  acrm: fc.oneof({ weight: 4, arbitrary: requestMethod }, { weight: 1, arbitrary: fc.constant(undefined) }),
  acrh: sometimes(requestHeaders, 2),
})

type CorsCase = typeof corsCase extends fc.Arbitrary<infer T> ? T : never

function render(c: CorsCase): string {
  let wire = `${c.method} /cors HTTP/1.1\r\nHost: localhost\r\n`
  for (const o of c.origins) wire += `Origin: ${o}\r\n`
  if (c.acrm !== undefined) wire += `Access-Control-Request-Method: ${c.acrm}\r\n`
  if (c.acrh !== undefined) wire += `Access-Control-Request-Headers: ${c.acrh}\r\n`
  if (c.method === 'POST') wire += 'Content-Length: 0\r\n'
  return wire + 'Connection: close\r\n\r\n'
}

/** As the parser hands it over: repeated headers joined with ', ', the ends trimmed. */
const joined = (values: readonly string[]): string => values.map(ows).join(', ')

test('random Origin and Access-Control-Request-* headers: never a 5xx, preflights stay at the edge, strangers get no CORS headers', async (t) => {
  const tally = new StatusTally()
  let preflights = 0
  await fc.assert(
    fc.asyncProperty(corsCase, async (c) => {
      const wire = render(c)
      const res = await exchange(target.gw.url, wire)
      tally.add(res.status)
      assertAnswered(res, wire)
      const seen = target.reached(res.header('x-request-id'))
      const origin = c.origins.length === 0 ? undefined : joined(c.origins)
      const allowed = origin !== undefined && originAllowed(origin)
      const acao = res.header('access-control-allow-origin')
      if (!allowed) assert.equal(acao, undefined, `Access-Control-Allow-Origin for ${JSON.stringify(origin)}`)
      assert.notEqual(acao, '*', 'a wildcard with credentials')
      assert.match(res.header('vary') ?? '', /\borigin\b/i, 'Vary: Origin on every answer')

      const preflight = c.method === 'OPTIONS' && origin !== undefined && c.acrm !== undefined
      if (!preflight) {
        assert.equal(res.status, 200, `not a preflight, so forwarded: ${JSON.stringify(wire)}`)
        assert.ok(seen !== undefined)
        if (allowed) {
          assert.equal(acao, origin)
          assert.equal(res.header('access-control-allow-credentials'), 'true')
        }
        return
      }
      preflights++
      assert.equal(seen, undefined, `a preflight was forwarded: ${JSON.stringify(wire)}`)
      const method = ows(c.acrm!).trim()
      const names = (c.acrh ?? '')
        .split(',')
        .map((n) => n.trim().toLowerCase())
        .filter((n) => n !== '')
      const ok = allowed && allowedMethods.has(method) && names.every((n) => allowedHeaders.has(n))
      if (!ok) {
        assert.equal(res.status, 403, `refused preflight answered ${res.status}: ${JSON.stringify(wire)}`)
        assert.equal(assertGatewayError(res, false, wire), 'DRAWBRIDGE_ERR_CORS_REJECTED')
        assert.equal(acao, undefined)
        return
      }
      assert.equal(res.status, 204, `allowed preflight answered ${res.status}: ${JSON.stringify(wire)}`)
      assert.equal(acao, origin)
      assert.equal(res.header('access-control-allow-credentials'), 'true')
      assert.ok(
        (res.header('access-control-allow-methods') ?? '')
          .split(',')
          .map((m) => m.trim())
          .includes(method) || ['GET', 'HEAD', 'POST'].includes(method),
      )
    }),
    fuzzParams(),
  )
  t.diagnostic(`statuses: ${tally}; preflights: ${preflights}`)
  // the property that matters most, over the whole run: no OPTIONS with Origin and a request method reached the app
  assert.equal(
    target.up.seen.filter((s) => s.method === 'OPTIONS' && s.headers.origin !== undefined && s.headers['access-control-request-method'] !== undefined).length,
    0,
  )
  await assertAlive(target)
})
