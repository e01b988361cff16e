/**
 * Fuzzing connections rather than requests (client input never crashes the
 * gateway): CONNECT, upgrades, unparsable heads and bodies cut short, each followed by bytes and
 * then a reset (SO_LINGER 0), a destroy or an orderly end, at random moments. node:http hands
 * CONNECT and upgrade sockets over without an 'error' listener of its own; an error nobody
 * listens to surfaces as an uncaught exception in this process, which fails the file. The
 * gateway must still serve afterwards, and a CONNECT that gets an answer gets 405.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import fc from 'fast-check'
import { parseRaw } from '../helpers/http.js'
import { assertAlive, fuzzParams, useFuzzTarget, StatusTally, watchUncaught } from './support.js'

const target = useFuzzTarget({ waf: true })

type Opening = 'connect' | 'upgrade' | 'garbage' | 'partial-body' | 'after-request'
type Ending = 'reset' | 'destroy' | 'end' | 'wait-then-reset'

const heads: Record<Opening, string> = {
  connect: 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n',
  upgrade:
    'GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  garbage: 'GET / HTTP/1.1\r\nHost: localhost\r\nBad Header\x01: x\r\n\r\n',
  'partial-body': 'POST /api/items HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"a": "',
  'after-request': 'GET /api/items HTTP/1.1\r\nHost: localhost\r\n\r\n',
}

interface Outcome {
  /** Status of the first answer, 0 when none arrived before the end. */
  readonly status: number
}

/**
 * One connection: the opening, `size` bytes of `fill`, then the ending after `delayMs`. Never
 * rejects; resolves once the socket is closed (at most ~2 s).
 */
function play(opening: Opening, size: number, fill: number, ending: Ending, delayMs: number): Promise<Outcome> {
  const u = new URL(target.gw.url)
  return new Promise((resolve) => {
    const socket: Socket = connect(Number(u.port), u.hostname)
    const chunks: Buffer[] = []
    let settled = false
    const done = (): void => {
      if (settled) return
      settled = true
      clearTimeout(guard)
      resolve({ status: parseRaw(Buffer.concat(chunks).toString('latin1')).status })
    }
    const guard = setTimeout(() => {
      socket.destroy()
      done()
    }, 2000)
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', () => undefined)
    socket.on('close', done)
    socket.once('connect', () => {
      socket.write(heads[opening])
      if (size > 0) socket.write(Buffer.alloc(size, fill))
      setTimeout(() => {
        if (socket.destroyed) return
        if (ending === 'reset') socket.resetAndDestroy()
        else if (ending === 'destroy') socket.destroy()
        else if (ending === 'end') socket.end()
        else {
          // reset once the answer is being written, or soon after
          const reset = (): void => void (socket.destroyed || socket.resetAndDestroy())
          socket.once('data', reset)
          setTimeout(reset, 20)
        }
      }, delayMs)
    })
  })
}

const opening = fc.constantFrom<Opening>('connect', 'upgrade', 'garbage', 'partial-body', 'after-request')
const ending = fc.constantFrom<Ending>('reset', 'destroy', 'end', 'wait-then-reset')
const size = fc.constantFrom(0, 1, 100, 4096, 65536)

test('CONNECT, upgrades, bad heads and cut bodies ended by resets at random moments never crash the gateway', async (t) => {
  const noneUncaught = watchUncaught()
  const tally = new StatusTally()
  await fc.assert(
    fc.asyncProperty(opening, size, fc.nat({ max: 255 }), ending, fc.nat({ max: 8 }), async (o, n, fill, e, delay) => {
      const { status } = await play(o, n, fill, e, delay)
      tally.add(status)
      if (o === 'connect' && status !== 0) assert.equal(status, 405)
      assert.ok(status < 500, `${status} for ${o}, ${n} bytes, ${e} after ${delay} ms`)
    }),
    { ...fuzzParams(), numRuns: Math.min(100, fuzzParams().numRuns ?? 100) },
  )
  t.diagnostic(`first answers: ${tally}`)
  // errors on reset sockets surface on a later tick: give them one before judging
  await sleep(50)
  noneUncaught()
  await assertAlive(target)
})

test('regression: CONNECT with 64 KiB behind it, reset while the 405 is written, does not crash the process', async () => {
  const noneUncaught = watchUncaught()
  for (let i = 0; i < 20; i++) await play('connect', 65536, 0x41, i % 2 === 0 ? 'reset' : 'wait-then-reset', i % 4)
  await sleep(50)
  noneUncaught()
  await assertAlive(target)
  // a CONNECT that waits for its answer gets 405
  assert.equal((await play('connect', 0, 0, 'wait-then-reset', 0)).status, 405)
})
