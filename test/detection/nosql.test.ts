import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeNosql, analyzeNosqlName } from '../../src/detection/nosql/analyzer.js'
import { surest } from './support.js'

const detect = (value: string) => surest(analyzeNosql, value)

const attacks: [string, number][] = [
  ['{"$gt": ""}', 0.9],
  ['{ $ne: 1 }', 0.9],
  ["true, $where: '1 == 1'", 0.9],
  ["', $or: [ {}, { 'a':'a", 0.9],
  ["' } ], $comment:'successful MongoDB injection'", 0.9],
  ['{"&exists":false}', 0.9],
  ['[$ne]=1', 0.95],
  ['login%255B%2524gt%255D%3Dadmin', 0.95],
  ["' && this.password.match(/.*/)//+%00", 0.95],
  ["'%20%26%26%20this.passwordzz.match(/.*/)//+%00", 0.95],
  ["';sleep(5000);", 0.9],
  ["';it=new%20Date();do{pt=new%20Date();}while(pt-it<5000);", 0.9],
  ["';return 'a'=='a' && ''=='", 0.9],
  ['";return(true);var xyz=\'a', 0.9],
  ['0;return true', 0.9],
  ['|| 1==1', 0.9],
  ['db.injection.insert({success:1});', 0.9],
  ['db.users.find()', 0.9],
  ['{"type": "user", "roles": ["_admin"], "roles": []}', 0.85],
]

const benign = [
  '$5',
  '$100 off',
  'cost in $USD',
  'Save $20 on orders over $100!',
  '{"name": "Ann", "age": 31}',
  '{"$schema": "http://json-schema.org/draft-07/schema#"}',
  '{"$ref": "#/definitions/a"}',
  'Tom & Jerry',
  'a || b',
  'return to sender',
  'db.example.com',
  "it's fine; really",
  'price: $ne',
  'Use this.value to read it',
  'cats & dogs: a story',
]

test('nosql: operator objects, $where JavaScript and shell calls are found', () => {
  for (const [value, confidence] of attacks) {
    const f = detect(value)
    assert.ok(f !== null, `missed: ${value}`)
    assert.ok(f.confidence >= confidence, `${value}: ${f.rule} ${f.confidence}`)
  }
})

test('nosql: prices, JSON Schema keys and prose pass', () => {
  for (const value of benign) {
    const f = detect(value)
    assert.ok(f === null || f.confidence < 0.8, `${value}: ${f?.rule} ${f?.confidence}`)
  }
})

const names: [string, number | null][] = [
  ['user[$ne]', 0.95],
  ['login[$nin][]', 0.95],
  ['password[$regex]', 0.95],
  ['$where', 0.95],
  ['$gt', 0.95],
  ['a.$elemMatch.b', 0.95],
  ['filter[$or][0][name]', 0.95],
  ['user', null],
  ['$schema', null],
  ['$ref', null],
  ['price$', null],
  ['items[0][name]', null],
]

test('nosql names: an operator segment is an operator object once parsed', () => {
  for (const [name, confidence] of names) {
    const f = analyzeNosqlName(name)
    if (confidence === null) assert.equal(f, null, name)
    else assert.ok(f !== null && f.confidence >= confidence, name)
  }
})

test('nosql analysis stays linear on long adversarial input', () => {
  const inputs = [
    "';" + ' '.repeat(100_000),
    ';'.repeat(100_000),
    '|| '.repeat(40_000),
    '{"$'.repeat(40_000),
    'db.' + 'a'.repeat(100_000),
    "'&&".repeat(40_000),
    ';0 '.repeat(40_000) + 'x',
  ]
  for (const v of inputs) {
    const t = performance.now()
    analyzeNosql(v)
    analyzeNosqlName(v)
    assert.ok(performance.now() - t < 250, `${v.slice(0, 10)}: ${performance.now() - t} ms`)
  }
})
