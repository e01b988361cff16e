/**
 * The runner on its own, behind a plain node:http server: the body phase reads the body once
 * for the stages that want it, runs their requestBody steps, and answers every fault through
 * the one fault mapping, whichever phase it comes from.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { StorageUnavailable, UpstreamFailure } from '../../src/errors.js'
import { routeOf } from '../../src/gateway/compile.js'
import { openServices } from '../../src/gateway/services.js'
import { runRequest } from '../../src/pipeline/run.js'
import { Transaction } from '../../src/pipeline/transaction.js'
import { verdict, type PipelineContext, type Route, type Stage, type Terminal } from '../../src/pipeline/types.js'
import { createRedactor } from '../../src/observability/redact.js'
import { Logger } from '../../src/observability/logger.js'
import { testConfig } from '../helpers/gateway.js'
import { request } from '../helpers/http.js'

/** What each body stage and the terminal saw, per request path. */
const seen: { stage: string | null; terminal: Buffer | null | 'stream' | 'none' } = { stage: null, terminal: 'none' }

const judge: Stage = {
  id: 'judge',
  wantsBody: (tx) => (tx.path === '/stream' ? 'none' : 'whole'),
  requestBody(tx, body) {
    seen.stage = body.toString('utf8')
    if (tx.path === '/store-down') return Promise.reject(new StorageUnavailable('postgres', 'down'))
    if (tx.path === '/bug') throw new Error('a bug in a stage')
    if (body.includes('attack')) return verdict('judge', 403, 'DRAWBRIDGE_ERR_BLOCKED', 'attack')
    return undefined
  },
}

const terminal: Terminal = async (_ctx, tx, body) => {
  seen.terminal = Buffer.isBuffer(body) ? body : body === null ? null : 'stream'
  if (tx.path === '/upstream-down') throw new UpstreamFailure('unavailable', 'unavailable')
  if (body !== null && !Buffer.isBuffer(body)) for await (const _ of body as AsyncIterable<Buffer>) void _
  tx.res!.writeHead(200, { 'content-type': 'text/plain' })
  tx.res!.end('ok')
}

function testRoute(): Route {
  return routeOf(
    'probe',
    { head: [judge], adjusting: [] },
    {
      maxBodyBytes: 64,
      bodyTimeout: 5000,
      bodyDeadlinePerRequest: false,
      responseTimeout: 5000,
      requestBuffering: true,
      bufferBody: false,
      terminal,
      local: false,
    },
  )
}

describe('the runner', () => {
  let server: Server
  let url: string
  let ctx: PipelineContext
  before(async () => {
    const config = testConfig({ upstream: 'http://127.0.0.1:1' })
    const services = openServices(config, { logger: new Logger('error', { write: () => undefined }) })
    ctx = { ...services, config, redact: createRedactor([]), draining: false }
    const route = testRoute()
    server = createServer((req, res) => {
      const tx = new Transaction('rid', req, res, '127.0.0.1', false, false, route)
      tx.path = req.url!
      runRequest(ctx, tx)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()))
    await ctx.events.close()
  })

  test('a body is read once, judged by the requestBody step, then handed whole to the terminal', async () => {
    const r = await request(`${url}/ok`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } })
    assert.equal(r.status, 200)
    assert.equal(seen.stage, '{"a":1}')
    assert.ok(Buffer.isBuffer(seen.terminal) && seen.terminal.toString() === '{"a":1}')
  })

  test('a requestBody verdict stops the request before the terminal sees any of it', async () => {
    seen.terminal = 'none'
    const r = await request(`${url}/ok`, { method: 'POST', body: 'an attack', headers: { 'content-type': 'text/plain' } })
    assert.equal(r.status, 403)
    assert.equal(r.json().code, 'DRAWBRIDGE_ERR_BLOCKED')
    assert.equal(r.json().request_id, 'rid')
    assert.equal(seen.terminal, 'none')
  })

  test('a store that cannot answer during the body phase is 503 with Retry-After, not 500', async () => {
    const r = await request(`${url}/store-down`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })
    assert.equal(r.status, 503)
    assert.equal(r.json().code, 'DRAWBRIDGE_ERR_STORE_UNAVAILABLE')
    assert.equal(r.headers['retry-after'], '5')
  })

  test('a stage that throws in the body phase is a 500 with the request id', async () => {
    const r = await request(`${url}/bug`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })
    assert.equal(r.status, 500)
    assert.equal(r.json().code, 'DRAWBRIDGE_ERR_INTERNAL')
    assert.equal(r.json().request_id, 'rid')
  })

  test("a terminal's failure follows the same mapping (an unreachable upstream is 502)", async () => {
    const r = await request(`${url}/upstream-down`)
    assert.equal(r.status, 502)
    assert.equal(r.json().code, 'DRAWBRIDGE_ERR_UPSTREAM_UNAVAILABLE')
  })

  test('over the limit is 413 before any stage or the terminal reads it; a body no stage wants streams', async () => {
    seen.stage = null
    const big = await request(`${url}/ok`, { method: 'POST', body: 'x'.repeat(65), headers: { 'content-type': 'text/plain' } })
    assert.equal(big.status, 413)
    assert.equal(seen.stage, null)
    const streamed = await request(`${url}/stream`, { method: 'POST', body: 'abc', headers: { 'content-type': 'text/plain' } })
    assert.equal(streamed.status, 200)
    assert.equal(seen.terminal, 'stream')
  })
})
