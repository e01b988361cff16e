import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeLdap } from '../../src/detection/ldap/analyzer.js'
import { surest } from './support.js'

const detect = (value: string) => surest(analyzeLdap, value)

const attacks: [string, number][] = [
  ['*)(uid=*))(|(uid=*', 0.95],
  ['admin*)((|userPassword=*)', 0.95],
  ['*)(&', 0.9],
  [')(cn=*', 0.95],
  [')(cn=))\\x00', 0.95],
  ['*))%00', 0.9],
  ['%2A%29%29%2500', 0.85],
  ["*()|&'", 0.85],
  ['*(|(mail=*))', 0.9],
  ['%2A%28%7C%28objectclass%3D%2A%29%29', 0.9],
  ['x*) (| (objectClass=*)', 0.9],
  ['(uid=*)', 0.8],
]

const benign = [
  'John (Jr.)',
  'jane.doe@example.com',
  'Smith, J. (ed.)',
  'f(x) = (a+b)',
  'see (1) and (2)',
  'a*b',
  'Price (USD)',
  '(555) 123-4567',
  ':-)',
  'done :) (really)',
]

test('ldap: filter breakouts and compositions are found', () => {
  for (const [value, confidence] of attacks) {
    const f = detect(value)
    assert.ok(f !== null, `missed: ${value}`)
    assert.ok(f.confidence >= confidence, `${value}: ${f.rule} ${f.confidence}`)
  }
})

test('ldap: a bare wildcard, names in parentheses and maths stay low', () => {
  for (const value of [...benign, '*', '(a=b)', 'admin*']) {
    const f = detect(value)
    assert.ok(f === null || f.confidence < 0.8, `${value}: ${f?.rule} ${f?.confidence}`)
  }
  for (const value of benign) assert.equal(detect(value), null, value)
})

test('ldap analysis stays linear on long adversarial input', () => {
  const inputs = [
    ')(' + ' '.repeat(100_000),
    ')((('.repeat(25_000),
    '(|('.repeat(33_000) + 'a',
    '(a' + 'b'.repeat(100_000),
    '*)'.repeat(50_000),
    ')(' + 'a'.repeat(100_000),
  ]
  for (const v of inputs) {
    const t = performance.now()
    analyzeLdap(v)
    assert.ok(performance.now() - t < 250, `${v.slice(0, 10)}: ${performance.now() - t} ms`)
  }
})
