import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConcurrencyLimiter } from '../../src/upstream/limiter.js'

test('slots, a bounded FIFO queue, timeouts, and hand-over on release', async () => {
  const l = new ConcurrencyLimiter(2, 2, 100)
  assert.equal(l.acquire(), true)
  assert.equal(l.acquire(), true)
  const q1 = l.acquire()
  const q2 = l.acquire()
  assert.ok(q1 instanceof Promise && q2 instanceof Promise)
  assert.equal(l.acquire(), false, 'queue full: refused at once')
  l.release()
  assert.equal(await q1, true, 'first in line gets the released slot')
  assert.equal(await q2, false, 'second times out')
  assert.equal(l.active, 2)
  l.release()
  l.release()
  assert.equal(l.active, 0)
  assert.equal(l.acquire(), true)
})
