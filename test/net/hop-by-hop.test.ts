import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connectionListed, connectionListsEndToEnd } from '../../src/net/hop-by-hop.js'

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

describe('connectionListsEndToEnd', () => {
  test('a Connection naming a header the gateway relies on end to end is flagged (any case, `_` read as `-`)', () => {
    for (const v of [
      'content-type',
      'Keep-Alive, Content-Type',
      'close, Content_Length',
      'cookie',
      'authorization',
      'x-api-key',
      'X-Forwarded-Prefix',
      'x-drawbridge-user',
      'host',
      ['keep-alive', 'Transfer-Encoding'],
    ]) {
      assert.equal(connectionListsEndToEnd(v, 'x-api-key'), true, String(v))
    }
  })

  test('hop-by-hop and custom names are not; the API-key header only with auth', () => {
    for (const v of [undefined, 'keep-alive', 'close', 'Upgrade', 'close, X-Drop-Me', 'te, trailer', 'x-api-key'])
      assert.equal(connectionListsEndToEnd(v, null), false, String(v))
  })
})
