/**
 * Connections that end badly: CONNECT with data behind it, WebSocket upgrades and pipelined
 * requests cut by a TCP reset, half-sent heads and bodies, a burst of resets. Afterwards the
 * gateway still answers, logged no fault of its own, and every request it read has its access
 * log line (the logging phase runs for every request, blocked or abandoned).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import { skipReason } from '../helpers/python-apps.js'
import { startAuthGateway } from '../helpers/auth.js'
import { accessLines, assertNoInternalError, assertServing, converse, policies, rawBytes, useTargets, verdictOf, type Target } from './support.js'

const targets = useTargets(['uvicorn'])

const wsHeaders: [string, string][] = [
  ['Connection', 'Upgrade'],
  ['Upgrade', 'websocket'],
  ['Sec-WebSocket-Version', '13'],
  ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
]

/** Access log lines whose path carries this case marker. */
function linesFor(tg: Target, marker: string): Record<string, unknown>[] {
  return accessLines(tg.gw).filter((l) => typeof l.path === 'string' && l.path.includes(marker))
}

/** Polls (bounded) until `check` holds: log lines of abandoned requests come when the gateway notices. */
async function eventually(check: () => boolean, ms = 2000): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return check()
}

/** Every request of this case that reached the app has an access line under its request id. */
async function assertAppRequestsLogged(tg: Target, marker: string): Promise<void> {
  const reached = (await tg.app.log()).filter((s) => (s.query ?? []).some(([k, v]) => k === 'case' && v === marker))
  for (const s of reached) {
    const ok = await eventually(() => accessLines(tg.gw).some((l) => l.request_id === s.request_id))
    assert.ok(ok, `${s.method} ${s.path} reached the app (request id ${s.request_id}) but has no access log line`)
  }
}

function assertNoFaults(tg: Target): void {
  const faults = tg.gw.logs().filter((l) => l.level === 'error')
  assert.deepEqual(faults, [], 'the gateway logged faults of its own')
}

describe('connections that end badly', () => {
  test('CONNECT is refused with data behind it, opens no tunnel, and is logged', async (t) => {
    const tg = targets.get('uvicorn')
    if (tg === null) return t.skip(skipReason('uvicorn'))
    const authority = new URL(tg.app.url).host
    const marker = randomUUID()
    const tunnelled = rawBytes({ target: `/admin/tunnel?case=${marker}` })
    const connectHead = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`
    const c = await converse(tg.gw.url, Buffer.concat([Buffer.from(connectHead), tunnelled]), { timeoutMs: 2000 })
    const first = c.responses[0]
    assert.ok(first !== undefined, `no answer to CONNECT (socket: ${c.error})`)
    const v = verdictOf(first)
    assert.ok(v.kind === 'refused' && v.status === 405, `CONNECT: expected Drawbridge's own 405, got ${first.status}`)
    assert.deepEqual(
      (await tg.app.log()).filter((s) => s.path.startsWith('/admin')),
      [],
      'bytes after CONNECT reached the app',
    )
    // and with a reset right after the data
    await converse(tg.gw.url, connectHead + 'SSH-2.0-OpenSSH_9.0\r\n', { resetAfterMs: 10 })
    await assertServing(tg)
    const logged = await eventually(() => accessLines(tg.gw).some((l) => l.method === 'CONNECT'))
    assert.ok(logged, 'a refused CONNECT has no access log line')
    assertNoFaults(tg)
  })

  test('a WebSocket upgrade cut by a reset, before or after the 101, leaves the gateway serving and is logged', async (t) => {
    const tg = targets.get('uvicorn')
    if (tg === null) return t.skip(skipReason('uvicorn'))
    // control: the handshake passes
    const ok = await converse(tg.gw.url, rawBytes({ target: '/ws', headers: wsHeaders }), { count: 1, timeoutMs: 2000 })
    assert.equal(ok.responses[0]?.status, 101)
    for (const [when, ms] of [
      ['before the 101', 0],
      ['after the 101', 150],
    ] as const) {
      const marker = randomUUID()
      await converse(tg.gw.url, rawBytes({ target: `/ws?case=${marker}`, headers: wsHeaders }), { resetAfterMs: ms })
      await assertServing(tg)
      const logged = await eventually(() => linesFor(tg, marker).length > 0)
      assert.ok(logged, `an upgrade reset ${when} has no access log line`)
    }
    assertNoFaults(tg)
  })

  test('pipelined requests cut by a reset while the app answers leave the gateway serving, each one it read logged', async (t) => {
    const tg = targets.get('uvicorn')
    if (tg === null) return t.skip(skipReason('uvicorn'))
    const marker = randomUUID()
    const requests = [1, 2, 3].map((n) => rawBytes({ target: `/public/pipe?case=${marker}&n=${n}&sleep=0.3` }))
    await converse(tg.gw.url, Buffer.concat(requests), { resetAfterMs: 60 })
    await assertServing(tg)
    const first = await eventually(() => linesFor(tg, marker).some((l) => String(l.path).includes('n=1')))
    assert.ok(first, 'the first pipelined request, cut by the reset, has no access log line')
    await assertAppRequestsLogged(tg, marker)
    assertNoFaults(tg)
  })

  test('a body cut by a reset, and a head cut by a reset, leave the gateway serving; the request is logged', async (t) => {
    const tg = targets.get('uvicorn')
    if (tg === null) return t.skip(skipReason('uvicorn'))
    const marker = randomUUID()
    const head = `POST /public/body?case=${marker} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`
    await converse(tg.gw.url, head + '{"name": "par', { resetAfterMs: 50 })
    const logged = await eventually(() => linesFor(tg, marker).length > 0)
    assert.ok(logged, 'a request whose body was cut by a reset has no access log line')
    await converse(tg.gw.url, 'GET /public/half HTTP/1.1\r\nHost: loc', { resetAfterMs: 20 })
    await assertServing(tg)
    assertNoFaults(tg)
  })

  test('a burst of connections reset at every stage of a request leaves the gateway serving', async (t) => {
    const tg = targets.get('uvicorn')
    if (tg === null) return t.skip(skipReason('uvicorn'))
    const full = rawBytes({
      method: 'POST',
      target: '/public/burst?sleep=0.05',
      headers: [['Content-Type', 'application/json']],
      body: '{"name":"burst","note":"x"}',
    })
    const cuts = Array.from({ length: 40 }, (_, i) => Math.floor((full.length * i) / 40))
    await Promise.all(cuts.map((cut, i) => converse(tg.gw.url, full.subarray(0, cut + 1), { resetAfterMs: i % 4 === 0 ? 0 : 5 * (i % 7) })))
    // and the same requests, complete, still pass
    const done = await converse(tg.gw.url, full, { count: 1, timeoutMs: 3000 })
    assert.equal(done.responses[0]?.status, 200)
    assertNoInternalError(done.responses[0], 'after the burst')
    await assertServing(tg)
    assertNoFaults(tg)
  })

  test('a refused upgrade whose client sends more bytes after the answer is not leaked: the gateway still closes', async (t) => {
    const tg = targets.get('uvicorn')
    if (tg === null) return t.skip(skipReason('uvicorn'))
    // A gateway of its own, so closing it is part of the test.
    const gw = await startAuthGateway({ upstream: tg.app.url }, { policies })
    const u = new URL(gw.url)
    const upgrade = rawBytes({
      target: '/ws',
      headers: [
        ['Connection', 'Upgrade'],
        ['Upgrade', 'websocket'],
        ['Sec-WebSocket-Version', '777'],
        ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
      ],
    })
    let status = 0
    await new Promise<void>((resolve) => {
      const socket = connect({ port: Number(u.port), host: u.hostname, allowHalfOpen: true })
      const timer = setTimeout(() => socket.destroy(), 3000)
      socket.on('data', (c: Buffer) => {
        status ||= Number(/^HTTP\/1\.1 (\d{3})/.exec(c.toString('latin1'))?.[1] ?? 0)
      })
      // The gateway ends its side after the app's non-101 answer; the client still sends a
      // request, then goes away.
      socket.on('end', () => {
        socket.write(rawBytes({ target: '/public/after' }))
        setTimeout(() => socket.destroy(), 100)
      })
      socket.on('error', () => socket.destroy())
      socket.on('close', () => {
        clearTimeout(timer)
        resolve()
      })
      socket.write(upgrade)
    })
    assert.ok(status >= 400 && status < 500, `the app's refusal of the upgrade was not passed on (${status})`)
    const closed = await Promise.race([gw.close().then(() => true), new Promise<false>((r) => setTimeout(r, 5000, false).unref())])
    assert.ok(closed, 'gateway.close() never finished: the refused upgrade connection was never closed')
  })
})
