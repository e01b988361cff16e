// The committed benign corpus (bench/efficacy/benign/requests.jsonl.gz) must keep its shape:
// enough records, every family represented, every record traceable to its source and
// replayable, in the order the builder writes. Its false-positive rate is not checked here:
// that is the engine's business (npm run efficacy:quick).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { BENIGN_CORPUS_FILE, BENIGN_FAMILIES, loadBenignRecords, syntheticCases, type BenignRecord } from '../../bench/efficacy/benign-corpus.js'
import { findRepoRoot } from '../../bench/efficacy/corpora.js'
import { unsendableReason } from '../../bench/efficacy/judge.js'

const root = findRepoRoot()
let cached: BenignRecord[] | null = null
const records = (): BenignRecord[] => (cached ??= loadBenignRecords(join(root, BENIGN_CORPUS_FILE)))

test('the corpus holds at least 10,000 records, at least 300 per family', () => {
  const rs = records()
  assert.ok(rs.length >= 10_000, `got ${rs.length}`)
  const counts = new Map<string, number>()
  for (const r of rs) counts.set(r.family, (counts.get(r.family) ?? 0) + 1)
  for (const f of BENIGN_FAMILIES) assert.ok((counts.get(f) ?? 0) >= 300, `${f}: ${counts.get(f) ?? 0}`)
  assert.deepEqual(
    [...counts.keys()].filter((f) => !(BENIGN_FAMILIES as readonly string[]).includes(f)),
    [],
    'no family outside the list',
  )
})

test('every record has its family, source, shape and a replayable request', () => {
  for (const r of records()) {
    assert.equal(typeof r.id, 'string')
    assert.ok((BENIGN_FAMILIES as readonly string[]).includes(r.family), r.id)
    assert.match(r.source, /^(debian|npm|python|generated):\S/, `${r.id}: source`)
    assert.match(r.shape, /^(json|form|multipart|text|query|header|cookie):/, `${r.id}: shape`)
    const q = r.request
    assert.match(q.method, /^(GET|POST|PUT|PATCH)$/, `${r.id}: method`)
    assert.ok(q.path.startsWith('/'), `${r.id}: path`)
    assert.equal(q.headers['host'], 'api.example.com', `${r.id}: host`)
    for (const [k, v] of Object.entries(q.headers)) {
      assert.equal(k, k.toLowerCase(), `${r.id}: header names are lower-case`)
      assert.equal(typeof v, 'string')
      assert.match(v, /^[\x20-\x7e]*$/, `${r.id}: header ${k} is printable ASCII`)
    }
    assert.equal(unsendableReason(q), null, r.id)
    const type = q.headers['content-type'] ?? ''
    if (q.method === 'GET') assert.equal(q.body, undefined, `${r.id}: GET without a body`)
    else assert.equal(typeof q.body, 'string', `${r.id}: body`)
    if (type.startsWith('application/json')) JSON.parse(q.body ?? '')
    const m = /^multipart\/form-data; boundary=(\S+)$/.exec(type)
    if (m !== null) {
      assert.ok(q.body?.startsWith(`--${m[1]}\r\n`), `${r.id}: multipart opens with its boundary`)
      assert.ok(q.body?.endsWith(`\r\n--${m[1]}--\r\n`), `${r.id}: multipart closes with its boundary`)
    }
  }
})

test("records are in the builder's order: families in list order, ids numbered within each", () => {
  const rs = records()
  const order = BENIGN_FAMILIES as readonly string[]
  let family = -1
  let index = 0
  for (const r of rs) {
    const f = order.indexOf(r.family)
    if (f !== family) {
      assert.ok(f > family, `${r.id}: family ${r.family} out of order`)
      family = f
      index = 0
    }
    assert.equal(r.id, `${r.family}:${String(index).padStart(5, '0')}`)
    index++
  }
  assert.equal(new Set(rs.map((r) => r.id)).size, rs.length, 'ids are unique')
  // the same bytes give the same records
  assert.deepEqual(loadBenignRecords(join(root, BENIGN_CORPUS_FILE)).slice(0, 50), rs.slice(0, 50))
})

test('sources.tsv names every origin of the corpus with a licence', () => {
  const file = join(root, 'bench/efficacy/benign/sources.tsv')
  assert.ok(existsSync(file))
  const lines = readFileSync(file, 'utf8').trim().split('\n')
  assert.match(lines[0] ?? '', /^origin\trecords\tlicence/)
  const origins = new Set(lines.slice(1).map((l) => l.split('\t')[0]))
  for (const r of records().filter((_, i) => i % 97 === 0)) {
    for (const part of r.source.split(' + ')) {
      const o = /^(debian:[^:]+|npm:[^:]+|python:[^:]+|generated:\w+)/.exec(part)?.[1]
      assert.ok(o !== undefined && origins.has(o), `${r.id}: ${part}`)
    }
  }
})

test('the synthetic set keeps its categories apart as synthetic-* families', () => {
  const s = syntheticCases(16)
  assert.ok(s.every((c) => c.category.startsWith('synthetic-') && c.source === 'benign' && c.expect === 'pass'))
})
