import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeXpath } from '../../src/detection/xpath/analyzer.js'
import { surest } from './support.js'

const detect = (value: string) => surest(analyzeXpath, value)

const attacks: [string, number][] = [
  ["' or '1'='1", 0.85],
  ["' or count(/*)=1 or '", 0.95],
  ["//user[name/text()='x']", 0.85],
  ['substring(name(/*[1]),1,1)', 0.9],
  ["') or ('a'='a", 0.85],
  ["x' or name()='username' or 'x'='y", 0.95],
  ['count(/child::node())', 0.9],
  ["admin' and substring(password/text(),1,1)='7", 0.95],
  ["' or string-length(name(/*[1]))=4 or '", 0.95],
  ['x%27%20or%20name%28%29%3D%27username%27%20or%20%27x%27%3D%27y', 0.95],
]

const benign = [
  "O'Brien",
  "Tom's or Jerry's",
  'https://example.com/a/b',
  '//cdn.example.com/lib.js',
  "it's 'fine' and good",
  'count the items (please)',
  'name: Ann',
  'see text() docs',
  '[1] reference',
  "don't or won't",
  'a/b[0]',
  'Use contains(x) in the filter UI',
]

test('xpath: literal breakouts, blind probes and predicates are found', () => {
  for (const [value, confidence] of attacks) {
    const f = detect(value)
    assert.ok(f !== null, `missed: ${value}`)
    assert.ok(f.confidence >= confidence, `${value}: ${f.rule} ${f.confidence}`)
  }
})

test('xpath: apostrophes in names and URLs pass', () => {
  for (const value of benign) {
    const f = detect(value)
    assert.ok(f === null || f.confidence < 0.8, `${value}: ${f?.rule} ${f?.confidence}`)
  }
})

test('xpath analysis stays linear on long adversarial input', () => {
  const inputs = [
    "' or ".repeat(20_000),
    "'" + ')'.repeat(100_000),
    "' or " + '('.repeat(100_000),
    '//a[' + '='.repeat(100_000),
    'count(' + ' '.repeat(100_000),
    "'" + ' '.repeat(100_000) + 'x',
  ]
  for (const v of inputs) {
    const t = performance.now()
    analyzeXpath(v)
    assert.ok(performance.now() - t < 250, `${v.slice(0, 10)}: ${performance.now() - t} ms`)
  }
})

test('XPath: a location path with a closed predicate that tests something blocks; random text with a bracket does not', () => {
  for (const value of ['//user[@id]', "x' or //user[@role='admin']", '/users/user[position()=1]']) assert.ok(analyzeXpath(value) !== null, value)
  // generated passwords
  for (const value of ['/nRdZja{/NyM[e%q`F-@7-P`t@j"', 'a/Kq[=x9!', '//Zt[@']) assert.equal(analyzeXpath(value), null, value)
  // linear on a long run of open predicates
  const t = performance.now()
  analyzeXpath('/a['.repeat(20_000))
  assert.ok(performance.now() - t < 500)
})
