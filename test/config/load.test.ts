import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configWarnings, loadConfig } from '../../src/config/load.js'
import { ConfigInvalid } from '../../src/errors.js'

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'drawbridge-config-'))
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

function issues(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof ConfigInvalid, String(e))
    assert.equal(e.code, 'DRAWBRIDGE_ERR_CONFIG_INVALID')
    return [...e.issues]
  }
  assert.fail('expected ConfigInvalid')
}

test("the README's minimal file loads, with defaults, frozen", () => {
  const file = tmpFile(
    'drawbridge.yaml',
    `upstream: http://127.0.0.1:8000
listen: 0.0.0.0:8080
mode: production
trusted_hosts: [api.example.com, "*.example.com", localhost]
cors:
  allow_origins: [https://app.example.com]
  allow_credentials: true
`,
  )
  const c = loadConfig({ file, env: {} })
  assert.equal(c.upstream.url, 'http://127.0.0.1:8000')
  assert.equal(c.upstream.keepalive_timeout, 4000)
  assert.equal(c.listen, '0.0.0.0:8080')
  assert.equal(c.limits.header_timeout, 10_000)
  assert.equal(c.limits.max_body_bytes, 1_048_576)
  assert.equal(c.cors?.allow_credentials, true)
  assert.equal(c.docs.hidden, true)
  assert.equal(c.error_masking.enabled, true)
  assert.ok(c.workers >= 1)
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.cors) && Object.isFrozen(c.trusted_hosts))
  assert.throws(() => {
    ;(c as { mode: string }).mode = 'development'
  }, TypeError)
})

test('every problem is reported at once, each with its path', () => {
  const file = tmpFile(
    'bad.yaml',
    `upstream: ftp://example
listen: nowhere
unknown_key: 1
limits:
  header_timeout: ten seconds
  max_body_bytes: -5
cors:
  allow_origins: ["*", "https://*.*.example.com", "null"]
  allow_credentials: true
trusted_hosts: ["bad host!"]
trusted_proxies: [10.0.0.0/33]
`,
  )
  const found = issues(() => loadConfig({ file, env: {} }))
  const paths = found.map((i) => i.path)
  for (const p of [
    '/unknown_key',
    '/limits/header_timeout',
    '/limits/max_body_bytes',
    '/upstream/url',
    '/listen',
    '/cors',
    '/cors/allow_origins/1',
    '/cors/allow_origins/2',
    '/trusted_hosts/0',
    '/trusted_proxies/0',
  ]) {
    assert.ok(paths.includes(p), `missing ${p} in ${JSON.stringify(paths)}`)
  }
})

test('YAML syntax errors and duplicate keys are reported with a line', () => {
  const dup = issues(() => loadConfig({ file: tmpFile('d.yaml', 'upstream: http://a:1\nupstream: http://b:1\n'), env: {} }))
  assert.match(dup[0]!.path, /^line 2/)
  const syntax = issues(() => loadConfig({ file: tmpFile('s.yaml', 'upstream: [unclosed\n'), env: {} }))
  assert.ok(syntax.length > 0)
})

test('precedence: file < DRAWBRIDGE_* env < flags; unknown env settings are errors', () => {
  const file = tmpFile('p.yaml', 'upstream: http://127.0.0.1:8000\nlisten: 127.0.0.1:1000\nmode: production\n')
  const env = {
    DRAWBRIDGE_LISTEN: '127.0.0.1:2000',
    DRAWBRIDGE_LIMITS__MAX_BODY_BYTES: '2048',
    DRAWBRIDGE_TRUSTED_HOSTS: 'a.example.com, b.example.com',
    DRAWBRIDGE_MODE: 'development',
  }
  const c = loadConfig({ file, env, flags: { listen: '127.0.0.1:3000' } })
  assert.equal(c.listen, '127.0.0.1:3000')
  assert.equal(c.limits.max_body_bytes, 2048)
  assert.deepEqual(c.trusted_hosts, ['a.example.com', 'b.example.com'])
  assert.equal(c.mode, 'development')
  assert.equal(c.docs.hidden, false)
  const bad = issues(() => loadConfig({ file, env: { DRAWBRIDGE_NOPE: '1' } }))
  assert.equal(bad[0]!.path, 'env DRAWBRIDGE_NOPE')
  // DRAWBRIDGE_SECRET_* are secrets, not settings
  assert.doesNotThrow(() => loadConfig({ file, env: { DRAWBRIDGE_SECRET_ANYTHING: 'x' } }))
  // nor the process settings of `start` (DRAWBRIDGE_RELAUNCH=0 turns the one-core relaunch off)
  assert.doesNotThrow(() => loadConfig({ file, env: { DRAWBRIDGE_RELAUNCH: '0', DRAWBRIDGE_RELAUNCHED: '1', DRAWBRIDGE_CONFIG: file } }))
})

test('secrets come only by reference: from_env and from_file', () => {
  const secretFile = tmpFile('token.txt', 's3cret-from-file\n')
  const c = loadConfig({ object: { upstream: 'http://127.0.0.1:1', admin: { token: { from_file: secretFile } } }, env: {} })
  assert.equal(c.admin.token, 's3cret-from-file')
  const e = loadConfig({
    object: { upstream: 'http://127.0.0.1:1', admin: { token: { from_env: 'DRAWBRIDGE_SECRET_T' } } },
    env: { DRAWBRIDGE_SECRET_T: 'abc' },
  })
  assert.equal(e.admin.token, 'abc')
  const missing = issues(() => loadConfig({ object: { upstream: 'http://127.0.0.1:1', admin: { token: { from_env: 'NOT_SET_ANYWHERE' } } }, env: {} }))
  assert.equal(missing[0]!.path, '/admin/token')
  const inline = issues(() => loadConfig({ object: { upstream: 'http://127.0.0.1:1', admin: { token: 'inline-secret' } }, env: {} }))
  assert.equal(inline[0]!.path, '/admin/token')
})

test('CORS: "*" with credentials is rejected; "*" alone is accepted', () => {
  const bad = issues(() => loadConfig({ object: { upstream: 'http://127.0.0.1:1', cors: { allow_origins: ['*'], allow_credentials: true } }, env: {} }))
  assert.ok(bad.some((i) => i.path === '/cors'))
  const ok = loadConfig({ object: { upstream: 'http://127.0.0.1:1', cors: { allow_origins: ['*'] } }, env: {} })
  assert.deepEqual(ok.cors?.allow_origins, ['*'])
})

test('mode defaults: development shows docs, keeps errors, one worker', () => {
  const c = loadConfig({ object: { upstream: 'http://127.0.0.1:1', mode: 'development' }, env: {} })
  assert.equal(c.docs.hidden, false)
  assert.equal(c.error_masking.enabled, false)
  assert.equal(c.workers, 1)
})

test('missing upstream is required', () => {
  const found = issues(() => loadConfig({ object: {}, env: {} }))
  assert.equal(found[0]!.path, '/upstream')
})

test('storage.postgres and storage.redis: URLs as secrets, TLS files relative to the config, durations; checked without echoing the URL', () => {
  const ca = tmpFile('ca.pem', 'not parsed here')
  const env = { TEST_PG: 'postgres://drawbridge:hunter2hunter2@db.internal:5432/app', TEST_REDIS: 'rediss://:hunter2hunter2@cache.internal:6380/0' }
  const c = loadConfig({
    object: {
      upstream: 'http://127.0.0.1:1',
      storage: {
        postgres: { url: { from_env: 'TEST_PG' }, pool_size: 4, tls: { mode: 'verify-full', ca_file: ca } },
        redis: { url: { from_env: 'TEST_REDIS' }, key_prefix: 'prod:', command_timeout: '250ms' },
      },
      bans: { enabled: true, window: '5m', allow_ips: ['10.0.0.0/8', '::1'] },
    },
    env,
  })
  assert.equal(c.storage.postgres?.url, env.TEST_PG)
  assert.equal(c.storage.postgres?.pool_size, 4)
  assert.equal(c.storage.postgres?.tls?.mode, 'verify-full')
  assert.equal(c.storage.postgres?.tls?.ca_file, ca)
  assert.equal(c.storage.redis?.command_timeout, 250)
  assert.equal(c.storage.redis?.connect_timeout, 2000)
  assert.equal(c.storage.redis?.tls, null)
  assert.equal(c.bans.window, 300_000)
  assert.equal(c.bans.duration, 3_600_000)

  const inline = issues(() => loadConfig({ object: { upstream: 'http://127.0.0.1:1', storage: { redis: { url: 'redis://127.0.0.1:6379' } } }, env: {} }))
  assert.equal(inline[0]!.path, '/storage/redis/url')
  const scheme = issues(() =>
    loadConfig({
      object: { upstream: 'http://127.0.0.1:1', storage: { postgres: { url: { from_env: 'TEST_PG' } } } },
      env: { TEST_PG: 'mysql://u:hunter2hunter2@h/db' },
    }),
  )
  assert.equal(scheme[0]!.path, '/storage/postgres/url')
  assert.ok(!JSON.stringify(scheme).includes('hunter2'), 'the problem never repeats the URL (it holds the password)')
  const both = issues(() =>
    loadConfig({ object: { upstream: 'http://127.0.0.1:1', storage: { memory: true, redis: { url: { from_env: 'TEST_REDIS' } } } }, env }),
  )
  assert.ok(both.some((i) => i.path === '/storage/memory'))
  const halfCert = issues(() =>
    loadConfig({ object: { upstream: 'http://127.0.0.1:1', storage: { redis: { url: { from_env: 'TEST_REDIS' }, tls: { cert_file: ca } } } }, env }),
  )
  assert.ok(halfCert.some((i) => i.path.startsWith('/storage/redis/tls')))
  const missingFile = issues(() =>
    loadConfig({
      object: { upstream: 'http://127.0.0.1:1', storage: { postgres: { url: { from_env: 'TEST_PG' }, tls: { ca_file: '/nonexistent/ca.pem' } } } },
      env,
    }),
  )
  assert.ok(missingFile.some((i) => i.path === '/storage/postgres/tls/ca_file'))
  const cidr = issues(() => loadConfig({ object: { upstream: 'http://127.0.0.1:1', bans: { allow_ips: ['10.0.0.0/33'] } }, env: {} }))
  assert.equal(cidr[0]!.path, '/bans/allow_ips/0')
})

test('warnings for half-shared deployments: Redis without PostgreSQL, PostgreSQL without Redis for limits', () => {
  const env = { TEST_PG: 'postgres://u:p@db/app', TEST_REDIS: 'redis://cache:6379' }
  const redisOnly = loadConfig({ object: { upstream: 'http://127.0.0.1:1', storage: { redis: { url: { from_env: 'TEST_REDIS' } } } }, env })
  assert.ok(configWarnings(redisOnly).some((w) => w.startsWith('storage.redis without storage.postgres')))
  const pgOnly = loadConfig({
    object: { upstream: 'http://127.0.0.1:1', storage: { postgres: { url: { from_env: 'TEST_PG' } } }, rate_limits: [{ key: 'ip', limit: '5/minute' }] },
    env,
  })
  assert.ok(configWarnings(pgOnly).some((w) => w.startsWith('storage.postgres without storage.redis')))
  const both = loadConfig({
    object: {
      upstream: 'http://127.0.0.1:1',
      storage: { postgres: { url: { from_env: 'TEST_PG' } }, redis: { url: { from_env: 'TEST_REDIS' } } },
      rate_limits: [{ key: 'ip', limit: '5/minute' }],
    },
    env,
  })
  assert.deepEqual(
    configWarnings(both).filter((w) => w.startsWith('storage.')),
    [],
  )
})

test('request_headers: default strip list, names lower-cased, env lists, bad names refused', () => {
  const d = loadConfig({ object: { upstream: 'http://127.0.0.1:8000' }, env: {} })
  assert.deepEqual(d.request_headers.allow_underscores, [])
  assert.ok(d.request_headers.strip.includes('x-original-url'))
  assert.ok(d.request_headers.strip.includes('true-client-ip'))
  const c = loadConfig({
    object: { upstream: 'http://127.0.0.1:8000', request_headers: { allow_underscores: ['X_Tenant_Id'] } },
    env: { DRAWBRIDGE_REQUEST_HEADERS__STRIP: 'X-Debug,X-Original-URL' },
  })
  assert.deepEqual(c.request_headers.allow_underscores, ['x_tenant_id'])
  assert.deepEqual(c.request_headers.strip, ['x-debug', 'x-original-url'])
  const bad = issues(() =>
    loadConfig({ object: { upstream: 'http://127.0.0.1:8000', request_headers: { allow_underscores: ['bad name'], strip: ['x:y'] } }, env: {} }),
  )
  assert.deepEqual(bad.map((i) => i.path).sort(), ['/request_headers/allow_underscores/0', '/request_headers/strip/0'])
})
