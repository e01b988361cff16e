/**
 * Locks between the workers of one machine (`--workers N` without Redis), with real workers:
 * the primary holds them, so a lock named once is held once on the machine, not once per worker.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { startUpstream } from '../helpers/upstream.js'
import { freePort } from '../helpers/net.js'
import { request } from '../helpers/http.js'
import { waitForLog } from '../helpers/process.js'

const root = resolve(fileURLToPath(import.meta.url), '../../../..')
const bin = join(root, 'bin/drawbridge.js')
const password = 'correct horse battery staple'

test('start --workers 2 without Redis: 16 concurrent guesses at one account are verified one at a time on the machine, so only the first three are checked before the account waits', async () => {
  const up = await startUpstream()
  const dir = mkdtempSync(join(tmpdir(), 'drawbridge-cluster-locks-'))
  const file = join(dir, 'drawbridge.yaml')
  const port = await freePort()
  // The users, failure counts and locks of both workers are in the SQLite file and the primary.
  writeFileSync(
    file,
    `upstream: ${up.url}
listen: 127.0.0.1:${port}
admin: { listen: "off" }
workers: 2
mode: production
trusted_hosts: [localhost]
auth:
  key_encryption_key: { from_env: TEST_KEK }
  default_policy: public
  argon2: { memory_kib: 8192, iterations: 1, parallelism: 1 }
  brute_force: { base_delay: 30s, max_delay: 30s }
logging: { level: info, access_log: false }
`,
  )
  const env = { ...process.env, DRAWBRIDGE_CONFIG: '', TEST_KEK: randomBytes(32).toString('hex') }
  const added = spawnSync(process.execPath, [bin, 'users', 'add', 'alice', '--config', file], { cwd: dir, env, encoding: 'utf8', input: `${password}\n` })
  assert.equal(added.status, 0, added.stderr)
  let child: ChildProcess | null = null
  try {
    child = spawn(process.execPath, [bin, 'start', '--config', file], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let listening = 0
    await waitForLog(child, (l) => l.msg === 'listening' && ++listening === 2, 20_000)
    const url = `http://127.0.0.1:${port}`
    const login = (pw: string) =>
      request(`${url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify({ username: 'alice', password: pw }) })

    // The legitimate user first: one login works.
    assert.equal((await login(password)).status, 200)
    // 16 at once, on fresh connections (the primary deals them to both workers in turn).
    const statuses = await Promise.all(Array.from({ length: 16 }, (_, i) => login(`wrong guess number ${i}`).then((r) => r.status)))
    // Each 401 is one argon2 verification. One at a time on the machine: failures 1 to 3 are
    // checked, the third makes the account wait, and the other 13 are refused unchecked. Two
    // workers each checking their own guesses at once would have verified four or more.
    assert.equal(statuses.filter((s) => s === 401).length, 3, statuses.join(' '))
    assert.equal(statuses.filter((s) => s === 429).length, 13, statuses.join(' '))
  } finally {
    child?.kill('SIGKILL')
    await up.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
