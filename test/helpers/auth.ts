/** Gateways with `auth` on, a movable clock and cheap argon2 parameters (the real algorithm, lower cost). */
import { randomBytes } from 'node:crypto'
import { startGateway, type TestGateway } from './gateway.js'
import type { Identity } from '../../src/identity/index.js'

export interface TestClock {
  now: number
  (): number
  advance(ms: number): void
}

export function testClock(start = Date.UTC(2026, 10, 23, 12, 0, 0)): TestClock {
  const clock = (() => clock.now) as TestClock
  clock.now = start
  clock.advance = (ms: number) => {
    clock.now += ms
  }
  return clock
}

export const testKek = randomBytes(32).toString('hex')

export interface AuthGateway extends TestGateway {
  readonly identity: Identity
  readonly clock: TestClock
}

export async function startAuthGateway(
  raw: Record<string, unknown>,
  auth: Record<string, unknown> = {},
  clock = testClock(),
  env: Record<string, string> = {},
): Promise<AuthGateway> {
  const gw = await startGateway(
    { ...raw, auth: { key_encryption_key: { from_env: 'DRAWBRIDGE_SECRET_KEK' }, ...auth } },
    { DRAWBRIDGE_SECRET_KEK: testKek, ...env },
    { identityOptions: { clock, argon2: { memory_kib: 8192, iterations: 1, parallelism: 1 } } },
  )
  return { ...gw, identity: gw.gateway.identity!, clock }
}
