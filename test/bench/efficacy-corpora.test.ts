// The efficacy harness must find the shared corpora and turn them into
// well-formed requests, and the benign set must be stable and varied.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { benignCases, BENIGN_CATEGORIES } from '../../bench/efficacy/benign.js'
import type { EfficacyCase, LoadResult } from '../../bench/efficacy/corpora.js'
import { corporaAvailable, corporaDir, loadCrs, loadNemesida, loadPayloadsAllTheThings, parseRawRequest, requote } from '../../bench/efficacy/corpora.js'

const dir = corporaDir()
const available = corporaAvailable(dir)
// Locally the corpora live outside the repo and may be absent; in CI they must be there
const missingReason = `corpora not found at ${dir} (with CI=true this is a failure)`

function requireCorpora(t: { skip: (msg: string) => void }): boolean {
  if (available) return true
  if (process.env['CI'] === 'true') assert.fail(missingReason)
  t.skip(missingReason)
  return false
}

const cache = new Map<string, LoadResult>()
function load(name: 'patt' | 'nemesida' | 'crs'): LoadResult {
  let r = cache.get(name)
  if (r === undefined) {
    r = name === 'patt' ? loadPayloadsAllTheThings(dir) : name === 'nemesida' ? loadNemesida(dir) : loadCrs(dir)
    cache.set(name, r)
  }
  return r
}

function assertWellFormed(c: EfficacyCase): void {
  assert.ok(c.request.path.startsWith('/'), `${c.id}: path must start with /`)
  assert.match(c.request.method, /^[A-Za-z]+$/, `${c.id}: method`)
  assert.ok(c.id.length > 0)
  for (const [k, v] of Object.entries(c.request.headers)) {
    assert.equal(k, k.toLowerCase(), `${c.id}: header names are lower-case`)
    assert.equal(typeof v, 'string')
  }
}

function assertMultipart(c: EfficacyCase): void {
  const ct = c.request.headers['content-type'] ?? ''
  const m = /^multipart\/form-data;\s*boundary=([^\s;]+)$/.exec(ct)
  assert.ok(m !== null, `${c.id}: multipart content-type with boundary`)
  const boundary = m[1] as string
  const body = c.request.body ?? ''
  assert.ok(body.startsWith(`--${boundary}\r\n`), `${c.id}: body opens with the boundary`)
  assert.ok(body.endsWith(`\r\n--${boundary}--\r\n`), `${c.id}: body closes with the boundary`)
}

test('PayloadsAllTheThings: every Intruder line, as query and as JSON', (t) => {
  if (!requireCorpora(t)) return
  const { cases } = load('patt')
  assert.ok(cases.length > 10_000, `got ${cases.length}`)
  const cats = new Set(cases.map((c) => c.category))
  for (const c of ['sqli', 'xss', 'cmdi', 'traversal', 'lfi', 'ssti', 'nosqli', 'ldap', 'xxe', 'open-redirect']) assert.ok(cats.has(c), c)
  assert.ok(cases.every((c) => c.expect === 'block' && c.source === 'payloadsallthethings'))
  cases.forEach(assertWellFormed)
  const json = cases.find((c) => c.id.endsWith(':json'))
  assert.ok(json !== undefined)
  assert.equal(json.request.method, 'POST')
  assert.equal(typeof (JSON.parse(json.request.body ?? '') as { name: unknown }).name, 'string')
  // query case carries the same payload, url-encoded
  const q = cases.find((c) => c.id === json.id.replace(/:json$/, ':query'))
  assert.ok(q !== undefined)
  assert.equal(
    new URL(q.request.path, 'http://x').searchParams.get('q') ?? new URL(q.request.path, 'http://x').searchParams.get('next'),
    (JSON.parse(json.request.body ?? '') as { name: string }).name.replace(/[\uD800-\uDFFF]/g, '\uFFFD'),
  )
  assert.equal(new Set(cases.map((c) => c.id)).size, cases.length, 'ids are unique')
})

test('nemesida: every zone of every record; FP must pass; multipart is well formed', (t) => {
  if (!requireCorpora(t)) return
  const { cases } = load('nemesida')
  assert.ok(cases.length > 500, `got ${cases.length}`)
  cases.forEach(assertWellFormed)
  const fp = cases.filter((c) => c.category === 'fp')
  assert.ok(fp.length > 0)
  assert.ok(fp.every((c) => c.expect === 'pass'))
  assert.ok(cases.filter((c) => c.category !== 'fp').every((c) => c.expect === 'block'))
  const multipart = cases.filter((c) => (c.request.headers['content-type'] ?? '').startsWith('multipart/'))
  assert.ok(multipart.length > 0)
  // records that bring their own boundary may be malformed on purpose; ours must be right
  const built = multipart.filter((c) => (c.request.headers['content-type'] ?? '').includes('boundary=drawbridge'))
  assert.ok(built.length > 0)
  built.forEach(assertMultipart)
  const zones = new Set(cases.map((c) => c.id.split(':')[1]))
  for (const z of ['URL', 'ARGS', 'BODY', 'COOKIE', 'USER-AGENT', 'REFERER', 'HEADER']) assert.ok(zones.has(z), z)
  assert.ok(cases.some((c) => c.request.headers['cookie']?.startsWith('WBC-') === true))
  assert.ok(
    cases.every((c) => !/%RND%/.test(JSON.stringify(c.request))),
    'placeholders replaced',
  )
  assert.equal(new Set(cases.map((c) => c.id)).size, cases.length, 'ids are unique')
})

test('CRS regression: attack-rule tests become block cases, the rest is skipped with a reason', (t) => {
  if (!requireCorpora(t)) return
  const { cases, skipped } = load('crs')
  assert.ok(cases.length > 1000, `got ${cases.length}`)
  cases.forEach(assertWellFormed)
  assert.ok(cases.every((c) => c.expect === 'block'))
  const cats = new Set(cases.map((c) => c.category))
  for (const c of ['lfi', 'rfi', 'rce', 'php', 'xss', 'sqli', 'java']) assert.ok(cats.has(c), c)
  assert.ok(!cats.has('other'))
  assert.ok(!cases.some((c) => /REQUEST-92[01]-/.test(c.id)), 'protocol tests are skipped')
  assert.ok(skipped.some((s) => s.reason.includes('no_expect_ids')))
  assert.ok(skipped.every((s) => s.reason.length > 0))
  assert.equal(new Set(cases.map((c) => c.id)).size, cases.length, 'ids are unique')
})

test('parseRawRequest decodes a go-ftw encoded_request, chunked body included', () => {
  const r = parseRawRequest('POST /a?b=1 HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n3\r\nHi \r\n3\r\nCRS\r\n0\r\n\r\n')
  assert.equal(r.method, 'POST')
  assert.equal(r.path, '/a?b=1')
  assert.deepEqual(r.headers, { 'host': 'localhost', 'x-a': '1' })
  assert.equal(r.body, 'Hi CRS')
})

test('requote keeps reserved characters and valid escapes, escapes the rest', () => {
  assert.equal(requote("/id/1 union select '1'"), "/id/1%20union%20select%20'1'")
  assert.equal(requote('%3Cx%3E%zz#é'), '%3Cx%3E%25zz%23%C3%A9')
})

test('benignCases is deterministic, varied, and covers every category', () => {
  const a = benignCases(2500)
  const b = benignCases(2500)
  assert.deepEqual(a, b)
  assert.equal(a.length, 2500)
  const unique = new Set(a.map((c) => JSON.stringify(c.request)))
  assert.ok(unique.size >= 2000, `unique ${unique.size}`)
  const cats = new Set(a.map((c) => c.category))
  for (const c of BENIGN_CATEGORIES) assert.ok(cats.has(c), c)
  assert.ok(a.every((c) => c.source === 'benign' && c.expect === 'pass'))
  a.forEach(assertWellFormed)
  const multipart = a.filter((c) => (c.request.headers['content-type'] ?? '').startsWith('multipart/'))
  assert.ok(multipart.length > 0)
  multipart.forEach(assertMultipart)
  for (const c of a) {
    if (c.request.headers['content-type'] === 'application/json') JSON.parse(c.request.body ?? '')
  }
  // a small count still covers every category
  assert.deepEqual(new Set(benignCases(8).map((c) => c.category)), new Set(BENIGN_CATEGORIES))
  assert.notDeepEqual(benignCases(50, 1), benignCases(50, 2))
})
