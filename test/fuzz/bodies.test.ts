/**
 * Fuzzing the body parsers behind the WAF: well-formed bodies of every inspected
 * type (multipart with fields and files, url-encoded forms, JSON, XML), cut short at any byte,
 * with bytes flipped, inserted or dropped, under odd Content-Type values. Every answer is the
 * app's 200 or Drawbridge's own JSON 400/403 (never a 5xx, never a refused body reaching the
 * app), and the gateway still serves afterwards. A parser error nobody listens to surfaces as an
 * uncaught exception in this process, which fails the file.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { assertAlive, assertAnswered, assertGatewayError, exchange, fuzzParams, useFuzzTarget, StatusTally, watchUncaught } from './support.js'

const target = useFuzzTarget({ waf: true })

const word = fc.string({ unit: fc.constantFrom(...'abcxyz019_-. '.split('')), minLength: 1, maxLength: 10 })

/** A well-formed body and its Content-Type, as bytes. */
interface Body {
  readonly type: string
  readonly data: Buffer
}

const multipart: fc.Arbitrary<Body> = fc.array(fc.tuple(word, word, fc.option(word, { nil: undefined })), { minLength: 1, maxLength: 4 }).map((parts) => {
  const b = 'XyZzy'
  const text =
    parts
      .map(
        ([name, value, file]) =>
          `--${b}\r\nContent-Disposition: form-data; name="${name}"` +
          (file === undefined ? '' : `; filename="${file}.txt"\r\nContent-Type: application/octet-stream`) +
          `\r\n\r\n${value}\r\n`,
      )
      .join('') + `--${b}--\r\n`
  return { type: `multipart/form-data; boundary=${b}`, data: Buffer.from(text, 'utf8') }
})

const form: fc.Arbitrary<Body> = fc.array(fc.tuple(word, word), { minLength: 1, maxLength: 5 }).map((pairs) => ({
  type: 'application/x-www-form-urlencoded',
  data: Buffer.from(pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')),
}))

const jsonDoc: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, word, fc.integer(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('node'), { maxLength: 3 }),
  object: fc.dictionary(word, tie('node'), { maxKeys: 3 }),
})).node
const json: fc.Arbitrary<Body> = fc
  .tuple(jsonDoc, fc.constantFrom('application/json', 'application/vnd.api+json', 'application/problem+json; charset=utf-8'))
  .map(([doc, type]) => ({ type, data: Buffer.from(JSON.stringify({ doc }), 'utf8') }))

const xmlNode = fc.letrec<{ node: string; element: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    word.map((w) => w.replace(/[<&]/g, '')),
    tie('element'),
  ),
  element: fc
    .tuple(fc.constantFrom('a', 'b', 'item'), fc.option(word, { nil: undefined }), fc.array(tie('node'), { maxLength: 3 }))
    .map(([tag, attr, kids]) => `<${tag}${attr === undefined ? '' : ` id="${attr.replace(/["<&]/g, '')}"`}>${kids.join('')}</${tag}>`),
})).node
const xml: fc.Arbitrary<Body> = fc
  .tuple(xmlNode, fc.boolean(), fc.constantFrom('application/xml', 'text/xml', 'application/soap+xml'))
  .map(([inner, decl, type]) => ({ type, data: Buffer.from(`${decl ? '<?xml version="1.0" encoding="UTF-8"?>' : ''}<r>${inner}</r>`, 'utf8') }))

const body = fc.oneof(multipart, form, json, xml)

type Mutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'flip'; readonly at: number; readonly byte: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: number[] }
  | { readonly kind: 'drop'; readonly at: number; readonly n: number }

const at = fc.nat({ max: 1 << 16 })
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  at.map((i) => ({ kind: 'truncate' as const, at: i })),
  fc.tuple(at, fc.nat({ max: 255 })).map(([i, byte]) => ({ kind: 'flip' as const, at: i, byte })),
  fc
    .tuple(at, fc.array(fc.oneof(fc.nat({ max: 255 }), fc.constantFrom(0x22, 0x3c, 0x3e, 0x2d, 0x0d, 0x0a, 0x7b, 0x5b)), { minLength: 1, maxLength: 6 }))
    .map(([i, bytes]) => ({ kind: 'insert' as const, at: i, bytes })),
  fc.tuple(at, fc.integer({ min: 1, max: 12 })).map(([i, n]) => ({ kind: 'drop' as const, at: i, n })),
)

function mutate(data: Buffer, m: Mutation): Buffer {
  if (m.kind === 'none' || data.length === 0) return data
  const i = m.at % data.length
  switch (m.kind) {
    case 'truncate':
      return data.subarray(0, i)
    case 'flip': {
      const out = Buffer.from(data)
      out[i] = m.byte
      return out
    }
    case 'insert':
      return Buffer.concat([data.subarray(0, i), Buffer.from(m.bytes), data.subarray(i)])
    case 'drop':
      return Buffer.concat([data.subarray(0, i), data.subarray(i + m.n)])
  }
}

// Content-Type as sent: as generated, or with odd bytes, case and whitespace around it
const typeVariant = fc.constantFrom(
  (t: string) => t,
  (t: string) => t.toUpperCase(),
  (t: string) => t.replace(';', ' ;'),
  (t: string) => t.replace(';', '\t;'),
  (t: string) => t + '\x85',
  (t: string) => t + '\xa0',
  (t: string) => t + '; charset=utf-16',
  (t: string) => t + '; charset=UTF-7',
)

async function send(type: string, data: Buffer): Promise<{ status: number; input: unknown }> {
  const head = `POST /api/items HTTP/1.1\r\nHost: localhost\r\nContent-Type: ${type}\r\nContent-Length: ${data.length}\r\nConnection: close\r\n\r\n`
  const res = await exchange(target.gw.url, Buffer.concat([Buffer.from(head, 'latin1'), data]))
  const input = { type, body: data.toString('latin1') }
  assertAnswered(res, input)
  assert.ok([200, 400, 403].includes(res.status), `status ${res.status} for ${JSON.stringify(input)}`)
  if (res.status !== 200) {
    const code = assertGatewayError(res, false, input)
    assert.equal(target.reached(res.header('x-request-id')), undefined, `a ${res.status} (${code}) reached the app`)
  }
  return { status: res.status, input }
}

test('bodies of every inspected type, cut short or mutated anywhere: 200, 400 or 403, never a 5xx or a crash', async (t) => {
  const noneUncaught = watchUncaught()
  const tally = new StatusTally()
  await fc.assert(
    fc.asyncProperty(body, mutation, async (b, m) => {
      tally.add((await send(b.type, mutate(b.data, m))).status)
    }),
    fuzzParams(),
  )
  t.diagnostic(`statuses: ${tally}`)
  noneUncaught()
  await assertAlive(target)
})

test('regression: every truncation of a multipart body with a file part is answered (busboy errors on the file stream were uncaught)', async (t) => {
  const data = Buffer.from(
    '--B\r\nContent-Disposition: form-data; name="t"\r\n\r\nhello\r\n' +
      '--B\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nfile content\r\n--B--\r\n',
  )
  const noneUncaught = watchUncaught()
  const tally = new StatusTally()
  for (let i = 1; i <= data.length; i++) tally.add((await send('multipart/form-data; boundary=B', data.subarray(0, i))).status)
  // the whole body is the only one that parses
  assert.equal((await send('multipart/form-data; boundary=B', data)).status, 200)
  t.diagnostic(`truncations: ${tally}`)
  noneUncaught()
  await assertAlive(target)
})

test('odd Content-Type spellings around well-formed bodies: refused or judged, never a 5xx', async (t) => {
  const tally = new StatusTally()
  await fc.assert(
    fc.asyncProperty(body, typeVariant, async (b, variant) => {
      const { status } = await send(variant(b.type), b.data)
      tally.add(status)
    }),
    { ...fuzzParams(), numRuns: Math.min(60, fuzzParams().numRuns ?? 60) },
  )
  t.diagnostic(`statuses: ${tally}`)
  await assertAlive(target)
})
