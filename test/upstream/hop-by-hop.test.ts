import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connectionListed } from '../../src/upstream/hop-by-hop.js'

describe('connectionListed', () => {
  test('the plain keep-alive and close values name nothing to strip', () => {
    for (const v of [undefined, 'keep-alive', 'Keep-Alive', 'close', 'Close', ' keep-alive , close ']) assert.equal(connectionListed(v), null, String(v))
  })

  test('header names listed next to them are stripped, lower-cased', () => {
    assert.deepEqual(connectionListed('Keep-Alive, X-Secret'), new Set(['x-secret']))
    assert.deepEqual(connectionListed('close,X-Internal-Token , x-b'), new Set(['x-internal-token', 'x-b']))
    assert.deepEqual(connectionListed(['keep-alive', 'X-A']), new Set(['x-a']))
  })
})
