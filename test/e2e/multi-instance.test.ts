/**
 * Several instances: two real Drawbridge processes sharing a real PostgreSQL and a real
 * Redis on loopback, in front of one upstream. What one instance does, the other must honour:
 * the login limit, refresh-token reuse, logout, API key revocation, bans; and killing one
 * instance mid-traffic loses no security event it answered for.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes, randomUUID } from 'node:crypto'
import pg from 'pg'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { request } from '../helpers/http.js'
import { freePort } from '../helpers/net.js'
import { redisSkipReason, startRedis, type RedisServer } from '../helpers/redis.js'
import { freshPostgresUrl, postgresSkipReason } from '../helpers/postgres.js'

const root = resolve(fileURLToPath(import.meta.url), '../../../..')
const bin = join(root, 'bin/drawbridge.js')
const pw = 'correct horse battery staple'

interface Instance {
  readonly url: string
  readonly admin: string
  readonly child: ChildProcess
}

let redis: RedisServer | null = null
let databaseUrl: string | null = null
let up: TestUpstream
let dir: string
let file: string
let env: NodeJS.ProcessEnv
const instances: Instance[] = []
let a: Instance
let b: Instance
let skip: string | null = null

async function startInstance(): Promise<Instance> {
  const [port, adminPort] = [await freePort(), await freePort()]
  const child = spawn(
    process.execPath,
    [bin, 'start', '--config', file, '--workers', '1', '--listen', `127.0.0.1:${port}`, '--admin-listen', `127.0.0.1:${adminPort}`],
    {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const instance = { url: `http://127.0.0.1:${port}`, admin: `http://127.0.0.1:${adminPort}`, child }
  instances.push(instance)
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`drawbridge exited with ${child.exitCode}: ${stderr}`)
    const ready = await request(`${instance.admin}/readyz`).catch(() => null)
    if (ready?.status === 200 && (await request(`${instance.url}/health-of-upstream`).catch(() => null)) !== null) return instance
    if (Date.now() > deadline) throw new Error(`drawbridge not ready: ${ready?.text} ${stderr}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

function cli(args: string[], input?: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args, '--config', file], { encoding: 'utf8', input, env })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

const from = (ip: string, extra: Record<string, string> = {}) => ({ 'x-forwarded-for': ip, ...extra })
const post = (url: string, body: unknown, ip: string, ua = 'multi-instance-test') =>
  request(url, { method: 'POST', headers: from(ip, { 'content-type': 'application/json', 'user-agent': ua }), body: JSON.stringify(body) })

before(async () => {
  redis = await startRedis()
  databaseUrl = await freshPostgresUrl()
  if (redis === null || databaseUrl === null) {
    skip = redis === null ? redisSkipReason : postgresSkipReason
    return
  }
  up = await startUpstream()
  dir = mkdtempSync(join(tmpdir(), 'drawbridge-multi-'))
  file = join(dir, 'drawbridge.yaml')
  writeFileSync(
    file,
    `upstream: ${up.url}
mode: production
trusted_hosts: [localhost]
trusted_proxies: [127.0.0.1/32]
storage:
  postgres: { url: { from_env: TEST_DATABASE_URL } }
  redis: { url: { from_env: TEST_REDIS_URL }, key_prefix: "multi-${randomUUID().slice(0, 8)}:" }
auth:
  key_encryption_key: { from_env: TEST_KEK }
  default_policy: public
  revocation_check: true
  argon2: { memory_kib: 8192, iterations: 1, parallelism: 1 }
  policies:
    - { match: { path: /private }, access: authenticated }
rate_limits:
  - { name: login, match: { path: /auth/login, methods: [POST] }, key: ip, limit: 5/minute }
bans: { enabled: true, waf_blocks: 3, window: 1m, duration: 10m }
logging: { level: warn, access_log: false }
`,
  )
  env = { ...process.env, DRAWBRIDGE_CONFIG: '', TEST_DATABASE_URL: databaseUrl, TEST_REDIS_URL: redis.url, TEST_KEK: randomBytes(32).toString('hex') }
  a = await startInstance()
  b = await startInstance()
  const added = cli(['users', 'add', 'alice'], `${pw}\n`)
  assert.equal(added.code, 0, added.err)
})

after(async () => {
  for (const i of instances) if (i.child.exitCode === null) i.child.kill('SIGKILL')
  await up?.close()
  await redis?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('two instances sharing PostgreSQL and Redis', () => {
  test('a 5/minute login limit holds across instances: the 6th attempt fails whichever instance it hits', async (t) => {
    if (skip !== null) return t.skip(skip)
    const statuses: number[] = []
    for (let i = 0; i < 6; i++)
      statuses.push((await post(`${(i % 2 === 0 ? a : b).url}/auth/login`, { username: `nobody${i}`, password: 'not it at all' }, '203.0.113.50')).status)
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429])
    assert.equal((await post(`${a.url}/auth/login`, { username: 'nobody', password: 'not it at all' }, '203.0.113.50')).status, 429)
  })

  test('refresh rotated on A, the old token replayed on B by another client: the family is revoked everywhere', async (t) => {
    if (skip !== null) return t.skip(skip)
    const first = (await post(`${a.url}/auth/login`, { username: 'alice', password: pw }, '203.0.113.60')).json()
    const second = await post(`${a.url}/auth/refresh`, { refresh_token: first.refresh_token }, '203.0.113.60')
    assert.equal(second.status, 200)
    const replay = await post(`${b.url}/auth/refresh`, { refresh_token: first.refresh_token }, '198.51.100.66', 'someone else')
    assert.equal(replay.status, 401)
    // The legitimate client's newer token dies with the family, on A as on B.
    assert.equal((await post(`${a.url}/auth/refresh`, { refresh_token: second.json().refresh_token }, '203.0.113.60')).status, 401)
    assert.equal((await request(`${b.url}/private`, { headers: from('203.0.113.60', { authorization: `Bearer ${second.json().access_token}` }) })).status, 401)
  })

  test('logout on A is refused on B: neither the refresh token nor the access token works there', async (t) => {
    if (skip !== null) return t.skip(skip)
    const s = (await post(`${a.url}/auth/login`, { username: 'alice', password: pw }, '203.0.113.61')).json()
    const auth = { headers: from('203.0.113.61', { authorization: `Bearer ${s.access_token}` }) }
    assert.equal((await request(`${b.url}/private`, auth)).status, 200)
    assert.equal((await post(`${a.url}/auth/logout`, { refresh_token: s.refresh_token }, '203.0.113.61')).status, 204)
    assert.equal((await request(`${b.url}/private`, auth)).status, 401)
    assert.equal((await post(`${b.url}/auth/refresh`, { refresh_token: s.refresh_token }, '203.0.113.61')).status, 401)
  })

  test('an API key revoked elsewhere stops working on B within a second', async (t) => {
    if (skip !== null) return t.skip(skip)
    const created = cli(['apikeys', 'create', '--user', 'alice', '--name', 'ci'])
    assert.equal(created.code, 0, created.err)
    const key = created.out.trim()
    const withKey = { headers: from('203.0.113.62', { 'x-api-key': key }) }
    assert.equal((await request(`${b.url}/private`, withKey)).status, 200)
    const revoked = cli(['apikeys', 'revoke', key.slice(0, 12)])
    assert.equal(revoked.code, 0, revoked.err)
    const t0 = Date.now()
    let status = 200
    while (status === 200 && Date.now() - t0 < 3000) {
      status = (await request(`${b.url}/private`, withKey)).status
      if (status === 200) await new Promise((r) => setTimeout(r, 25))
    }
    assert.equal(status, 401)
    assert.ok(Date.now() - t0 < 1000, `${Date.now() - t0} ms`)
  })

  test('a ban issued by A is enforced by B', async (t) => {
    if (skip !== null) return t.skip(skip)
    const attack = `/search?q=${encodeURIComponent("' OR 1=1 --")}`
    for (let i = 0; i < 3; i++) assert.equal((await request(`${a.url}${attack}`, { headers: from('203.0.113.70') })).status, 403)
    const t0 = Date.now()
    let r = await request(`${b.url}/hello`, { headers: from('203.0.113.70') })
    while (r.status === 200 && Date.now() - t0 < 2000) {
      await new Promise((res) => setTimeout(res, 25))
      r = await request(`${b.url}/hello`, { headers: from('203.0.113.70') })
    }
    assert.equal(r.status, 403)
    assert.equal(r.json().code, 'DRAWBRIDGE_ERR_BANNED')
    assert.equal((await request(`${b.url}/hello`, { headers: from('203.0.113.71') })).status, 200)
  })

  test('no security event is lost when an instance is killed (SIGKILL) mid-traffic', async (t) => {
    if (skip !== null) return t.skip(skip)
    const victim = await startInstance()
    const attack = `/search?q=${encodeURIComponent('1 UNION SELECT password FROM users')}`
    const answered: string[] = []
    let sent = 0
    let killed = false
    // Eight clients, each from its own addresses (so no ban interferes), until the kill.
    await Promise.all(
      Array.from({ length: 8 }, async (_, c) => {
        for (let i = 0; i < 200 && !killed; i++) {
          sent++
          const r = await request(`${victim.url}${attack}`, { headers: from(`10.9.${c}.${i}`) }).catch(() => null)
          if (r === null) continue
          assert.equal(r.status, 403)
          answered.push(String(r.headers['x-request-id']))
          if (answered.length === 150 && !killed) {
            killed = true
            victim.child.kill('SIGKILL')
          }
        }
      }),
    )
    assert.ok(killed && answered.length >= 150, `answered ${answered.length} of ${sent}`)
    const client = new pg.Client({ connectionString: databaseUrl! })
    await client.connect()
    try {
      const found = await client.query<{ request_id: string }>('SELECT DISTINCT request_id FROM security_events WHERE request_id = ANY($1)', [answered])
      const stored = new Set(found.rows.map((r) => r.request_id))
      const lost = answered.filter((id) => !stored.has(id))
      assert.deepEqual(lost, [], `${lost.length} of ${answered.length} answered blocks have no stored event`)
    } finally {
      await client.end()
    }
  })
})
