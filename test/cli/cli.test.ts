import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import { startUpstream } from '../helpers/upstream.js'
import { freePort } from '../helpers/net.js'
import { request } from '../helpers/http.js'
import { waitForLog } from '../helpers/process.js'

const root = resolve(fileURLToPath(import.meta.url), '../../../..')
const bin = join(root, 'bin/drawbridge.js')

function run(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, DRAWBRIDGE_CONFIG: '' } })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

/** SIGTERM drains and exits 0. */
async function assertStopsCleanly(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const [code] = await exited
  assert.equal(code, 0)
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'drawbridge-cli-'))
}

/** `drawbridge start` with two workers (memory storage) and `settings`; resolves once both listen. */
async function startTwoWorkers(upstream: string, settings: string): Promise<{ child: ChildProcess; port: number; adminPort: number }> {
  const dir = tmp()
  const [port, adminPort] = [await freePort(), await freePort()]
  const file = join(dir, 'drawbridge.yaml')
  writeFileSync(
    file,
    `upstream: ${upstream}\nlisten: 127.0.0.1:${port}\nadmin: { listen: 127.0.0.1:${adminPort} }\nworkers: 2\nstorage: { memory: true }\n${settings}`,
  )
  const child = spawn(process.execPath, [bin, 'start', '--config', file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let listening = 0
  await waitForLog(child, (l) => l.msg === 'listening' && ++listening === 2, 20_000)
  return { child, port, adminPort }
}

describe('drawbridge CLI', () => {
  test('--version and --help', () => {
    const v = run(['--version'])
    assert.equal(v.code, 0)
    assert.equal(v.out.trim(), JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version)
    const h = run(['--help'])
    assert.equal(h.code, 0)
    assert.match(h.out, /drawbridge start/)
    assert.equal(run(['bogus']).code, 64)
  })

  test('init writes a config and a .env with fresh secrets, validates, and refuses to overwrite', () => {
    const dir = tmp()
    const first = run(['init', '--dir', dir])
    assert.equal(first.code, 0)
    const env = readFileSync(join(dir, '.env'), 'utf8')
    assert.match(env, /^DRAWBRIDGE_SECRET_ADMIN_TOKEN=[A-Za-z0-9_-]{43}$/m)
    assert.equal(statSync(join(dir, '.env')).mode & 0o777, 0o600)
    const other = tmp()
    run(['init', '--dir', other])
    assert.notEqual(readFileSync(join(other, '.env'), 'utf8'), env, 'secrets are fresh each time')
    assert.equal(run(['validate', '--config', join(dir, 'drawbridge.yaml')]).code, 0)
    const again = run(['init', '--dir', dir])
    assert.equal(again.code, 1)
    assert.equal(readFileSync(join(dir, '.env'), 'utf8'), env)
  })

  test('init --dir creates a missing folder; one it cannot create is a clear error and exit 1, not a stack trace (init crash on a missing folder)', () => {
    const parent = tmp()
    const dir = join(parent, 'new', 'nested')
    const r = run(['init', '--dir', dir])
    assert.equal(r.code, 0)
    assert.equal(statSync(join(dir, '.env')).mode & 0o777, 0o600)
    assert.equal(run(['validate', '--config', join(dir, 'drawbridge.yaml')]).code, 0)
    const file = join(parent, 'a-file')
    writeFileSync(file, '')
    const bad = run(['init', '--dir', join(file, 'sub')])
    assert.equal(bad.code, 1)
    assert.match(bad.err, /^drawbridge init: /)
    assert.doesNotMatch(bad.err, /\n\s+at /, 'no stack trace')
  })

  test('validate prints every problem with its path and exits non-zero', () => {
    const dir = tmp()
    const file = join(dir, 'bad.yaml')
    writeFileSync(file, 'upstream: nope\nlisten: 1.2.3.4\nextra: 1\ncors: { allow_origins: ["*"], allow_credentials: true }\n')
    const r = run(['validate', '--config', file])
    assert.equal(r.code, 2)
    for (const p of ['/upstream/url', '/listen', '/extra', '/cors']) assert.match(r.err, new RegExp(`${p}:`))
  })

  test('start: serves, reloads on SIGHUP (keeping the old config when the new one is invalid), drains on SIGTERM', async () => {
    const up = await startUpstream()
    const dir = tmp()
    const port = await freePort()
    const file = join(dir, 'drawbridge.yaml')
    const yaml = (hosts: string) =>
      `upstream: ${up.url}\nlisten: 127.0.0.1:${port}\nmode: production\nworkers: 1\nadmin: { listen: "off" }\ntrusted_hosts: [${hosts}]\n`
    writeFileSync(file, yaml('localhost'))
    const child = spawn(process.execPath, [bin, 'start', '--config', file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      await waitForLog(child, (l) => l.msg === 'listening')
      const url = `http://127.0.0.1:${port}`
      assert.equal((await request(url + '/a')).status, 200)

      writeFileSync(file, yaml('api.example.com'))
      const reloaded = waitForLog(child, (l) => l.msg === 'configuration reloaded')
      child.kill('SIGHUP')
      await reloaded
      assert.equal((await request(url + '/a')).status, 400)
      assert.equal((await request(url + '/a', { headers: { host: 'api.example.com' } })).status, 200)

      writeFileSync(file, 'upstream: 12\nnot_a_setting: true\n')
      const rejected = waitForLog(child, (l) => l.msg === 'reload rejected: the new configuration is invalid; the old one keeps running')
      child.kill('SIGHUP')
      await rejected
      assert.equal((await request(url + '/a', { headers: { host: 'api.example.com' } })).status, 200)

      await assertStopsCleanly(child)
    } finally {
      child.kill('SIGKILL')
      await up.close()
    }
  })

  test('start: a failed start exits 1 at once, also with the admin listener open and with --workers 2 (failed start hung, ignored SIGTERM)', async () => {
    const dir = tmp()
    const taken = createServer()
    taken.listen(0, '127.0.0.1')
    await once(taken, 'listening')
    const port = (taken.address() as AddressInfo).port
    try {
      for (const workers of [1, 2]) {
        const adminPort = await freePort()
        const file = join(dir, `taken-${workers}.yaml`)
        writeFileSync(
          file,
          `upstream: http://127.0.0.1:9\nlisten: 127.0.0.1:${port}\nadmin: { listen: 127.0.0.1:${adminPort} }\nworkers: ${workers}\nstorage: { memory: true }\n`,
        )
        const child = spawn(process.execPath, [bin, 'start', '--config', file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
        try {
          const failed = waitForLog(child, (l) => l.msg === 'failed to start', 20_000)
          const exited = once(child, 'exit')
          await failed
          const deadline = setTimeout(() => child.kill('SIGKILL'), 10_000)
          const [code] = await exited
          clearTimeout(deadline)
          assert.equal(code, 1, `--workers ${workers}`)
        } finally {
          child.kill('SIGKILL')
        }
      }
    } finally {
      taken.close()
    }
  })

  test('start --workers 2: SIGTERM while the workers are still starting exits at once, not after the drain deadline (stop ignored by starting workers)', async () => {
    const dir = tmp()
    const [port, adminPort] = [await freePort(), await freePort()]
    const file = join(dir, 'drawbridge.yaml')
    writeFileSync(
      file,
      `upstream: http://127.0.0.1:9\nlisten: 127.0.0.1:${port}\nadmin: { listen: 127.0.0.1:${adminPort} }\nworkers: 2\nstorage: { memory: true }\nshutdown: { drain_timeout: 60s }\n`,
    )
    const child = spawn(process.execPath, [bin, 'start', '--config', file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      await waitForLog(child, (l) => l.msg === 'primary started', 20_000)
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      const deadline = setTimeout(() => child.kill('SIGKILL'), 15_000)
      const [code, signal] = await exited
      clearTimeout(deadline)
      assert.deepEqual([code, signal], [0, null])
    } finally {
      child.kill('SIGKILL')
    }
  })

  test('start --workers 2: a rate limit is counted once for the machine, not once per worker', async () => {
    const up = await startUpstream()
    const { child, port, adminPort } = await startTwoWorkers(up.url, 'rate_limits:\n  - { key: ip, limit: 5/minute }\n')
    try {
      const url = `http://127.0.0.1:${port}`
      const statuses: number[] = []
      // One connection per request: the primary hands them to both workers in turn.
      for (let i = 0; i < 8; i++) statuses.push((await request(url + '/n', { headers: { connection: 'close' } })).status)
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429])
      const m = await request(`http://127.0.0.1:${adminPort}/metrics`)
      assert.match(m.text, /drawbridge_requests_total\{status="200",route="default"\} 5\n/)
      await assertStopsCleanly(child)
    } finally {
      child.kill('SIGKILL')
      await up.close()
    }
  })

  test('start --workers 2: a ban issued by one worker is enforced by both, and by a worker started after it', async () => {
    const up = await startUpstream()
    const { child, port } = await startTwoWorkers(up.url, 'bans: { enabled: true, waf_blocks: 2, window: 1m, duration: 10m }\n')
    try {
      const url = `http://127.0.0.1:${port}`
      const fresh = { headers: { connection: 'close' } }
      assert.equal((await request(`${url}/ok`, fresh)).status, 200)
      // Two blocks, on fresh connections: counted in the primary, whichever worker took them.
      for (let i = 0; i < 2; i++)
        assert.equal((await request(`${url}/q?id=${encodeURIComponent("1' OR '1'='1")}`, fresh)).json().code, 'DRAWBRIDGE_ERR_BLOCKED')
      await new Promise((r) => setTimeout(r, 200))
      const after = async () => {
        const codes = new Set<string>()
        for (let i = 0; i < 6; i++) codes.add((await request(`${url}/ok`, fresh)).json().code)
        return [...codes]
      }
      assert.deepEqual(await after(), ['DRAWBRIDGE_ERR_BANNED'])
      // A worker that dies is replaced; the new one learns the running ban from the primary.
      const workers = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
        .trim()
        .split('\n')
      process.kill(Number(workers[0]), 'SIGKILL')
      await waitForLog(child, (l) => l.msg === 'listening', 20_000)
      await new Promise((r) => setTimeout(r, 300))
      assert.deepEqual(await after(), ['DRAWBRIDGE_ERR_BANNED'])
      await assertStopsCleanly(child)
    } finally {
      child.kill('SIGKILL')
      await up.close()
    }
  })

  test('start --workers 2: both workers serve one port; the primary sums their metrics', async () => {
    const up = await startUpstream()
    const dir = tmp()
    const [port, adminPort] = [await freePort(), await freePort()]
    const child = spawn(
      process.execPath,
      [
        bin,
        'start',
        '--upstream',
        up.url,
        '--listen',
        `127.0.0.1:${port}`,
        '--admin-listen',
        `127.0.0.1:${adminPort}`,
        '--workers',
        '2',
        '--mode',
        'production',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    try {
      let listening = 0
      await waitForLog(child, (l) => l.msg === 'listening' && ++listening === 2, 20_000)
      const url = `http://127.0.0.1:${port}`
      for (let i = 0; i < 20; i++) assert.equal((await request(url + '/n', { headers: { connection: 'close' } })).status, 200)
      const m = await request(`http://127.0.0.1:${adminPort}/metrics`)
      assert.equal(m.status, 200)
      assert.match(m.text, /drawbridge_requests_total\{status="200",route="default"\} 20\n/)
      await assertStopsCleanly(child)
    } finally {
      child.kill('SIGKILL')
      await up.close()
    }
  })
})
