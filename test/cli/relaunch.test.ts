import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { gcFlag, shouldRelaunch } from '../../src/cli/relaunch.js'
import { startUpstream } from '../helpers/upstream.js'
import { freePort } from '../helpers/net.js'
import { request } from '../helpers/http.js'
import { waitForLog } from '../helpers/process.js'

const root = resolve(fileURLToPath(import.meta.url), '../../../..')
const bin = join(root, 'bin/drawbridge.js')

test('shouldRelaunch: only `start`, only on one core, only without the flag or the opt-out', () => {
  assert.equal(shouldRelaunch(['start'], [], 1, {}), true)
  assert.equal(shouldRelaunch(['start', '--config', 'x'], ['--max-old-space-size=512'], 1, {}), true)
  assert.equal(shouldRelaunch(['start'], [], 2, {}), false, 'several cores')
  assert.equal(shouldRelaunch(['validate'], [], 1, {}), false, 'other commands')
  assert.equal(shouldRelaunch(['start'], [gcFlag], 1, {}), false, 'flag already given')
  assert.equal(shouldRelaunch(['start'], [], 1, { DRAWBRIDGE_RELAUNCH: '0' }), false, 'opted out')
  assert.equal(shouldRelaunch(['start'], [], 1, { DRAWBRIDGE_RELAUNCHED: '1' }), false, 'already the relaunched child')
})

describe('drawbridge start on one core (taskset -c 0)', () => {
  async function startPinned(
    cpus: string | null,
    env: Record<string, string> = {},
  ): Promise<{ child: ChildProcess; url: string; runtime: Record<string, unknown>; close: () => Promise<void> }> {
    const up = await startUpstream()
    const dir = mkdtempSync(join(tmpdir(), 'drawbridge-relaunch-'))
    const port = await freePort()
    const file = join(dir, 'drawbridge.yaml')
    const yaml = (hosts: string) =>
      `upstream: ${up.url}\nlisten: 127.0.0.1:${port}\nmode: production\nworkers: 1\nadmin: { listen: "off" }\nstorage: { memory: true }\ntrusted_hosts: [${hosts}]\n`
    writeFileSync(file, yaml('localhost'))
    const [cmd, args] =
      cpus === null ? [process.execPath, [bin, 'start', '--config', file]] : ['taskset', ['-c', cpus, process.execPath, bin, 'start', '--config', file]]
    const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DRAWBRIDGE_CONFIG: '', ...env } })
    // both lines from one reader: they may come in one chunk
    let runtime: Record<string, unknown> = {}
    try {
      await waitForLog(child, (l) => {
        if (l.msg === 'runtime') runtime = l
        return l.msg === 'listening'
      })
    } catch (err) {
      child.kill('SIGTERM')
      await up.close()
      throw err
    }
    // the next config for the reload check
    writeFileSync(file, yaml('api.example.com'))
    return { child, url: `http://127.0.0.1:${port}`, runtime, close: () => up.close() }
  }

  test('runs the gateway in a child under --single-threaded-gc; signals pass through; exit code 0 after draining', async () => {
    const g = await startPinned('0')
    try {
      assert.deepEqual(g.runtime.node_flags, [gcFlag])
      assert.equal(g.runtime.cores, 1)
      assert.notEqual(g.runtime.pid, g.child.pid, 'served by the relaunched child')
      assert.equal((await request(g.url + '/a')).status, 200)

      const reloaded = waitForLog(g.child, (l) => l.msg === 'configuration reloaded')
      g.child.kill('SIGHUP')
      await reloaded
      assert.equal((await request(g.url + '/a')).status, 400, 'the reloaded trusted_hosts apply')

      const exited = once(g.child, 'exit')
      g.child.kill('SIGTERM')
      const [code] = await exited
      assert.equal(code, 0)
      await assert.rejects(request(g.url + '/a'), 'nothing listens any more')
    } finally {
      g.child.kill('SIGKILL')
      await g.close()
    }
  })

  test('the child drains and exits when the parent is killed outright', async () => {
    const g = await startPinned('0')
    try {
      const stopped = waitForLog(g.child, (l) => l.msg === 'stopped')
      g.child.kill('SIGKILL')
      await stopped
      let refused = false
      for (let i = 0; i < 50 && !refused; i++) {
        refused = await request(g.url + '/a').then(
          () => false,
          () => true,
        )
        if (!refused) await sleep(100)
      }
      assert.ok(refused, 'the orphaned child stopped serving')
    } finally {
      await g.close()
    }
  })

  /** Started as given, served by that same process under V8's defaults; its runtime log line. */
  async function assertServesItself(cpus: string | null, env: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const g = await startPinned(cpus, env)
    try {
      assert.deepEqual(g.runtime.node_flags, [])
      assert.equal(g.runtime.pid, g.child.pid)
      assert.equal((await request(g.url + '/a')).status, 200)
      return g.runtime
    } finally {
      g.child.kill('SIGTERM')
      await once(g.child, 'exit')
      await g.close()
    }
  }

  test('DRAWBRIDGE_RELAUNCH=0: no relaunch, and the variable is not taken for a configuration setting', async () => {
    const runtime = await assertServesItself('0', { DRAWBRIDGE_RELAUNCH: '0' })
    assert.equal(runtime.cores, 1)
  })

  test(
    'on several cores the gateway runs in the process started (no relaunch)',
    { skip: availableParallelism() === 1 && 'this machine has one core' },
    async () => {
      await assertServesItself(null)
    },
  )
})
