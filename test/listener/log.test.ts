import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hundredths } from '../../src/listener/log.js'

test('durations are printed as JSON numbers to two decimals', () => {
  assert.equal(hundredths(0.004), '0.00')
  assert.equal(hundredths(0.23), '0.23')
  assert.equal(hundredths(0.0951), '0.10')
  assert.equal(hundredths(12.05), '12.05')
  assert.equal(hundredths(3), '3.00')
  assert.equal(hundredths(61_234.5678), '61234.57')
  for (let i = 0; i < 10_000; i++) {
    const ms = Math.random() * (i % 10 === 0 ? 100_000 : 5)
    const printed = hundredths(ms)
    assert.match(printed, /^\d+\.\d\d$/)
    assert.equal(Number(printed), Math.round(ms * 100) / 100, `${ms}`)
  }
  // out of the integer path's range, still a number
  assert.equal(JSON.parse(hundredths(2e7)), 2e7)
})
