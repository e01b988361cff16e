/**
 * The upstream connection pool (undici). Idle keep-alive connections close before the
 * upstream's own idle timeout (uvicorn: 5 s), so we never reuse a socket the app is closing.
 */
import { Pool } from 'undici'
import type { Config } from '../config/types.js'
import { ConcurrencyLimiter } from './limiter.js'

export interface Upstream {
  readonly origin: string
  readonly host: string
  readonly pool: Pool
  readonly limiter: ConcurrencyLimiter
  close(): Promise<void>
}

export function createUpstream(c: Config['upstream']): Upstream {
  const url = new URL(c.url)
  const pool = new Pool(c.url, {
    connections: c.max_connections,
    pipelining: 1,
    connectTimeout: c.connect_timeout,
    headersTimeout: c.response_timeout,
    bodyTimeout: c.response_timeout,
    keepAliveTimeout: c.keepalive_timeout,
    keepAliveMaxTimeout: c.keepalive_timeout,
    keepAliveTimeoutThreshold: 1000,
    connect: url.protocol === 'https:' ? { rejectUnauthorized: !c.insecure_skip_tls_verify } : undefined,
  })
  return {
    origin: url.origin,
    host: url.host,
    pool,
    limiter: new ConcurrencyLimiter(c.max_concurrent, c.max_queue, c.queue_timeout),
    async close() {
      await pool.close()
    },
  }
}
