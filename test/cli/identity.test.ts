/** `drawbridge users|keys|apikeys`, run as real processes on a real SQLite file, then used by a gateway. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseEnv } from 'node:util'
import { loadConfig } from '../../src/config/load.js'
import { createGateway } from '../../src/gateway/index.js'
import { Logger } from '../../src/observability/logger.js'
import { startUpstream } from '../helpers/upstream.js'
import { request } from '../helpers/http.js'

const root = resolve(fileURLToPath(import.meta.url), '../../../..')
const bin = join(root, 'bin/drawbridge.js')

function run(args: string[], cwd: string, input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', input, env: { ...process.env, DRAWBRIDGE_CONFIG: '' } })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe('identity CLI', () => {
  test('init writes a key-encryption key; users, apikeys and keys manage the store a gateway then uses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drawbridge-idcli-'))
    const up = await startUpstream()
    assert.equal(run(['init', '--dir', dir, '--upstream', up.url], dir).code, 0)
    const env = readFileSync(join(dir, '.env'), 'utf8')
    assert.match(env, /^DRAWBRIDGE_SECRET_KEY_ENCRYPTION_KEY=[0-9a-f]{64}$/m)
    const file = join(dir, 'drawbridge.yaml')
    const yaml = readFileSync(file, 'utf8')
      .replace('# auth:', 'auth:')
      .replace('#   key_encryption_key:', '  key_encryption_key:')
      .replace('listen: 127.0.0.1:8080', 'listen: 127.0.0.1:0')
      .replace('listen: 127.0.0.1:9090', 'listen: "off"')
    writeFileSync(file, yaml)
    assert.equal(run(['validate', '--config', file], dir).code, 0, run(['validate', '--config', file], dir).err)

    const add = run(['users', 'add', 'alice', '--email', 'alice@example.com', '--role', 'admin', '--config', file], dir, 'a long and fine passphrase\n')
    assert.equal(add.code, 0, add.err)
    const weak = run(['users', 'add', 'bob', '--config', file], dir, 'password123\n')
    assert.notEqual(weak.code, 0)
    assert.match(weak.err, /too_short/)
    const list = run(['users', 'list', '--config', file], dir)
    assert.match(list.out, /^alice\talice@example\.com\tadmin\tenabled/m)
    assert.doesNotMatch(list.out, /argon2/)

    const created = run(['apikeys', 'create', '--user', 'alice', '--scopes', 'reports:read', '--expires', '90d', '--config', file], dir)
    assert.equal(created.code, 0, created.err)
    const secret = created.out.trim()
    assert.match(secret, /^dbk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/)
    const keys = run(['apikeys', 'list', '--config', file], dir)
    assert.match(keys.out, /reports:read\tactive/)
    assert.equal(keys.out.includes(secret), false)

    const rotated = run(['keys', 'rotate', '--config', file], dir)
    assert.equal(rotated.code, 0, rotated.err)
    const ring = run(['keys', 'list', '--config', file], dir)
    assert.equal(ring.out.split('\n').filter((l) => l.startsWith('jwt\t')).length, 2)
    assert.match(ring.out, /signing/)
    assert.match(ring.out, /verifies until/)

    const config = loadConfig({ file, env: { ...process.env, ...parseEnv(env) } })
    const gateway = createGateway(config, { logger: new Logger('error', { write: () => undefined }) })
    const { url } = await gateway.listen()
    try {
      const login = await request(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: 'a long and fine passphrase' }),
      })
      assert.equal(login.status, 200)
      assert.equal((await request(`${url}/anything`, { headers: { 'x-api-key': secret } })).status, 200)
      assert.equal(run(['users', 'disable', 'alice', '--config', file], dir).code, 0)
      const again = await request(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: 'a long and fine passphrase' }),
      })
      assert.equal(again.status, 401)
      const revoke = run(['apikeys', 'revoke', secret.slice(0, 12), '--config', file], dir)
      assert.equal(revoke.code, 0, revoke.err)
      await new Promise((r) => setTimeout(r, 1100))
      assert.equal((await request(`${url}/anything`, { headers: { 'x-api-key': secret } })).status, 401)
    } finally {
      await gateway.close(1000)
      await up.close()
    }
  })

  test('usage errors exit 64', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drawbridge-idcli-'))
    assert.equal(run(['users'], dir).code, 64)
    assert.equal(run(['users', 'frobnicate', 'x'], dir).code, 64)
    assert.equal(run(['apikeys', 'create'], dir).code, 64)
    assert.equal(run(['apikeys', 'create', '--user', 'a', '--expires', 'soon'], dir).code, 64)
    assert.equal(run(['keys', 'rotate', '--use', 'other'], dir).code, 64)
  })
})
