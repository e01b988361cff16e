import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { request as undiciRequest, Agent } from 'undici'
import { startGateway } from '../helpers/gateway.js'
import { startUpstream } from '../helpers/upstream.js'
import { request } from '../helpers/http.js'
import { selfSignedCert } from '../helpers/tls.js'
import { testConfig } from '../helpers/gateway.js'

describe('TLS listener and the HTTP->HTTPS redirect', () => {
  test('HTTPS serves with HSTS and Secure cookies; plain HTTP redirects trusted hosts only', async () => {
    const { cert, key } = selfSignedCert()
    const up = await startUpstream((_req, res) => {
      res.writeHead(200, { 'set-cookie': 'sid=1; Path=/' })
      res.end('ok')
    })
    const gw = await startGateway({ upstream: up.url, tls: { cert_file: cert, key_file: key, redirect_http_listen: '127.0.0.1:0' } })
    const agent = new Agent({ connect: { ca: readFileSync(cert), servername: 'localhost' } })
    try {
      const port = new URL(gw.url).port
      const res = await undiciRequest(`https://localhost:${port}/x`, { dispatcher: agent })
      assert.equal(res.statusCode, 200)
      assert.equal(await res.body.text(), 'ok')
      assert.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains')
      assert.equal(res.headers['set-cookie'], 'sid=1; Path=/; SameSite=Lax; Secure; HttpOnly')
      assert.equal(up.seen.at(-1)!.headers['x-forwarded-proto'], 'https')

      const redirect = await request(gw.redirectUrl! + '/path?q=1')
      assert.equal(redirect.status, 308)
      assert.equal(redirect.headers['location'], `https://localhost:${port}/path?q=1`)
      const open = await request(gw.redirectUrl! + '/path', { headers: { host: 'evil.com' } })
      assert.equal(open.status, 400, 'no open redirect to a foreign host')
    } finally {
      await agent.close()
      await gw.close()
      await up.close()
    }
  })
})

describe('reload and drain', () => {
  test('reload swaps the configuration without dropping an in-flight request', async () => {
    let release: (() => void) | null = null
    const up = await startUpstream((req, res) => {
      if (req.url === '/slow') release = () => res.end('slow-done')
      else res.end('ok')
    })
    const gw = await startGateway({ upstream: up.url, trusted_hosts: ['localhost'] })
    try {
      const inflight = request(gw.url + '/slow')
      while (release === null) await new Promise((r) => setTimeout(r, 10))
      await gw.gateway.reload(testConfig({ upstream: up.url, trusted_hosts: ['api.example.com'] }))
      ;(release as () => void)()
      const r = await inflight
      assert.equal(r.status, 200)
      assert.equal(r.text, 'slow-done')
      assert.equal((await request(gw.url + '/x', { headers: { host: 'localhost' } })).status, 400)
      assert.equal((await request(gw.url + '/x', { headers: { host: 'api.example.com' } })).status, 200)
    } finally {
      await gw.close()
      await up.close()
    }
  })

  test('close drains in-flight requests, then stops accepting', async () => {
    let release: (() => void) | null = null
    const up = await startUpstream((_req, res) => {
      release = () => res.end('finished')
    })
    const gw = await startGateway({ upstream: up.url })
    const inflight = request(gw.url + '/slow')
    while (release === null) await new Promise((r) => setTimeout(r, 10))
    const closing = gw.gateway.close(5000)
    setTimeout(() => (release as () => void)(), 200)
    const r = await inflight
    assert.equal(r.status, 200)
    assert.equal(r.text, 'finished')
    await closing
    await assert.rejects(request(gw.url + '/again'))
    await up.close()
  })

  test('close cuts requests still running at the drain deadline', async () => {
    const up = await startUpstream(() => undefined) // never answers
    const gw = await startGateway({ upstream: up.url })
    const inflight = request(gw.url + '/hang').then(
      (r) => r.status,
      () => 'cut',
    )
    await new Promise((r) => setTimeout(r, 100))
    const started = Date.now()
    await gw.gateway.close(300)
    assert.ok(Date.now() - started < 3000)
    assert.equal(await inflight, 'cut')
    await up.close()
  })
})
