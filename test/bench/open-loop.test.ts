import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { once } from 'node:events'
import { cpus } from 'node:os'
import type { AddressInfo } from 'node:net'
import { runOpenLoop } from '../../bench/servers.js'

// The generator runs as its own process (as in npm run bench) against a server in this one.
const cpu = cpus().length > 1 ? '1' : '0'
const headers = { Host: 'bench.test', Accept: 'application/json' }

/** Runs `body` against a server with `handler` on a free loopback port, then closes it. */
async function withServer(handler: Parameters<typeof createServer>[1], body: (port: number) => Promise<void>): Promise<void> {
  const server = createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  try {
    await body((server.address() as AddressInfo).port)
  } finally {
    server.close()
  }
}

test('open-loop load: sends the scheduled count, all answered, sub-50 ms latencies from a quick server', async () => {
  let seen = 0
  await withServer(
    (req, res) => {
      seen++
      assert.equal(req.headers.host, 'bench.test')
      res.end('{"ok":true}')
    },
    async (port) => {
      const r = await runOpenLoop({ cpu, port, path: '/items', rate: 200, secs: 1, warmupSecs: 0.5, headers })
      assert.equal(r.rate, 200)
      assert.equal(r.sent, 200)
      assert.equal(r.ok, 200)
      assert.equal(r.errors, 0)
      assert.equal(seen, 300, 'the warm-up requests are sent too, just not counted')
      assert.ok(r.p50ms !== null && r.p50ms < 50, `p50 ${r.p50ms}`)
      assert.ok(r.p99ms !== null && r.p99ms >= r.p50ms)
    },
  )
})

test('open-loop load: a stall of the server counts for every request due during it (no coordinated omission)', async () => {
  let count = 0
  await withServer(
    (_req, res) => {
      // one 600 ms stall of the whole process, a tenth of the way in
      if (++count === 30) {
        const until = performance.now() + 600
        while (performance.now() < until);
      }
      res.end('ok')
    },
    async (port) => {
      const r = await runOpenLoop({ cpu, port, path: '/', rate: 300, secs: 1, warmupSecs: 0, headers })
      assert.equal(r.ok, 300)
      // ~180 of the 300 requests fell due during the stall, so the median waited too. A closed-loop
      // tool (wrk) would have sent only one request per connection (32) into the stall and the rest
      // after it: its median would not move.
      assert.ok(r.p50ms !== null && r.p50ms > 100, `p50 ${r.p50ms}`)
      assert.ok(r.maxms !== null && r.maxms >= 550 && r.maxms < 1500, `max ${r.maxms}`)
    },
  )
})

test('open-loop load: requests whose connection is dropped count as errors, not as answers', async () => {
  let count = 0
  await withServer(
    (req, res) => {
      if (++count % 25 === 0) req.socket.destroy()
      else res.end('ok')
    },
    async (port) => {
      const r = await runOpenLoop({ cpu, port, path: '/', rate: 200, secs: 1, warmupSecs: 0, headers })
      assert.equal(r.sent, 200)
      assert.ok(r.errors >= 8, `errors ${r.errors}`)
      assert.equal(r.ok + r.errors, 200)
    },
  )
})

test('open-loop load: non-200 answers are errors', async () => {
  await withServer(
    (_req, res) => {
      res.statusCode = 503
      res.end('busy')
    },
    async (port) => {
      const r = await runOpenLoop({ cpu, port, path: '/', rate: 100, secs: 1, warmupSecs: 0, headers })
      assert.equal(r.sent, 100)
      assert.equal(r.ok, 0)
      assert.equal(r.errors, 100)
    },
  )
})
