import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startGateway } from '../helpers/gateway.js'
import { startUpstream } from '../helpers/upstream.js'
import { request } from '../helpers/http.js'

describe('admin listener', () => {
  test('healthz, readyz with the upstream up and down, metrics behind a token, Host checked', async () => {
    const up = await startUpstream()
    const gw = await startGateway(
      { upstream: { url: up.url }, admin: { listen: '127.0.0.1:0', token: { from_env: 'DRAWBRIDGE_SECRET_ADMIN_TOKEN' } } },
      { DRAWBRIDGE_SECRET_ADMIN_TOKEN: 'metrics-token-123' },
    )
    try {
      assert.equal((await request(gw.adminUrl + '/healthz')).status, 200)
      const ready = await request(gw.adminUrl + '/readyz')
      assert.equal(ready.status, 200)
      assert.equal(ready.json().checks.upstream.ok, true)

      await request(gw.url + '/a')
      await request(gw.url + '/a', { method: 'TRACE' })
      const denied = await request(gw.adminUrl + '/metrics')
      assert.equal(denied.status, 401)
      const wrong = await request(gw.adminUrl + '/metrics', { headers: { authorization: 'Bearer nope' } })
      assert.equal(wrong.status, 401)
      const m = await request(gw.adminUrl + '/metrics', { headers: { authorization: 'Bearer metrics-token-123' } })
      assert.equal(m.status, 200)
      assert.match(m.text, /drawbridge_requests_total\{status="200",route="default"\} 1/)
      assert.match(m.text, /drawbridge_requests_total\{status="405",route="default"\} 1/)
      assert.match(m.text, /drawbridge_rejections_total\{stage="route_policy",reason="method not allowed"\} 1/)
      assert.match(m.text, /drawbridge_request_duration_seconds_bucket\{route="default",le="\+Inf"\} 2/)
      assert.match(m.text, /drawbridge_upstream_duration_seconds_count\{route="default"\} 1/)

      const rebinding = await request(gw.adminUrl + '/healthz', { headers: { host: 'attacker.example' } })
      assert.equal(rebinding.status, 403)

      await up.close()
      await new Promise((r) => setTimeout(r, 1100)) // readiness is cached for 1 s
      const down = await request(gw.adminUrl + '/readyz')
      assert.equal(down.status, 503)
      assert.equal(down.json().checks.upstream.ok, false)
    } finally {
      await gw.close()
    }
  })
})
