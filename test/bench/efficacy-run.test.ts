// `npm run efficacy` judges answers and does its table math with these helpers: a wrong verdict
// would silently inflate the detection rate, so they are pinned on fixed inputs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { EfficacyCase } from '../../bench/efficacy/corpora.js'
import { add, classify, emptyCounts, fmtPct, isMiss, judged, pct, sample, unsendableReason, withHost } from '../../bench/efficacy/judge.js'

const blockedBody = '{"error":"blocked","code":"DRAWBRIDGE_ERR_BLOCKED","request_id":"x"}'

test("classify: only the proxy's own answers count as stopped, only the upstream's as passed", () => {
  assert.equal(classify('drawbridge', { status: 403, fromUpstream: false, body: blockedBody }), 'blocked')
  assert.equal(
    classify('drawbridge', { status: 400, fromUpstream: false, body: '{"error":"malformed_body","code":"DRAWBRIDGE_ERR_MALFORMED_BODY"}' }),
    'refused',
  )
  assert.equal(classify('drawbridge', { status: 403, fromUpstream: false, body: '{"error":"forbidden","code":"DRAWBRIDGE_ERR_FORBIDDEN"}' }), 'refused')
  // a 403 without our JSON is not ours: an error, never a block
  assert.equal(classify('drawbridge', { status: 403, fromUpstream: false, body: 'Forbidden' }), 'error')
  assert.equal(classify('drawbridge', { status: 502, fromUpstream: false, body: '{"error":"x","code":"DRAWBRIDGE_ERR_UPSTREAM_ERROR"}' }), 'error')
  assert.equal(classify('drawbridge', { status: 200, fromUpstream: true, body: '{}' }), 'passed')
  // HEAD answers carry no body: the status alone says blocked or refused
  assert.equal(classify('drawbridge', { status: 403, fromUpstream: false, body: '', head: true }), 'blocked')
  assert.equal(classify('drawbridge', { status: 405, fromUpstream: false, body: '', head: true }), 'refused')
  assert.equal(classify('drawbridge', { status: 200, fromUpstream: true, body: '', head: true }), 'passed')
  // the app's own 403 passed the proxy
  assert.equal(classify('modsecurity', { status: 403, fromUpstream: true, body: '' }), 'passed')
  assert.equal(classify('modsecurity', { status: 403, fromUpstream: false, body: '<html>' }), 'blocked')
  assert.equal(classify('modsecurity', { status: 400, fromUpstream: false, body: '<html>' }), 'refused')
})

test('isMiss: attacks not stopped and benign not passed; unsent and unrun are no verdict', () => {
  assert.equal(isMiss('block', 'passed'), true)
  assert.equal(isMiss('block', 'error'), true)
  assert.equal(isMiss('block', 'refused'), false)
  assert.equal(isMiss('block', 'unsendable'), false)
  assert.equal(isMiss('pass', 'refused'), true)
  assert.equal(isMiss('pass', 'passed'), false)
  assert.equal(isMiss('pass', 'not-run'), false)
})

test('table math: percentages over judged cases only', () => {
  const c = emptyCounts()
  for (const v of ['blocked', 'blocked', 'refused', 'passed', 'unsendable', 'not-run'] as const) add(c, v)
  assert.equal(c.cases, 6)
  assert.equal(judged(c), 4)
  assert.equal(pct(c.blocked, c), 50)
  assert.equal(fmtPct(pct(c.blocked + c.refused, c)), '75.0%')
  assert.equal(pct(0, emptyCounts()), null)
  assert.equal(fmtPct(null), '-')
})

const mk = (category: string, i: number, headers: Record<string, string>): EfficacyCase => ({
  source: 'crs',
  category,
  expect: 'block',
  id: String(i),
  request: { method: 'GET', path: '/', headers },
})

test('withHost rewrites every other or missing Host; sample keeps every n-th per category', () => {
  const cases = [mk('a', 0, { host: 'api.example.com' }), mk('a', 1, { Host: 'localhost', x: '1' }), mk('b', 2, {})]
  const r = withHost(cases, 'api.example.com')
  assert.equal(r.rewritten, 2)
  assert.deepEqual(r.byHost, { localhost: 1, '(none)': 1 })
  assert.deepEqual(r.cases[1]!.request.headers, { host: 'api.example.com', x: '1' })
  assert.equal(r.cases[0], cases[0])
  const many = Array.from({ length: 10 }, (_, i) => mk(i < 7 ? 'a' : 'b', i, {}))
  assert.deepEqual(
    sample(many, 3).map((c) => c.id),
    ['0', '3', '6', '7'],
  )
})

test('unsendableReason: CR/LF in a header value or a non-token name', () => {
  assert.equal(unsendableReason({ method: 'GET', path: '/?q=<script>', headers: { a: 'é ok' } }), null)
  assert.match(unsendableReason({ method: 'GET', path: '/', headers: { a: 'x\r\ny: 1' } }) ?? '', /CR, LF/)
  assert.match(unsendableReason({ method: 'GET', path: '/', headers: { 'a b': 'x' } }) ?? '', /not a token/)
})
