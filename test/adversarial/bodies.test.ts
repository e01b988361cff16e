/**
 * Body type confusions: the WAF must inspect a body the way the app will parse it. FastAPI parses
 * a JSON body whatever its Content-Type says (or without one), Python's json.loads detects UTF-16
 * and UTF-32 on its own, and an app may call get_json(force=True). So for each spelling of the
 * type (missing, odd whitespace, `+json`, a stray byte, upper case, a charset, a type named in
 * `Connection`), a body holding an injection is either refused by Drawbridge (its own 4xx) or
 * blocked by the WAF (403): never parsed by the app.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { pythonServers, skipReason } from '../helpers/python-apps.js'
import { assertNoInternalError, send, useTargets, verdictOf, type RawRequest } from './support.js'

const targets = useTargets()

const injection = { name: "x' UNION SELECT password FROM users--", note: 'an order' }
const benign = { name: 'Paper clips', note: "Bob's order, 2 boxes" }
const json = (v: unknown) => JSON.stringify(v)

/** UTF-16 (little or big endian, with or without a BOM) and UTF-32: json.loads reads them all. */
function utf16le(s: string, bom = false): Buffer {
  return Buffer.concat([bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(s, 'utf16le')])
}
function utf16be(s: string): Buffer {
  const le = Buffer.from(s, 'utf16le')
  return le.swap16()
}
function utf32le(s: string): Buffer {
  const out = Buffer.alloc(s.length * 4)
  for (let i = 0; i < s.length; i++) out.writeUInt32LE(s.charCodeAt(i), i * 4)
  return out
}

interface BodyCase {
  readonly name: string
  /** Header lines besides Host, User-Agent and Content-Length. */
  readonly headers: [string, string][]
  readonly body: (value: unknown) => Buffer | string
}

const plain = (v: unknown) => json(v)
const cases: BodyCase[] = [
  { name: 'no Content-Type', headers: [], body: plain },
  { name: 'application/json (control)', headers: [['Content-Type', 'application/json']], body: plain },
  { name: 'text/plain', headers: [['Content-Type', 'text/plain']], body: plain },
  { name: 'application/x-www-form-urlencoded', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: plain },
  { name: 'multipart/form-data without a boundary', headers: [['Content-Type', 'multipart/form-data']], body: plain },
  { name: 'application/octet-stream', headers: [['Content-Type', 'application/octet-stream']], body: plain },
  { name: 'application/vnd.api+json', headers: [['Content-Type', 'application/vnd.api+json']], body: plain },
  { name: 'application/problem+json; charset=utf-8', headers: [['Content-Type', 'application/problem+json; charset=utf-8']], body: plain },
  { name: 'application/vnd.api+json\\x85', headers: [['Content-Type', 'application/vnd.api+json\x85']], body: plain },
  { name: 'application/json\\xa0', headers: [['Content-Type', 'application/json\xa0']], body: plain },
  { name: 'APPLICATION/JSON', headers: [['Content-Type', 'APPLICATION/JSON']], body: plain },
  { name: 'Application/Json;Charset=UTF-8', headers: [['Content-Type', 'Application/Json;Charset=UTF-8']], body: plain },
  { name: 'tab before and after', headers: [['Content-Type', '\tapplication/json\t']], body: plain },
  { name: 'tab inside the parameters', headers: [['Content-Type', 'application/json;\tcharset=utf-8']], body: plain },
  { name: 'space before ;', headers: [['Content-Type', 'application/json ; charset=utf-8']], body: plain },
  { name: 'application/json, text/plain (a list)', headers: [['Content-Type', 'application/json, text/plain']], body: plain },
  { name: 'text/plain, application/json (a list)', headers: [['Content-Type', 'text/plain, application/json']], body: plain },
  {
    name: 'two Content-Type headers',
    headers: [
      ['Content-Type', 'text/plain'],
      ['Content-Type', 'application/json'],
    ],
    body: plain,
  },
  {
    name: 'application/json;charset=utf-16 with a UTF-16LE body',
    headers: [['Content-Type', 'application/json ; charset=utf-16']],
    body: (v) => utf16le(json(v), true),
  },
  { name: 'application/json with a UTF-16LE body, no BOM', headers: [['Content-Type', 'application/json']], body: (v) => utf16le(json(v)) },
  { name: 'no Content-Type, a UTF-16BE body', headers: [], body: (v) => utf16be(json(v)) },
  { name: 'text/plain, a UTF-32LE body', headers: [['Content-Type', 'text/plain']], body: (v) => utf32le(json(v)) },
  {
    name: 'application/json with a UTF-8 BOM',
    headers: [['Content-Type', 'application/json']],
    body: (v) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json(v))]),
  },
  { name: 'application/json;charset=latin1', headers: [['Content-Type', 'application/json;charset=latin1']], body: plain },
  {
    name: 'Connection: content-type (JSON)',
    headers: [
      ['Content-Type', 'application/json'],
      ['Connection', 'content-type'],
    ],
    body: plain,
  },
  {
    name: 'Connection: content-type (form type, JSON body)',
    headers: [
      ['Content-Type', 'application/x-www-form-urlencoded'],
      ['Connection', 'content-type'],
    ],
    body: plain,
  },
  {
    name: 'Connection: content-type (text type, JSON body)',
    headers: [
      ['Content-Type', 'text/plain'],
      ['Connection', 'keep-alive, Content-Type'],
    ],
    body: plain,
  },
  { name: 'Content_Type underscore spelling', headers: [['Content_Type', 'application/json']], body: plain },
  {
    name: 'Content-Encoding: identity',
    headers: [
      ['Content-Type', 'application/json'],
      ['Content-Encoding', 'identity'],
    ],
    body: plain,
  },
  { name: 'JSON with leading whitespace', headers: [['Content-Type', 'text/plain']], body: (v) => `\r\n\t ${json(v)}` },
]

const target = '/public/submit'

// The three servers run side by side; cases within a server run in order.
describe('body types through Drawbridge', { concurrency: true }, () => {
  for (const server of pythonServers) {
    describe(`body types through Drawbridge to ${server}`, () => {
      test(`${server}: the controls: a benign JSON body reaches the app parsed, an injection as application/json is blocked`, async (t) => {
        const tg = targets.get(server)
        if (tg === null) return t.skip(skipReason(server))
        const ok = verdictOf(await send(tg.gw.url, { method: 'POST', target, headers: [['Content-Type', 'application/json']], body: json(benign) }))
        assert.equal(ok.kind, 'app')
        if (ok.kind === 'app') assert.deepEqual(ok.seen.json, benign)
        const bad = verdictOf(await send(tg.gw.url, { method: 'POST', target, headers: [['Content-Type', 'application/json']], body: json(injection) }))
        assert.equal(bad.kind === 'refused' && `${bad.status} ${bad.code}`, '403 DRAWBRIDGE_ERR_BLOCKED')
      })

      test(`${server}: a JSON injection is never parsed by the app, whatever the Content-Type says`, async (t) => {
        const tg = targets.get(server)
        if (tg === null) return t.skip(skipReason(server))
        for (const c of cases) {
          await t.test(c.name, async (st) => {
            const r: RawRequest = { method: 'POST', target, headers: c.headers, body: c.body(injection) }
            const res = await send(tg.gw.url, r)
            assertNoInternalError(res, `${server}: ${c.name}`)
            const v = verdictOf(res)
            st.diagnostic(`${v.kind} ${v.status}${v.kind === 'refused' ? ' ' + v.code : ''}`)
            if (v.kind !== 'app') return // refused by Drawbridge (4xx of its own, the WAF's 403 included), or not answered by a handler
            const parsed = JSON.stringify(v.seen.json ?? null)
            assert.ok(!parsed.includes('UNION SELECT'), `${server}: ${c.name}: passed Drawbridge (${v.status}) and the app parsed the injection: ${parsed}`)
          })
        }
      })

      test(`${server}: the same spellings with a benign body are not refused as attacks`, async (t) => {
        const tg = targets.get(server)
        if (tg === null) return t.skip(skipReason(server))
        // Refusing an odd type or encoding outright (4xx) is fine; a WAF block (403) of a benign body is a false positive.
        for (const c of cases) {
          await t.test(c.name, async () => {
            const res = await send(tg.gw.url, { method: 'POST', target, headers: c.headers, body: c.body(benign) })
            assertNoInternalError(res, `${server}: ${c.name}`)
            const v = verdictOf(res)
            assert.ok(!(v.kind === 'refused' && v.code === 'DRAWBRIDGE_ERR_BLOCKED'), `${server}: ${c.name}: a benign body was blocked as an attack`)
          })
        }
      })
    })
  }
})
