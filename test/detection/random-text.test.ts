/**
 * Random printable text (what a password manager makes) through the whole engine: a regression
 * bound on how much of it is blocked, from a fixed seed (npm run efficacy:passwords gives the rules).
 * The bound follows the engine's progress; the goal is at most 1 in 100,000 in a field named like
 * a secret and 10 in 100,000 elsewhere.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createEngine } from '../../src/detection/engine.js'
import { Gen, randomPassword } from '../../bench/efficacy/rng.js'

test('random printable passwords: at most 0.35% blocked at paranoia 1 (was 1.5%)', () => {
  const engine = createEngine({ paranoia: 1 })
  const g = new Gen(7)
  const count = 20_000
  let blocked = 0
  for (let i = 0; i < count; i++) {
    const s = randomPassword(g)
    if (engine.inspect([{ location: 'body', name: 'password', value: s, formEncoded: false }], null, true).findings.length > 0) blocked++
  }
  assert.ok(blocked <= count * 0.0035, `${blocked} of ${count} blocked`)
})
