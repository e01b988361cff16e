/** Starts the real gateway on loopback port 0 from a config object (like caddytest.Tester). */
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway/index.js'
import { loadConfig } from '../../src/config/load.js'
import { Logger } from '../../src/observability/logger.js'
import type { Config } from '../../src/config/types.js'

export interface TestGateway {
  readonly url: string
  readonly adminUrl: string | null
  readonly redirectUrl: string | null
  readonly gateway: Gateway
  readonly config: Config
  /** Parsed JSON log lines written so far. */
  logs(): Record<string, unknown>[]
  close(): Promise<void>
}

/** Builds a validated config: listeners on port 0, production defaults unless overridden. */
export function testConfig(raw: Record<string, unknown>, env: Record<string, string> = {}): Config {
  return loadConfig({
    // Security events in memory unless a test asks for SQLite: no database file per test.
    object: { listen: '127.0.0.1:0', admin: { listen: '127.0.0.1:0' }, mode: 'production', workers: 1, storage: { memory: true }, ...raw },
    env,
  })
}

export async function startGateway(raw: Record<string, unknown>, env: Record<string, string> = {}, options: GatewayOptions = {}): Promise<TestGateway> {
  const config = testConfig(raw, env)
  const lines: string[] = []
  const logger = new Logger('debug', { write: (chunk: Buffer) => lines.push(chunk.toString('utf8')) })
  const gateway = createGateway(config, { ...options, logger })
  const addresses = await gateway.listen()
  return {
    ...addresses,
    gateway,
    config,
    logs() {
      logger.flush()
      return lines
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    },
    close: () => gateway.close(2000),
  }
}
