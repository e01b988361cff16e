import { test } from 'node:test'
import assert from 'node:assert/strict'
import { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { Transaction } from '../../src/pipeline/transaction.js'
import { compilePipeline } from '../../src/gateway/compile.js'
import { testConfig } from '../helpers/gateway.js'

// Same idea as fastify's same-shape test: the hot-path object never changes its set of fields.
test('a Transaction has the same fields before and after a request is processed', () => {
  const route = compilePipeline(testConfig({ upstream: 'http://127.0.0.1:1' })).defaultRoute
  const req = new IncomingMessage(new Socket())
  req.method = 'GET'
  const tx = new Transaction('id', req, null, '127.0.0.1', false, false, route)
  const before = Object.keys(tx)
  tx.path = '/a'
  tx.query = 'b=1'
  tx.canonicalPath = '/a'
  tx.host = 'localhost'
  tx.status = 200
  tx.upstreamMs = 1
  tx.rejectedBy = 'x'
  assert.deepEqual(Object.keys(tx), before)
  assert.ok(Object.isSealed(tx) === false) // plain class: shape kept by construction, not by sealing
})
