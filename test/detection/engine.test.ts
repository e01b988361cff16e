/**
 * The engine on its own: thresholds by paranoia, names judged as well as values,
 * exclusions, the clean-value memo never hiding an attack, and time linear in the input.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createEngine } from '../../src/detection/engine.js'
import type { Input } from '../../src/detection/types.js'

const q = (name: string, value: string): Input => ({ location: 'query', name, value, formEncoded: true })
const body = (name: string, value: string): Input => ({ location: 'body', name, value, formEncoded: false })
const header = (name: string, value: string): Input => ({ location: 'header', name, value, formEncoded: false })

test('paranoia sets the threshold: a weak signal counts only at higher levels', () => {
  // one `..` inside a relative path is how links look (0.6); two climb for real (0.85)
  const weak = [q('file', 'docs/../images/logo.png')]
  assert.equal(createEngine({ paranoia: 1 }).inspect(weak, null, true).findings.length, 0)
  assert.equal(createEngine({ paranoia: 2 }).inspect(weak, null, true).findings.length, 0)
  const p3 = createEngine({ paranoia: 3 }).inspect(weak, null, true)
  assert.equal(p3.findings.length, 1)
  assert.equal(p3.findings[0]!.category, 'traversal')
  assert.equal(createEngine({ paranoia: 1, threshold: 0.55 }).inspect(weak, null, true).findings.length, 1)
  const strong = createEngine({ paranoia: 1 }).inspect([q('file', '../../../etc/passwd')], null, true)
  assert.equal(strong.findings[0]!.rule, 'traversal-sensitive-file')
  assert.ok(strong.score >= 0.9)
})

test('a finding records where it was and how it was hidden', () => {
  const r = createEngine({ paranoia: 1 }).inspect([q('a', 'ok'), q('id', '1%2527%2520OR%25201%253D1--')], null, true)
  const f = r.findings[0]!
  assert.equal(f.category, 'sqli')
  assert.equal(f.location, 'query')
  assert.equal(f.name, 'id')
  assert.equal(f.part, 'value')
  assert.deepEqual(
    f.transforms.filter((t) => t === 'url' || t === 'plus'),
    ['plus', 'url'],
    'two layers of URL encoding',
  )
})

test('names are judged too, plain-looking ones included', () => {
  const e = createEngine({ paranoia: 1 })
  assert.equal(e.inspect([q('password[$ne]', 'x')], null, true).findings[0]?.category, 'nosql')
  assert.equal(e.inspect([body('__proto__.isAdmin', '')], null, true).findings[0]?.category, 'prototype-pollution')
  assert.equal(e.inspect([q("x' OR '1'='1", '1')], null, true).findings[0]?.part, 'name')
  assert.equal(e.inspect([body('customer.name', "Siobhán O'Brien"), q('sort', '-created_at')], null, true).findings.length, 0)
})

test('block mode stops at the first finding; detect mode collects them (bounded)', () => {
  const e = createEngine({ paranoia: 1 })
  const inputs = [q('a', '<script>alert(1)</script>'), q('b', "1' UNION SELECT 1--"), q('c', ';cat /etc/passwd')]
  assert.equal(e.inspect(inputs, null, true).findings.length, 1)
  const all = new Set(e.inspect(inputs, null, false).findings.map((f) => f.category))
  for (const c of ['xss', 'sqli', 'cmdi'] as const) assert.ok(all.has(c), `detect mode missed ${c}: ${[...all]}`)
  const many = Array.from({ length: 100 }, (_, i) => q(`p${i}`, `<script>alert(${i})</script>`))
  assert.equal(e.inspect(many, null, false).findings.length, 16)
})

test('exclusions drop only what they name', () => {
  const e = createEngine({ paranoia: 1 })
  const inputs = [body('source', "x' OR '1'='1' --"), body('title', '<script>alert(1)</script>')]
  const onlySql = (_l: string, name: string, _rule: string, category: string) => name === 'source' && (category === 'sqli' || category === 'xpath')
  const r = e.inspect(inputs, onlySql, false)
  assert.deepEqual(
    r.findings.map((f) => f.name),
    ['title'],
  )
})

test('the clean-value memo never hides an attack, and knows headers apart', () => {
  const e = createEngine({ paranoia: 1 })
  const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'
  for (let i = 0; i < 3; i++) assert.equal(e.inspect([header('user-agent', ua)], null, true).findings.length, 0)
  // the same value is clean as a query value but an attack tool as a User-Agent
  const tool = 'sqlmap/1.7.2#stable (https://sqlmap.org)'
  assert.equal(e.inspect([q('note', tool)], null, true).findings.length, 0)
  assert.equal(e.inspect([header('user-agent', tool)], null, true).findings[0]?.category, 'scanner')
  // the scope's last clean value is kept apart too: an attack between two clean ones is still seen
  for (let i = 0; i < 2; i++) {
    assert.equal(e.inspect([header('user-agent', ua)], null, true).findings.length, 0)
    assert.equal(e.inspect([header('user-agent', tool)], null, true).findings[0]?.category, 'scanner')
  }
  // an attack stays an attack however often it comes
  for (let i = 0; i < 3; i++) assert.equal(e.inspect([q('q', "1' OR '1'='1")], null, true).findings.length, 1)
  // an excluded finding is not remembered as clean for requests the exclusion does not cover
  assert.equal(e.inspect([q('q', '<svg onload=alert(1)>')], () => true, true).findings.length, 0)
  assert.equal(e.inspect([q('q', '<svg onload=alert(1)>')], null, true).findings.length, 1)
})

/** Median time of a few runs, in ms. */
function timeIt(fn: () => void): number {
  const runs: number[] = []
  for (let i = 0; i < 5; i++) {
    const t = performance.now()
    fn()
    runs.push(performance.now() - t)
  }
  return runs.sort((a, b) => a - b)[2]!
}

test('time grows linearly with adversarial input (no catastrophic backtracking)', () => {
  const e = createEngine({ paranoia: 4 })
  const shapes = [
    (n: number) => "'".repeat(n),
    (n: number) => '<a '.repeat(n),
    (n: number) => '%25'.repeat(n),
    (n: number) => '${'.repeat(n),
    (n: number) => '../'.repeat(n),
    (n: number) => '1 or '.repeat(n),
    (n: number) => ';a'.repeat(n),
    (n: number) => '{{'.repeat(n),
    (n: number) => '(|(a='.repeat(n),
    (n: number) => '\\u00'.repeat(n),
    (n: number) => '&#x'.repeat(n),
    (n: number) => 'a'.repeat(n) + '!',
    // the code analyzer's PHP tokens and callee walks
    (n: number) => 'system('.repeat(n),
    (n: number) => '$a[)('.repeat(n),
    (n: number) => '"s".'.repeat(n) + '()',
    (n: number) => 'O:9:"'.repeat(n),
    // the SQL analyzer's form-shaped values, look-alike quotes and value lists
    (n: number) => 'a=1&'.repeat(n),
    (n: number) => '\u2019/**/'.repeat(n),
    (n: number) => "x', 1".repeat(n),
    // the Node.js and Perl checks
    (n: number) => 'process [ '.repeat(n),
    (n: number) => 'require ( "'.repeat(n),
    (n: number) => '@{ '.repeat(n) + 'constructor . constructor '.repeat(n),
    // the XSS analyzer's JS tokenizer and attribute reading
    (n: number) => '"\\'.repeat(n),
    (n: number) => ' onx='.repeat(n),
    (n: number) => 'top['.repeat(n),
    (n: number) => '/*('.repeat(n),
    // the shell reader: words, assignments, braces, globs, batch conditions, mail lines
    (n: number) => 'a=b '.repeat(n),
    (n: number) => '{a,'.repeat(n),
    (n: number) => '/[!a-'.repeat(n),
    (n: number) => 'if '.repeat(n),
    (n: number) => 'for /d '.repeat(n),
    (n: number) => ';$u '.repeat(n),
    (n: number) => '\r\na1 '.repeat(n),
    (n: number) => 'a |'.repeat(n),
  ]
  for (const shape of shapes) {
    const small = shape(3_000)
    const big = shape(24_000)
    const run = (v: string) => () => e.inspect([q('x', v), body('y', v)], null, false)
    const tSmall = timeIt(run(small))
    const tBig = timeIt(run(big))
    // 8x the input: allow up to 24x the time (noise, GC, a busy CI core), never the 64x of
    // quadratic growth; under 100 ms in all is fast whatever the ratio
    assert.ok(tBig < 100 || tBig < tSmall * 24, `${JSON.stringify(small.slice(0, 12))}...: ${tSmall.toFixed(1)} ms -> ${tBig.toFixed(1)} ms`)
    assert.ok(tBig < 500, `${JSON.stringify(small.slice(0, 12))}: ${tBig.toFixed(1)} ms for ${big.length} characters`)
  }
})
