import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { compilePipeline, routeOf } from '../../src/gateway/compile.js'
import { openServices } from '../../src/gateway/services.js'
import { Transaction } from '../../src/pipeline/transaction.js'
import { logTransaction } from '../../src/pipeline/log.js'
import type { PipelineContext, Stage } from '../../src/pipeline/types.js'
import { createRedactor } from '../../src/observability/redact.js'
import { Logger } from '../../src/observability/logger.js'
import { startAuthGateway } from '../helpers/auth.js'
import { testConfig } from '../helpers/gateway.js'

// The order of the stages is part of the security design: a banned client is refused before
// anything else runs for it, the caller is known before rate limits keyed by user, CSRF runs
// for cookie sessions before the WAF, and the auth endpoints are never WAF-inspected.
describe('stage order per route', () => {
  test('every route runs its stages in the designed order, phase by phase', async () => {
    const gw = await startAuthGateway({
      upstream: 'http://127.0.0.1:1',
      bans: { enabled: true, waf_blocks: 3, window: '1m', duration: '10m' },
      cors: { allow_origins: ['https://app.example.com'] },
      rate_limits: [{ key: 'user', limit: '100/minute' }],
      routes: [{ name: 'raw', match: { path: '/raw' }, waf: { enabled: false } }],
      docs: { hide: 'never' },
    })
    try {
      const config = gw.gateway.config
      const services = openServices(config, {})
      const p = compilePipeline(config, { ...services, identity: gw.identity })
      const response = ['response_hardening', 'cors', 'rate_limit']
      assert.deepEqual(p.defaultRoute.order, {
        connection: ['bans', 'host_check'],
        requestHeaders: ['route_policy', 'cors', 'auth', 'csrf', 'rate_limit', 'waf'],
        requestBody: ['waf'],
        response,
      })
      assert.equal(p.defaultRoute.local, false)
      const raw = p.match('/raw', 'POST', '/raw')
      assert.equal(raw.name, 'raw')
      assert.deepEqual(raw.order, {
        connection: ['bans', 'host_check'],
        requestHeaders: ['route_policy', 'cors', 'auth', 'csrf', 'rate_limit'],
        requestBody: [],
        response,
      })
      const auth = p.match('/auth/login', 'POST', '/auth/login')
      assert.equal(auth.name, 'auth')
      assert.equal(auth.local, true)
      assert.equal(auth.bufferBody, true)
      assert.deepEqual(auth.order, { connection: ['bans', 'host_check'], requestHeaders: ['route_policy', 'cors', 'rate_limit'], requestBody: [], response })
      assert.equal(p.match('/.well-known/jwks.json', 'GET', '/.well-known/jwks.json'), auth)
      const docs = p.match('/docs', 'GET', '/docs')
      assert.equal(docs.name, 'docs')
      assert.deepEqual(docs.order.requestHeaders, ['route_policy', 'cors', 'auth', 'csrf', 'rate_limit', 'waf'])
      await services.events.close()
      await services.shared.close()
    } finally {
      await gw.close()
    }
  })

  test('without auth, bans or limits only the stages configured run', () => {
    const p = compilePipeline(testConfig({ upstream: 'http://127.0.0.1:1' }))
    assert.deepEqual(p.defaultRoute.order, {
      connection: ['host_check'],
      requestHeaders: ['route_policy', 'cors', 'waf'],
      requestBody: ['waf'],
      // CORS adds response headers only where origins are allowed.
      response: ['response_hardening'],
    })
  })

  test("a stage's logging step runs once per request, after the exchange, whichever end comes first", () => {
    const seen: string[] = []
    const stage: Stage = { id: 'probe', requestHeaders: () => undefined, logging: (tx) => void seen.push(tx.id) }
    const route = routeOf(
      'probe',
      { head: [stage], adjusting: [] },
      {
        maxBodyBytes: 10,
        bodyTimeout: 1000,
        bodyDeadlinePerRequest: false,
        responseTimeout: 1000,
        requestBuffering: true,
        bufferBody: false,
        terminal: () => Promise.resolve(),
        local: false,
      },
    )
    assert.deepEqual(route.order, { connection: [], requestHeaders: ['probe'], requestBody: [], response: [] })
    const config = testConfig({ upstream: 'http://127.0.0.1:1' })
    const services = openServices(config, { logger: new Logger('error', { write: () => undefined }) })
    const ctx: PipelineContext = { ...services, config, redact: createRedactor([]), draining: false }
    const req = new IncomingMessage(new Socket())
    req.method = 'GET'
    const tx = new Transaction('rid-1', req, new ServerResponse(req), '127.0.0.1', false, false, route)
    logTransaction(ctx, tx)
    logTransaction(ctx, tx)
    assert.deepEqual(seen, ['rid-1'])
  })
})
