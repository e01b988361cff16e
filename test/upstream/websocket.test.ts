import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { connect as netConnect } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, WebSocket } from 'ws'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { rawRequest } from '../helpers/http.js'

function connect(url: string, headers: Record<string, string>): Promise<{ ws: WebSocket | null; status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { host: 'localhost', ...headers } })
    ws.once('open', () => resolve({ ws, status: 101 }))
    ws.once('unexpected-response', (_req, res) => {
      resolve({ ws: null, status: res.statusCode ?? 0 })
      res.resume()
    })
    ws.once('error', () => resolve({ ws: null, status: 0 }))
  })
}

/** An upgrade on a raw socket that closes once the answer is read: its status and request id. */
async function rawUpgrade(gatewayUrl: string, path: string, headers: Record<string, string>): Promise<{ status: number; requestId: string | undefined }> {
  const socket = netConnect(Number(new URL(gatewayUrl).port), '127.0.0.1')
  socket.on('error', () => undefined)
  try {
    await once(socket, 'connect')
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`,
    )
    let text = ''
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')))
    await once(socket, 'end')
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
    return { status, requestId: /\r\nx-request-id: ([^\r]+)/i.exec(text)?.[1] }
  } finally {
    socket.destroy()
  }
}

describe('WebSocket upgrades', () => {
  let up: TestUpstream
  let wss: WebSocketServer
  let gw: TestGateway
  let upgrades = 0
  before(async () => {
    up = await startUpstream()
    wss = new WebSocketServer({ server: up.server })
    wss.on('connection', (socket, req) => {
      upgrades++
      socket.on('message', (m) => socket.send(`echo:${m}|xff=${req.headers['x-forwarded-for']}`))
    })
    gw = await startGateway({ upstream: up.url, cors: { allow_origins: ['https://app.example.com'] } })
  })
  after(async () => {
    await gw.close()
    wss.close()
    await up.close()
  })

  test('an allowed Origin is proxied both ways', async () => {
    const { ws, status } = await connect(gw.url.replace('http', 'ws') + '/ws', { origin: 'https://app.example.com' })
    assert.equal(status, 101)
    ws!.send('hello')
    const [msg] = await once(ws!, 'message')
    assert.equal(String(msg), 'echo:hello|xff=127.0.0.1')
    ws!.close()
  })

  test('same-origin pages and non-browser clients (no Origin) may connect', async () => {
    const same = await connect(gw.url.replace('http', 'ws') + '/ws', { origin: 'http://localhost' })
    assert.equal(same.status, 101)
    same.ws!.close()
    const cli = await connect(gw.url.replace('http', 'ws') + '/ws', {})
    assert.equal(cli.status, 101)
    cli.ws!.close()
  })

  test('a foreign Origin (cross-site WebSocket hijacking) or a foreign Host is refused before the upstream', async () => {
    const before = upgrades
    const evil = await connect(gw.url.replace('http', 'ws') + '/ws', { origin: 'https://evil.com' })
    assert.equal(evil.status, 403)
    const host = await connect(gw.url.replace('http', 'ws') + '/ws', { origin: 'https://app.example.com', host: 'evil.com' })
    assert.equal(host.status, 400)
    assert.equal(upgrades, before)
  })

  test('the 101 answer gets the same header treatment as any answer: removals, no Server, hardened cookies', async () => {
    const hardened = await startGateway({ upstream: up.url, headers: { remove: ['X-Internal'] } })
    const addHeaders = (headers: string[]) => headers.push('Set-Cookie: ws_session=abc; Path=/', 'Server: upstream/1.0', 'X-Internal: secret', 'X-Kept: yes')
    wss.on('headers', addHeaders)
    const ws = new WebSocket(hardened.url.replace('http', 'ws') + '/ws', { headers: { host: 'localhost' } })
    try {
      // 'open' follows 'upgrade' in the same tick: both listened for before either comes
      const opened = once(ws, 'open')
      const [res] = (await once(ws, 'upgrade')) as [IncomingMessage]
      assert.equal(res.statusCode, 101)
      assert.equal(res.headers['x-internal'], undefined)
      assert.equal(res.headers['server'], undefined)
      assert.equal(res.headers['x-kept'], 'yes')
      assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/)
      const cookie = String(res.headers['set-cookie'])
      assert.match(cookie, /^ws_session=abc; Path=\//)
      assert.match(cookie, /HttpOnly/)
      assert.match(cookie, /SameSite=Lax/)
      // and the connection works
      await opened
      ws.send('after')
      const [msg] = await once(ws, 'message')
      assert.equal(String(msg), 'echo:after|xff=127.0.0.1')
    } finally {
      ws.terminate()
      wss.off('headers', addHeaders)
      await hardened.close()
    }
  })

  test('an upgrade whose method is not GET is refused (it was judged as a POST and opened upstream as a GET)', async () => {
    const before = upgrades
    const head = (method: string) =>
      `${method} /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: 0\r\n\r\n`
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD']) {
      const r = await rawRequest(gw.url, head(method))
      assert.equal(r.status, 400, method)
    }
    assert.equal(upgrades, before)
    const ok = await rawRequest(gw.url, head('GET'), 1000)
    assert.equal(ok.status, 101)
    assert.equal(upgrades, before + 1)
  })

  test('every upgrade gets one access line and one count: refused by the app, refused by Drawbridge, or opened (unlogged refused upgrades)', async () => {
    // The app refuses upgrades on /nows with an ordinary answer; everything else upgrades.
    const refusing = (req: IncomingMessage, socket: Duplex) => {
      if (req.url !== '/nows') return
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n')
    }
    up.server.prependListener('upgrade', refusing)
    const gw2 = await startGateway({ upstream: up.url })
    const access = (id: unknown) => gw2.logs().filter((l) => l.msg === 'access' && l.request_id === id)
    const requestsTotal = () => Object.values(gw2.gateway.metrics.snapshot().counters['drawbridge_requests_total'] ?? {}).reduce((a, b) => a + b, 0)
    try {
      const base = gw2.url.replace('http', 'ws')
      const byApp = await rawUpgrade(gw2.url, '/nows', {})
      assert.equal(byApp.status, 403)
      const byUs = await rawUpgrade(gw2.url, '/ws', { origin: 'https://evil.com' })
      assert.equal(byUs.status, 403)
      const { ws, status } = await connect(base + '/ws', {})
      assert.equal(status, 101)
      ws!.close()
      await once(ws!, 'close')
      const ids = [byApp.requestId, byUs.requestId]
      const settled = async () => {
        for (let i = 0; i < 100 && (ids.some((id) => access(id).length === 0) || requestsTotal() < 3); i++) await new Promise((r) => setTimeout(r, 20))
      }
      await settled()
      const [app] = access(byApp.requestId)
      assert.equal(access(byApp.requestId).length, 1)
      assert.equal(app!.status, 403)
      assert.equal(app!.rejected_by, null)
      assert.equal(typeof app!.upstream_ms, 'number')
      const [ours] = access(byUs.requestId)
      assert.equal(access(byUs.requestId).length, 1)
      assert.equal(ours!.rejected_by, 'websocket')
      const opened = gw2.logs().filter((l) => l.msg === 'access' && l.status === 101)
      assert.equal(opened.length, 1)
      assert.equal(requestsTotal(), 3)
      const counters = gw2.gateway.metrics.snapshot().counters
      assert.deepEqual(counters['drawbridge_rejections_total'], { 'stage="websocket",reason="origin not allowed"': 1 })
    } finally {
      up.server.off('upgrade', refusing)
      await gw2.close()
    }
  })

  test('regression: an open WebSocket session is cut at the drain deadline (close() waited for it forever)', async () => {
    const own = await startGateway({ upstream: up.url })
    const { ws, status } = await connect(own.url.replace('http', 'ws') + '/ws', {})
    assert.equal(status, 101)
    const clientClosed = once(ws!, 'close')
    const started = Date.now()
    const stopped = await Promise.race([own.gateway.close(300).then(() => 'stopped'), new Promise((r) => setTimeout(r, 5000, 'hung'))])
    assert.equal(stopped, 'stopped')
    assert.ok(Date.now() - started < 3000)
    await clientClosed
  })

  test('require_origin refuses clients without an Origin', async () => {
    const strict = await startGateway({ upstream: up.url, websocket: { require_origin: true } })
    try {
      const r = await connect(strict.url.replace('http', 'ws') + '/ws', {})
      assert.equal(r.status, 403)
    } finally {
      await strict.close()
    }
  })
})

describe('WebSocket upgrades: sockets handed over by node:http', () => {
  let up: TestUpstream
  before(async () => {
    // no WebSocket server: every upgrade is answered with an ordinary 200
    up = await startUpstream()
  })
  after(async () => {
    await up.close()
  })

  /** Sends an upgrade head, waits for the answer's first bytes, then ends the connection as asked. */
  function upgradeThen(url: string, ending: 'end' | 'reset'): Promise<string> {
    const u = new URL(url)
    return new Promise((resolve) => {
      const s = netConnect(Number(u.port), u.hostname, () => {
        s.write(
          'GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        )
        s.write(Buffer.alloc(65536, 0x41))
      })
      let got = ''
      const timer = setTimeout(() => s.destroy(), 3000)
      s.on('data', (d: Buffer) => {
        got += d.toString('latin1')
        if (ending === 'reset') s.resetAndDestroy()
        else s.end()
      })
      s.on('error', () => undefined)
      s.on('close', () => {
        clearTimeout(timer)
        resolve(got)
      })
    })
  }

  test(
    'regression: an upgrade answered with an ordinary response is closed once the client closes (the socket was never read, and stayed open)',
    { timeout: 20_000 },
    async () => {
      const gw = await startGateway({ upstream: up.url })
      const answer = await upgradeThen(gw.url, 'end')
      assert.match(answer, /^HTTP\/1\.1 200 /)
      // with no connection left, close() does not wait for its drain deadline (2 s here)
      const started = Date.now()
      const closed = await Promise.race([gw.close().then(() => 'closed'), new Promise((r) => setTimeout(r, 1500, 'still open'))])
      assert.equal(closed, 'closed')
      assert.ok(Date.now() - started < 1500)
    },
  )

  test('a client resetting while a refused or ordinary upgrade answer is written does not crash the process', async () => {
    const gw = await startGateway({ upstream: up.url, cors: { allow_origins: ['https://app.example.com'] } })
    try {
      for (let i = 0; i < 10; i++) assert.match(await upgradeThen(gw.url, 'reset'), /^HTTP\/1\.1 200 /)
      await new Promise((r) => setTimeout(r, 50))
      const after = await connect(gw.url.replace('http', 'ws') + '/ws', { origin: 'https://evil.com' })
      assert.equal(after.status, 403)
    } finally {
      await gw.close()
    }
  })
})
