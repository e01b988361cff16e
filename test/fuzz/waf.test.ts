/**
 * Fuzzing the WAF: random query strings, cookies, headers and bodies of
 * every inspected content type, mixed with pieces of attacks, never cost a 5xx or a crash. Every
 * answer is the app's 200, or Drawbridge's own JSON 400 (malformed body) or 403 (blocked), and a
 * blocked request never reaches the app.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { assertAlive, assertAnswered, assertGatewayError, exchange, fuzzParams, useFuzzTarget, StatusTally, utf8Bytes } from './support.js'

const target = useFuzzTarget({ waf: true })

// Fragments of attacks and of the syntax the decoders and tokenizers care about.
const fragment = fc.constantFrom(
  "'",
  '"',
  '`',
  ';',
  '|',
  '&&',
  '$(',
  '${',
  '{{',
  '}}',
  '<',
  '>',
  '</',
  '<script>',
  'onerror=',
  'javascript:',
  '../',
  '..\\',
  '%2e%2e%2f',
  '%',
  '%25',
  '%u0027',
  '&#x3c;',
  '&lt;',
  '\\u003c',
  '\\x3c',
  'UNION SELECT',
  ' OR 1=1',
  '--',
  '/*',
  '*/',
  '#',
  'sleep(5)',
  '/etc/passwd',
  'http://127.0.0.1/',
  'file:///',
  '${jndi:ldap://x}',
  '$ne',
  '[$gt]',
  '__proto__',
  '\r\n',
  '\u0000',
  '\u00c0\u00ae',
  'YWxlcnQoMSk=',
  '0x27',
  ' ',
  '=',
  '+',
  'é',
  '💥',
)
const word = fc.string({ unit: fc.constantFrom(...'abcxyz019_-.'.split('')), maxLength: 8 })
const messy = fc.array(fc.oneof({ weight: 2, arbitrary: fragment }, { weight: 3, arbitrary: word }), { maxLength: 8 }).map((a) => a.join(''))

const pct = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+')
const query = fc
  .array(fc.tuple(messy, messy, fc.boolean()), { maxLength: 5 })
  .map((pairs) => pairs.map(([k, v, raw]) => (raw ? `${k}=${v}` : `${pct(k)}=${pct(v)}`).replace(/[\s#]/g, '_')).join('&'))

// JSON documents with messy strings as keys and values, nested a little
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, messy, fc.integer(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('node'), { maxLength: 3 }),
  object: fc.dictionary(messy, tie('node'), { maxKeys: 3 }),
})).node

const body = fc.oneof(
  json.map((doc) => ({ type: 'application/json', data: JSON.stringify(doc) })),
  fc.string({ maxLength: 40 }).map((s) => ({ type: 'application/json', data: s })), // mostly malformed JSON
  query.map((q) => ({ type: 'application/x-www-form-urlencoded', data: q })),
  fc.tuple(messy, messy).map(([k, v]) => ({
    type: 'multipart/form-data; boundary=XyZ',
    data: `--XyZ\r\nContent-Disposition: form-data; name="${k.replace(/["\r\n]/g, '')}"\r\n\r\n${v}\r\n--XyZ--\r\n`,
  })),
  fc.tuple(word, messy).map(([tag, v]) => ({ type: 'application/xml', data: `<r${tag.replace(/[^a-z]/g, '')}>${v}</r${tag.replace(/[^a-z]/g, '')}>` })),
  messy.map((s) => ({ type: 'text/plain', data: s })),
)

const headerSafe = (s: string): string => utf8Bytes(s).replace(/[\r\n\u0000]/g, ' ')

test('random inputs to the WAF: never a 5xx; 200, 400 or 403, and a block never reaches the app', async (t) => {
  const tally = new StatusTally()
  await fc.assert(
    fc.asyncProperty(query, messy, messy, fc.option(body, { nil: undefined }), async (q, cookie, ua, b) => {
      const data = b === undefined ? '' : utf8Bytes(b.data)
      const wire =
        `POST /api/items${q === '' ? '' : '?' + q} HTTP/1.1\r\nHost: localhost\r\nCookie: c=${headerSafe(cookie)}\r\nUser-Agent: ${headerSafe(ua)}\r\n` +
        (b === undefined ? '' : `Content-Type: ${b.type}\r\n`) +
        `Content-Length: ${Buffer.byteLength(data, 'latin1')}\r\nConnection: close\r\n\r\n${data}`
      const input = { q, cookie, ua, b }
      const res = await exchange(target.gw.url, wire)
      tally.add(res.status)
      assertAnswered(res, input)
      assert.ok([200, 400, 403].includes(res.status), `status ${res.status} for ${JSON.stringify(input)}`)
      if (res.status !== 200) {
        const code = assertGatewayError(res, false, input)
        const id = res.header('x-request-id')
        assert.equal(target.reached(id), undefined, `a ${res.status} (${code}) reached the app`)
      }
    }),
    fuzzParams(),
  )
  t.diagnostic(`statuses: ${tally}`)
  await assertAlive(target)
})
