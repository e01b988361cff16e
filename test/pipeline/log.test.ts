import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { once } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { hundredths } from '../../src/pipeline/log.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { request } from '../helpers/http.js'

test('durations are printed as JSON numbers to two decimals', () => {
  assert.equal(hundredths(0.004), '0.00')
  assert.equal(hundredths(0.23), '0.23')
  assert.equal(hundredths(0.0951), '0.10')
  assert.equal(hundredths(12.05), '12.05')
  assert.equal(hundredths(3), '3.00')
  assert.equal(hundredths(61_234.5678), '61234.57')
  for (let i = 0; i < 10_000; i++) {
    const ms = Math.random() * (i % 10 === 0 ? 100_000 : 5)
    const printed = hundredths(ms)
    assert.match(printed, /^\d+\.\d\d$/)
    assert.equal(Number(printed), Math.round(ms * 100) / 100, `${ms}`)
  }
  // out of the integer path's range, still a number
  assert.equal(JSON.parse(hundredths(2e7)), 2e7)
})

/** Polls `check` every 20 ms for at most `ms`; true once it held. */
async function eventually(check: () => boolean, ms = 3000): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 20) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, 20))
  }
  return check()
}

/** An upstream whose /slow* routes never answer; counts the requests cancelled before an answer. */
async function slowUpstream(): Promise<{ up: TestUpstream; aborted: () => number }> {
  let aborted = 0
  const up = await startUpstream((req, res, body) => {
    if (!req.url!.startsWith('/slow')) return echoBack(req, res, body)
    res.once('close', () => {
      if (!res.writableFinished) aborted++
    })
  })
  return { up, aborted: () => aborted }
}

function echoBack(req: IncomingMessage, res: ServerResponse, _body: Buffer): void {
  res.writeHead(200, { 'content-type': 'text/plain' })
  res.end(req.url)
}

function pipelined(paths: readonly string[]): string {
  return paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: drawbridge-test\r\n\r\n`).join('')
}

function requestsCounted(gw: TestGateway): number {
  const counts = gw.gateway.metrics.snapshot().counters['drawbridge_requests_total'] ?? {}
  return Object.values(counts).reduce((a, b) => a + b, 0)
}

describe('every request is logged and counted exactly once', () => {
  test('pipelined requests queued behind a slow one, then a reset: all logged, pending upstream requests cancelled (lost log lines)', async () => {
    const { up, aborted } = await slowUpstream()
    const gw = await startGateway({ upstream: up.url })
    const socket = connect(Number(new URL(gw.url).port), '127.0.0.1')
    socket.on('error', () => undefined)
    try {
      await once(socket, 'connect')
      socket.write(pipelined(['/slow/1', '/fast/1', '/slow/2', '/fast/2', '/slow/3']))
      // Every request reached the app and the fast ones were answered, then the client resets.
      assert.ok(await eventually(() => up.seen.length === 5), 'all five reached the upstream')
      await new Promise((r) => setTimeout(r, 100))
      socket.resetAndDestroy()
      assert.ok(await eventually(() => gw.logs().filter((l) => l.msg === 'access').length >= 5), 'an access line for each request')
      assert.ok(await eventually(() => aborted() === 3), `the three pending upstream requests are cancelled (got ${aborted()})`)
      await new Promise((r) => setTimeout(r, 100))
      const access = gw.logs().filter((l) => l.msg === 'access')
      assert.deepEqual(access.map((l) => l.path).sort(), ['/fast/1', '/fast/2', '/slow/1', '/slow/2', '/slow/3'])
      assert.equal(new Set(access.map((l) => l.request_id)).size, 5)
      // None of the answers left the gateway: the slow ones had none, the fast ones were queued.
      assert.deepEqual(
        access.map((l) => l.status),
        [0, 0, 0, 0, 0],
      )
      assert.equal(requestsCounted(gw), 5)
      // The cancellations are the client's doing, not upstream failures.
      assert.equal(gw.gateway.metrics.snapshot().counters['drawbridge_upstream_errors_total'], undefined)
    } finally {
      socket.destroy()
      await up.close()
      await gw.close()
    }
  })

  test('a CONNECT is refused, logged and counted (unlogged CONNECT)', async () => {
    const { up } = await slowUpstream()
    const gw = await startGateway({ upstream: up.url })
    const socket = connect(Number(new URL(gw.url).port), '127.0.0.1')
    try {
      await once(socket, 'connect')
      let received = ''
      socket.on('data', (c: Buffer) => (received += c.toString('latin1')))
      socket.write('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n')
      await once(socket, 'end')
      assert.match(received, /^HTTP\/1\.1 405 /)
      const id = /\r\nx-request-id: ([^\r]+)/.exec(received)?.[1]
      const line = gw.logs().find((l) => l.msg === 'access' && l.request_id === id)
      assert.equal(line?.status, 405)
      assert.equal(line?.method, 'CONNECT')
      assert.equal(requestsCounted(gw), 1)
      // and an ordinary request next to it
      assert.equal((await request(gw.url + '/ok')).status, 200)
      assert.equal(requestsCounted(gw), 2)
    } finally {
      socket.destroy()
      await gw.close()
      await up.close()
    }
  })

  test('pipelined requests answered in order are logged and counted once each', async () => {
    const { up } = await slowUpstream()
    const gw = await startGateway({ upstream: up.url })
    const socket = connect(Number(new URL(gw.url).port), '127.0.0.1')
    try {
      await once(socket, 'connect')
      let received = ''
      socket.on('data', (c: Buffer) => (received += c.toString('latin1')))
      socket.write(pipelined(['/a', '/b', '/c']))
      assert.ok(await eventually(() => (received.match(/HTTP\/1\.1 200 /g) ?? []).length === 3), 'three answers')
      socket.end()
      await once(socket, 'close')
      await new Promise((r) => setTimeout(r, 100))
      const access = gw.logs().filter((l) => l.msg === 'access')
      assert.deepEqual(
        access.map((l) => [l.path, l.status]),
        [
          ['/a', 200],
          ['/b', 200],
          ['/c', 200],
        ],
      )
      assert.equal(requestsCounted(gw), 3)
    } finally {
      socket.destroy()
      await gw.close()
      await up.close()
    }
  })
})
