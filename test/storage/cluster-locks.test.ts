/**
 * Locks between the workers of one machine (`--workers N` without Redis), with real workers:
 * the primary holds them, so a lock named once is held once on the machine, not once per worker.
 */
import { after, before, describe, test } from 'node:test'
import cluster, { type Worker } from 'node:cluster'
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
import { serveWorkerLocks } from '../../src/storage/cluster/locks.js'

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
      request(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({ username: 'alice', password: pw }),
      })

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

describe('cluster locks with real workers', () => {
  const worker = join(root, 'dist/test/helpers/lock-worker.js')
  let stop: () => void
  before(() => {
    stop = serveWorkerLocks()
    cluster.setupPrimary({ exec: worker, execArgv: [], silent: true })
  })
  after(() => stop())

  const fork = async (): Promise<Worker> => {
    const w = cluster.fork()
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('worker not ready')), 10_000)
      w.on('message', (m: { ready?: boolean }) => {
        if (m.ready === true) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    return w
  }
  /** The worker's next message with `key` (and, given `name`, about that lock name). */
  const message = <T>(w: Worker, key: string, name?: string, timeoutMs = 10_000) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${key} from worker`)), timeoutMs)
      const on = (m: Record<string, unknown>) => {
        if (!(key in m) || (name !== undefined && m['name'] !== name)) return
        clearTimeout(timer)
        w.off('message', on)
        resolve(m as T)
      }
      w.on('message', on)
    })

  test('callers on two workers never hold one name at the same time; another name is not held up', async () => {
    const [a, b] = [await fork(), await fork()]
    try {
      const run = (w: Worker, name: string) => {
        const done = message<{ held: [number, number][]; failed: number }>(w, 'held', name)
        w.send({ run: { name, count: 8, holdMs: 15, ttlMs: 10_000 } })
        return done
      }
      const [ra, rb, other] = await Promise.all([run(a, 'login:acct:x'), run(b, 'login:acct:x'), run(a, 'login:acct:y')])
      assert.equal(ra.failed + rb.failed + other.failed, 0)
      const spans = [...ra.held, ...rb.held].sort((p, q) => p[0] - q[0])
      assert.equal(spans.length, 16)
      for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1], `overlap at ${i}: ${JSON.stringify(spans.slice(i - 1, i + 1))}`)
      // 16 holds of 15 ms one after another, while the other name ran beside them.
      assert.ok(spans[15]![1] - spans[0]![0] >= 16 * 15 - 1)
      assert.ok(other.held[0]![0] < spans[15]![0])
    } finally {
      a.kill('SIGKILL')
      b.kill('SIGKILL')
    }
  })

  test('a worker that dies holding a lock gives it up at once, not after its ttl', async () => {
    const [a, b] = [await fork(), await fork()]
    try {
      const holding = message<{ holding: number }>(a, 'holding')
      a.send({ run: { name: 'login:acct:z', count: 1, holdMs: 60_000, ttlMs: 60_000 } })
      await holding
      a.process.kill('SIGKILL')
      const started = Date.now()
      const done = message<{ held: [number, number][]; failed: number }>(b, 'held')
      b.send({ run: { name: 'login:acct:z', count: 1, holdMs: 1, ttlMs: 60_000 } })
      const r = await done
      assert.equal(r.failed, 0)
      assert.ok(Date.now() - started < 5000)
    } finally {
      a.kill('SIGKILL')
      b.kill('SIGKILL')
    }
  })
})
