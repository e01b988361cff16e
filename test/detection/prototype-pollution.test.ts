import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzePrototypePollution, analyzePrototypePollutionName } from '../../src/detection/prototype-pollution/analyzer.js'
import { surest } from './support.js'

const detect = (value: string) => surest(analyzePrototypePollution, value)

const names: [string, number | null][] = [
  ['a[__proto__][isAdmin]', 0.95],
  ['__proto__[isAdmin]', 0.95],
  ['__proto__', 0.95],
  ['a.__proto__.b', 0.95],
  ['constructor[prototype][x]', 0.95],
  ['constructor.prototype.polluted', 0.95],
  ['a[constructor][prototype]', 0.95],
  ['["__proto__"]', 0.95],
  ['constructor', null],
  ['prototype', null],
  ['user[name]', null],
  ['proto', null],
]

test('prototype pollution names: __proto__ and constructor.prototype paths', () => {
  for (const [name, confidence] of names) {
    const f = analyzePrototypePollutionName(name)
    if (confidence === null) assert.equal(f, null, name)
    else assert.ok(f !== null && f.confidence >= confidence, `${name}: ${f?.confidence}`)
  }
  // an unusual spelling some parsers normalise: suspicious only
  assert.ok(analyzePrototypePollutionName('x[__PROTO__]')!.confidence < 0.8)
})

const attacks: [string, number][] = [
  ['{"__proto__": {"isAdmin": true}}', 0.9],
  ['{"a": {"__proto__": {"x": 1}}}', 0.9],
  ['?__proto__[polluted]=1', 0.9],
  ['__proto__.foo=bar', 0.9],
  ['__\\u0070\\u0072oto__.foo=bar', 0.9],
  ['constructor[prototype][isAdmin]=1', 0.9],
  ['{"constructor": {"prototype": {"isAdmin": true}}}', 0.9],
  ['%5B__proto__%5D%5Bx%5D=1', 0.9],
]

const benign = [
  'We built a prototype last week',
  'constructor',
  'The constructor of the house',
  'prototype-v2',
  'Object.create(null) avoids it',
  '{"name": "prototype"}',
]

test('prototype pollution values: structure is an attack, prose is not', () => {
  for (const [value, confidence] of attacks) {
    const f = detect(value)
    assert.ok(f !== null, `missed: ${value}`)
    assert.ok(f.confidence >= confidence, `${value}: ${f.rule} ${f.confidence}`)
  }
  for (const value of benign) assert.equal(detect(value), null, value)
  // talking about it in prose or code is low
  assert.ok(detect('why is __proto__ deprecated?')!.confidence < 0.8)
  assert.ok(detect('Foo.constructor.prototype is the same object')!.confidence < 0.8)
})

test('prototype pollution analysis stays linear on long adversarial input', () => {
  const inputs = [
    '__proto__'.repeat(12_000),
    'constructor'.repeat(10_000) + 'prototype',
    'constructor' + ' '.repeat(100_000) + '.',
    '"__proto__"' + ' '.repeat(100_000),
    '['.repeat(100_000) + '__proto__',
  ]
  for (const v of inputs) {
    const t = performance.now()
    analyzePrototypePollution(v)
    analyzePrototypePollutionName(v)
    assert.ok(performance.now() - t < 250, `${v.slice(0, 10)}: ${performance.now() - t} ms`)
  }
})
