/**
 * Fuzzing cookies: random Cookie request headers reach the app unchanged and never
 * cost a 5xx; random upstream Set-Cookie values come out hardened (HttpOnly unless named in
 * cookies.script_readable, a SameSite attribute, Secure for __Secure-/__Host- names) with the
 * name=value part before the first ';' untouched.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  assertAlive,
  assertAnswered,
  exchange,
  fuzzParams,
  ows,
  sameSiteNone,
  scriptReadable,
  setCookiesHeader,
  useFuzzTarget,
  StatusTally,
  token,
  utf8Bytes,
} from './support.js'

const target = useFuzzTarget()

// What a header value may hold on the wire (HTAB, SP, VCHAR, obs-text), with ';' and '=' frequent.
const cookieChar = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 2, arbitrary: fc.constantFrom(';', '=', ' ', '"', ',', '\\') },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constant('\t') },
)

const name = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'session',
      'sid',
      'csrf_token',
      'embed',
      '__Host-id',
      '__Secure-t',
      '__host-x',
      'prefs',
      ' csrf_token',
      'csrf_token ',
      'SameSite',
      'HttpOnly',
    ),
  },
  { weight: 3, arbitrary: token(12) },
  { weight: 1, arbitrary: fc.string({ unit: cookieChar, maxLength: 8 }) },
)

const value = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.~!*'.split('')), maxLength: 16 }) },
  { weight: 1, arbitrary: fc.base64String({ maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: cookieChar, maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }).map(utf8Bytes) },
  { weight: 1, arbitrary: fc.constantFrom('', '""', '"a b"', 'a=b=c', '=', 'x'.repeat(900)) },
)

const attribute = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'Path=/',
      'Domain=example.com',
      'Max-Age=0',
      'Expires=Wed, 21 Oct 2015 07:28:00 GMT',
      'Secure',
      'secure',
      'HttpOnly',
      'httponly',
      'HTTPONLY=false',
      ' HttpOnly ',
      'SameSite=None',
      'SameSite=none',
      'samesite=Strict',
      'SameSite = Strict',
      'SameSite=Lax',
      'SameSite',
      'SameSite=',
      'SameSite=bogus',
      'Partitioned',
      'Priority=High',
      '',
      ' ',
      'HttpOnlyX',
      'Http Only',
      'Same-Site=None',
    ),
  },
  { weight: 1, arbitrary: fc.tuple(token(10), fc.option(value, { nil: undefined })).map(([k, v]) => (v === undefined ? k : `${k}=${v}`)) },
  { weight: 1, arbitrary: fc.string({ unit: cookieChar, maxLength: 12 }) },
)

const setCookie = fc
  .tuple(
    fc.oneof({ weight: 6, arbitrary: fc.tuple(name, value).map(([n, v]) => `${n}=${v}`) }, { weight: 1, arbitrary: value }),
    fc.array(fc.tuple(fc.constantFrom(';', '; ', ';  ', ' ;', ';\t', ' ; '), attribute), { maxLength: 6 }),
  )
  .map(([pair, attrs]) => pair + attrs.map(([sep, a]) => sep + a).join(''))

/** Attributes as a user agent reads them (RFC 6265 §5.2): split on ';', name before '=', trimmed. */
function attributes(setCookieValue: string): { name: string; value: string }[] {
  return setCookieValue
    .split(';')
    .slice(1)
    .map((a) => {
      const eq = a.indexOf('=')
      return {
        name: (eq === -1 ? a : a.slice(0, eq)).trim().toLowerCase(),
        value:
          eq === -1
            ? ''
            : a
                .slice(eq + 1)
                .trim()
                .toLowerCase(),
      }
    })
}

function cookieName(setCookieValue: string): string {
  const pair = setCookieValue.split(';')[0]!
  const eq = pair.indexOf('=')
  return eq === -1 ? '' : pair.slice(0, eq).trim()
}

/** The SameSite a user agent applies: the last SameSite attribute wins (RFC 6265bis §5.6.7). */
function lastSameSite(setCookieValue: string): string | null {
  const s = attributes(setCookieValue).filter((a) => a.name === 'samesite')
  return s.length === 0 ? null : s[s.length - 1]!.value
}

const setCookieLines = (head: string): string[] => [...head.matchAll(/^set-cookie: ?(.*)$/gim)].map((m) => m[1]!)

test('upstream Set-Cookie values come out hardened, their name=value untouched', async (t) => {
  const tally = new StatusTally()
  await fc.assert(
    fc.asyncProperty(fc.array(setCookie, { minLength: 1, maxLength: 4 }), async (cookies) => {
      const wire = `GET /c HTTP/1.1\r\nHost: localhost\r\nx-set-cookies: ${setCookiesHeader(cookies)}\r\nConnection: close\r\n\r\n`
      const res = await exchange(target.gw.url, wire)
      tally.add(res.status)
      assertAnswered(res, cookies)
      assert.equal(res.status, 200)
      assert.equal(res.header('x-fuzz-bad-spec'), undefined, 'the upstream could not send these cookies')
      const out = setCookieLines(res.head)
      assert.equal(out.length, cookies.length, 'one Set-Cookie out for each one in')
      cookies.forEach((raw, i) => {
        const sent = ows(raw) // the upstream's parser trims optional whitespace around the value
        const got = out[i]!
        const name = cookieName(sent)
        const attrs = attributes(got)
        // (undici keeps trailing whitespace of a field value, which then sits before the first ';')
        assert.equal(ows(got.split(';')[0]!), ows(sent.split(';')[0]!), 'name=value before the first ";" is unchanged')
        const hadHttpOnly = attributes(sent).some((a) => a.name === 'httponly')
        const hasHttpOnly = attrs.some((a) => a.name === 'httponly')
        if ((scriptReadable as readonly string[]).includes(name)) assert.equal(hasHttpOnly, hadHttpOnly, `${name} is script-readable`)
        else assert.ok(hasHttpOnly, `no HttpOnly on ${JSON.stringify(got)}`)
        const before = lastSameSite(sent)
        const after = lastSameSite(got)
        assert.ok(after === 'lax' || after === 'strict' || after === 'none', `SameSite ${after} on ${JSON.stringify(got)}`)
        if (before === 'strict') assert.equal(after, 'strict')
        else if (before === 'none' && (sameSiteNone as readonly string[]).includes(name)) assert.equal(after, 'none')
        else assert.equal(after, 'lax', `from ${JSON.stringify(sent)} to ${JSON.stringify(got)}`)
        if (name.startsWith('__Secure-') || name.startsWith('__Host-'))
          assert.ok(
            attrs.some((a) => a.name === 'secure'),
            `no Secure on ${name}`,
          )
        // nothing else the upstream said is lost
        const kept = got
          .split(';')
          .slice(1)
          .map((a) => a.trim())
        for (const a of sent
          .split(';')
          .slice(1)
          .map((x) => x.trim())) {
          if (a === '' || /^samesite\s*(=|$)/i.test(a)) continue
          assert.ok(kept.includes(a), `attribute ${JSON.stringify(a)} dropped from ${JSON.stringify(got)}`)
        }
      })
    }),
    fuzzParams(),
  )
  t.diagnostic(`statuses: ${tally}`)
  await assertAlive(target)
})

const cookiePair = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(name, value).map(([n, v]) => `${n}=${v}`) },
  { weight: 1, arbitrary: fc.string({ unit: cookieChar, maxLength: 40 }) },
)
const cookieHeader = fc
  .tuple(fc.array(cookiePair, { minLength: 1, maxLength: 8 }), fc.constantFrom('; ', ';', ', ', ' ; ', ';;'))
  .map(([pairs, sep]) => pairs.join(sep))

test('random Cookie request headers reach the app unchanged and never cost a 5xx', async (t) => {
  const tally = new StatusTally()
  await fc.assert(
    fc.asyncProperty(fc.array(cookieHeader, { minLength: 1, maxLength: 2 }), async (headers) => {
      const wire = `GET /c HTTP/1.1\r\nHost: localhost\r\n${headers.map((h) => `Cookie: ${h}\r\n`).join('')}Connection: close\r\n\r\n`
      const res = await exchange(target.gw.url, wire)
      tally.add(res.status)
      assertAnswered(res, headers)
      assert.equal(res.status, 200)
      const seen = target.reached(res.header('x-request-id'))
      assert.ok(seen !== undefined)
      // node joins repeated Cookie headers with '; '; the upstream's parser trims the ends again
      assert.equal(seen.headers.cookie, ows(headers.map(ows).join('; ')))
    }),
    fuzzParams(),
  )
  t.diagnostic(`statuses: ${tally}`)
  await assertAlive(target)
})
