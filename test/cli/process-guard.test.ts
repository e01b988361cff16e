import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { classify } from '../../src/cli/process-guard.js'
import { startUpstream } from '../helpers/upstream.js'
import { freePort } from '../helpers/net.js'
import { request } from '../helpers/http.js'
import { waitForLog } from '../helpers/process.js'

const here = fileURLToPath(import.meta.url)
const root = resolve(here, '../../../..')
const bin = join(root, 'bin/drawbridge.js')
const fixture = pathToFileURL(resolve(here, '../../fixtures/fault-injection.js')).href

/** `drawbridge start` with the fault-injection fixture loaded; resolves once `listening` lines were seen. */
async function startWithFaults(upstream: string, workers: number, faults: string): Promise<{ child: ChildProcess; url: string; admin: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'drawbridge-guard-'))
  const [port, adminPort] = [await freePort(), await freePort()]
  const file = join(dir, 'drawbridge.yaml')
  writeFileSync(
    file,
    `upstream: ${upstream}\nlisten: 127.0.0.1:${port}\nadmin: { listen: 127.0.0.1:${adminPort} }\nworkers: ${workers}\nstorage: { memory: true }\nshutdown: { drain_timeout: 20s }\n`,
  )
  const child = spawn(process.execPath, ['--import', fixture, bin, 'start', '--config', file], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The single-core relaunch would put a parent in between that does not pass SIGUSR2 on.
    env: { ...process.env, DRAWBRIDGE_CONFIG: '', DRAWBRIDGE_RELAUNCH: '0', FAULT_KINDS: faults },
  })
  let listening = 0
  await waitForLog(child, (l) => l.msg === 'listening' && ++listening === workers, 20_000)
  return { child, url: `http://127.0.0.1:${port}`, admin: `http://127.0.0.1:${adminPort}` }
}

function exitOf(child: ChildProcess, ms: number): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return Promise.race([
    once(child, 'exit').then(([code]) => code as number | null),
    new Promise<never>((_r, reject) => setTimeout(() => reject(new Error(`no exit within ${ms} ms`)), ms).unref()),
  ])
}

describe('process guard', () => {
  test('a peer that went away is a connection error; anything else is fatal', () => {
    assert.equal(classify(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), 'connection')
    assert.equal(classify(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })), 'connection')
    assert.equal(classify(new TypeError("Cannot read properties of undefined (reading 'x')")), 'fatal')
    assert.equal(classify(Object.assign(new Error('x'), { code: 'ERR_HTTP_HEADERS_SENT' })), 'fatal')
    assert.equal(classify('a string'), 'fatal')
    assert.equal(classify({ code: 'ECONNRESET' }), 'fatal', 'only an Error with that code')
  })

  test('single process: an uncaught connection error is logged and counted and it serves on; a fatal rejection drains in-flight requests and exits 70 (unguarded process)', async () => {
    const up = await startUpstream((req, res) => {
      setTimeout(() => res.end(req.url), req.url === '/slow' ? 500 : 0)
    })
    const { child, url, admin } = await startWithFaults(up.url, 1, 'connection,rejection')
    try {
      const served = waitForLog(child, (l) => l.msg === 'uncaught connection error: serving on')
      child.kill('SIGUSR2')
      const line = await served
      assert.equal(line.code, 'ECONNRESET')
      assert.equal((await request(url + '/after')).status, 200)
      assert.match((await request(admin + '/metrics')).text, /drawbridge_uncaught_exceptions_total\{kind="connection"\} 1\n/)

      const slow = request(url + '/slow')
      await new Promise((r) => setTimeout(r, 100))
      const fatal = waitForLog(child, (l) => l.msg === 'uncaught exception: draining and exiting')
      child.kill('SIGUSR2')
      const logged = await fatal
      assert.equal(logged.origin, 'unhandledRejection')
      assert.match(String(logged.err), /injected rejection/)
      // The request in flight finishes; then the process exits for a fresh one.
      assert.equal((await slow).status, 200)
      assert.equal(await exitOf(child, 10_000), 70)
    } finally {
      child.kill('SIGKILL')
      await up.close()
    }
  })

  test('--workers 2: a worker with an uncaught exception is replaced and the port keeps answering (unguarded worker)', async () => {
    const up = await startUpstream()
    const { child, url, admin } = await startWithFaults(up.url, 2, 'fatal')
    try {
      const workers = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map(Number)
      assert.equal(workers.length, 2)
      const replaced = waitForLog(child, (l) => l.msg === 'worker exited; starting a new one', 20_000)
      const relistening = waitForLog(child, (l) => l.msg === 'listening', 30_000)
      process.kill(workers[0]!, 'SIGUSR2')
      const exited = await replaced
      assert.equal(exited.code, 70)
      // Meanwhile the other worker answers; fresh connections, so the primary spreads them.
      for (let i = 0; i < 6; i++) assert.equal((await request(url + '/during', { headers: { connection: 'close' } })).status, 200)
      await relistening
      const now = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map(Number)
      assert.equal(now.length, 2)
      assert.ok(!now.includes(workers[0]!), 'the failed worker is gone')
      for (let i = 0; i < 6; i++) assert.equal((await request(url + '/after', { headers: { connection: 'close' } })).status, 200)
      // Counted by the primary: the count outlives the worker.
      assert.match((await request(admin + '/metrics')).text, /drawbridge_uncaught_exceptions_total\{kind="fatal"\} 1\n/)
      child.kill('SIGTERM')
      assert.equal(await exitOf(child, 10_000), 0)
    } finally {
      child.kill('SIGKILL')
      await up.close()
    }
  })
})
