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
    const [ok, rejected] = access
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

test('redaction folds - and _ in names and knows credential names beyond the configured list (api-key, key, code, sig, jwt...) without hiding common words', () => {
  const r = createRedactor(['password', 'token', 'secret', 'api_key', 'session'])
  const q = (query: string) => r.pathWithQuery('/p', query)
  for (const name of [
    'api-key',
    'api_key',
    'apikey',
    'API-Key',
    'x-api-key',
    'key',
    'jwt',
    'refresh',
    'code',
    'access_token',
    'id_token',
    'sig',
    'signature',
    'auth',
    'sid',
    'otp',
    'pin',
    'credential',
    'client_assertion',
    'creds[key]',
    'X-Amz-Signature',
  ]) {
    assert.equal(q(`${name}=s3cr3t-value&a=1`), `/p?${name}=[REDACTED]&a=1`, name)
  }
  // Short names match only whole: harmless parameters that merely contain them stay readable.
  for (const name of ['author', 'zipcode', 'monkey', 'design', 'spinner', 'keyword', 'codec', 'side', 'q']) {
    assert.equal(q(`${name}=visible`), `/p?${name}=visible`, name)
  }
  // Secret-shaped values are masked whatever their name, in the query and in the path.
  const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU'
  const apiKey = `dbk_0a1b2c3d_${'Q'.repeat(43)}`
  const refresh = `dbr_${'R'.repeat(43)}`
  assert.equal(q(`q=${jwt}&next=${apiKey}&r=${refresh}`), '/p?q=[REDACTED]&next=dbk_0a1b2c3d_[REDACTED]&r=dbr_[REDACTED]')
  assert.equal(r.pathWithQuery(`/reset/${jwt}`, ''), '/reset/[REDACTED]')
  assert.equal(q(`x=${encodeURIComponent(apiKey).replace(/_/g, '%5F')}`), '/p?x=[REDACTED]')
  const text = r.text(`key=k-1 {"code": "c-2"} sig: s-3 monkey=fine ${jwt} ${apiKey}`)
  for (const s of ['k-1', 'c-2', 's-3', jwt, 'QQQQ']) assert.ok(!text.includes(s), `${s} in ${text}`)
  assert.ok(text.includes('monkey=fine'))
})

test('the access log masks credentials in the query under any spelling of their name, and key- or JWT-shaped values under any name', async () => {
  const up = await startUpstream()
  const gw = await startGateway({ upstream: up.url })
  try {
    const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.SECRET-SIG-PART'
    const secrets = ['SECRET-K1', 'SECRET-K2', 'SECRET-K3', 'SECRET-K4', 'SECRET-C5', 'SECRET-R6', 'SECRET-J7', 'SECRET-SIG-PART', 'SECRETKEYPART']
    const r = await request(
      `${gw.url}/cb?api-key=SECRET-K1&api_key=SECRET-K2&apikey=SECRET-K3&key=SECRET-K4&code=SECRET-C5&refresh=SECRET-R6&jwt=SECRET-J7&next=${jwt}&k=dbk_00112233_SECRETKEYPARTxxxxxxxxxxxxxxx&author=bob`,
    )
    assert.equal(r.status, 200)
    const access = gw.logs().filter((l) => l.msg === 'access')
    assert.equal(access.length, 1)
    const path = String(access[0]!.path)
    assert.ok(path.includes('author=bob'), path)
    assert.ok(path.includes('key=[REDACTED]'), path)
    const all = JSON.stringify(gw.logs())
    for (const s of secrets) assert.ok(!all.includes(s), `${s} in ${path}`)
  } finally {
    await gw.close()
    await up.close()
  }
})
