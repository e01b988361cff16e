import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRedactor } from '../../src/observability/redact.js'
import { startGateway } from '../helpers/gateway.js'
import { startUpstream } from '../helpers/upstream.js'
import { request } from '../helpers/http.js'

test('redaction of query fields and free text', () => {
  const r = createRedactor(['password', 'token', 'secret', 'api_key'])
  assert.equal(r.pathWithQuery('/login', 'user=bob&password=hunter2&access_token=abc&x=1'), '/login?user=bob&password=[REDACTED]&access_token=[REDACTED]&x=1')
  assert.equal(r.pathWithQuery('/a', ''), '/a')
  const text = r.text('Authorization: Bearer eyJhbGciOi.x.y and {"api_key": "k-123", "client_secret":"s"} password=p4ss')
  for (const s of ['eyJhbGciOi', 'k-123', '"s"', 'p4ss']) assert.ok(!text.includes(s), `${s} in ${text}`)
})

test('one JSON access log line per request, with no secrets', async () => {
  const up = await startUpstream()
  const gw = await startGateway({ upstream: up.url })
  try {
    const r = await request(gw.url + '/search?q=shoes&token=SECRET-TOKEN', {
      headers: { authorization: 'Bearer SECRET-BEARER', cookie: 'session=SECRET-COOKIE', 'user-agent': 'Mozilla/5.0 test' },
    })
    await request(gw.url + '/x', { headers: { host: 'evil.com' } })
    const logs = gw.logs()
    const access = logs.filter((l) => l.msg === 'access')
    assert.equal(access.length, 2)
    const [ok, rejected] = access as Record<string, unknown>[]
    assert.equal(ok!.request_id, r.headers['x-request-id'])
    assert.equal(ok!.status, 200)
    assert.equal(ok!.method, 'GET')
    assert.equal(ok!.client_ip, '127.0.0.1')
    assert.equal(ok!.path, '/search?q=shoes&token=[REDACTED]')
    assert.equal(ok!.user_agent, 'Mozilla/5.0 test')
    assert.equal(typeof ok!.duration_ms, 'number')
    assert.equal(typeof ok!.upstream_ms, 'number')
    assert.ok((ok!.bytes_sent as number) > 0)
    assert.equal(rejected!.status, 400)
    assert.equal(rejected!.rejected_by, 'host_check')
    const all = JSON.stringify(logs)
    for (const s of ['SECRET-TOKEN', 'SECRET-BEARER', 'SECRET-COOKIE']) assert.ok(!all.includes(s), s)
  } finally {
    await gw.close()
    await up.close()
  }
})
