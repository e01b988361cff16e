import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { freePort } from '../helpers/net.js'
import { closeAgent, request } from '../helpers/http.js'
import { profiles } from '../../src/stages/response-hardening/profiles.js'

const proxyScript = fileURLToPath(new URL('../../bench/bare-node-proxy.js', import.meta.url))

/** Starts the bench's bare proxy in `mode` and waits until it answers. */
async function startProxy(upstream: string, mode: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort()
  const child = spawn(process.execPath, [proxyScript, String(port), upstream, mode], { stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    try {
      await request(url + '/ready')
      return { url, child }
    } catch {
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  child.kill()
  throw new Error(`bare-node-proxy (${mode}) did not start`)
}

describe('bench/bare-node-proxy', () => {
  let upstream: TestUpstream
  const children: ChildProcess[] = []
  before(async () => (upstream = await startUpstream()))
  after(async () => {
    for (const c of children) {
      c.kill()
      if (c.exitCode === null) await once(c, 'exit')
    }
    await closeAgent()
    await upstream.close()
  })

  test('stream mode passes both ways unchanged but for hop-by-hop headers', async () => {
    const p = await startProxy(upstream.url, 'stream')
    children.push(p.child)
    const r = await request(p.url + '/plain', { headers: { 'x-request-id': 'client-chosen' } })
    assert.equal(r.status, 200)
    assert.equal(r.headers['server'], 'test-upstream')
    assert.equal(r.headers['x-content-type-options'], undefined)
    assert.equal(upstream.seen.at(-1)!.headers['x-request-id'], 'client-chosen')
  })

  test('headers mode does the header work of every proxied request: the floor under Drawbridge', async () => {
    const p = await startProxy(upstream.url, 'headers')
    children.push(p.child)
    const r = await request(p.url + '/floor', { headers: { 'x-request-id': 'client-chosen', 'x-forwarded-for': '6.6.6.6' } })
    assert.equal(r.status, 200)
    const seen = upstream.seen.at(-1)!
    assert.equal(seen.url, '/floor')
    assert.match(String(seen.headers['x-request-id']), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.equal(r.headers['x-request-id'], seen.headers['x-request-id'])
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1')
    assert.equal(seen.headers['x-real-ip'], '127.0.0.1')
    assert.equal(seen.headers['x-forwarded-proto'], 'http')
    assert.equal(seen.headers['x-forwarded-host'], 'localhost')
    for (const [name, value] of Object.entries({ ...profiles.api.enforced, ...profiles.api.defaults })) assert.equal(r.headers[name], value, name)
    assert.equal(r.headers['server'], undefined)
    assert.equal(r.headers['x-powered-by'], undefined)
  })
})
