import { test } from 'node:test'
import assert from 'node:assert/strict'
import { newRequestId } from '../../src/listener/request-id.js'

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

test('request ids are version 4 UUIDs, all different, over many batches', () => {
  const ids = Array.from({ length: 1000 }, newRequestId)
  for (const id of ids) assert.match(id, uuidV4)
  assert.equal(new Set(ids).size, ids.length)
})

test('every random digit of a request id varies (the batch is refilled with fresh randomness)', () => {
  const ids = Array.from({ length: 600 }, newRequestId)
  for (let at = 0; at < 36; at++) {
    const seen = new Set(ids.map((id) => id[at]))
    if (at === 8 || at === 13 || at === 18 || at === 23) assert.deepEqual([...seen], ['-'])
    else if (at === 14) assert.deepEqual([...seen], ['4'])
    else if (at === 19) assert.ok(seen.size === 4 && [...seen].every((c) => '89ab'.includes(c!)), `variant digit: ${[...seen]}`)
    // 600 draws of 16 equally likely digits: all 16 appear, but for odds of about 1e-14
    else assert.equal(seen.size, 16, `digit ${at}: ${[...seen].sort().join('')}`)
  }
})
