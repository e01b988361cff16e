/**
 * The Redis connection: counters, bans, revocation notices and single-flight locks live
 * there when several instances share state. Commands fail at once while the connection is down
 * (no offline queue): every caller then applies its own failure rule (rate limits follow
 * `on_store_error`, auth fails closed), and ioredis keeps reconnecting in the background, so
 * everything recovers when Redis is back, without a restart.
 */
import { readFileSync } from 'node:fs'
import { Redis, type RedisOptions } from 'ioredis'
import type { RedisConfig } from '../../config/types.js'

export type { Redis }

/** Reconnect quickly at first, then every two seconds, forever. */
const retryStrategy = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2000)

export function redisOptions(c: RedisConfig): RedisOptions {
  const o: RedisOptions = {
    connectTimeout: c.connect_timeout,
    commandTimeout: c.command_timeout,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy,
    lazyConnect: true,
    // A client name shows which connections are ours in CLIENT LIST.
    connectionName: 'drawbridge',
  }
  const tls = c.tls
  if (tls !== null && tls.mode !== 'disable') {
    o.tls =
      tls.mode === 'require'
        ? // Encrypted but not authenticated, like libpq's sslmode=require.
          { rejectUnauthorized: false }
        : {
            rejectUnauthorized: true,
            ...(tls.ca_file === null ? {} : { ca: readFileSync(tls.ca_file) }),
            ...(tls.cert_file === null ? {} : { cert: readFileSync(tls.cert_file), key: readFileSync(tls.key_file!) }),
          }
  }
  return o
}

/** A client from the config; not connected yet (see `connectRedis`). */
export function createRedis(c: RedisConfig): Redis {
  const client = new Redis(c.url, redisOptions(c))
  // Without a listener an unreachable server would throw from the event emitter; the state is
  // read from `client.status` and reported by the callers and /readyz instead.
  client.on('error', () => undefined)
  return client
}

/**
 * First connection, waited for at most `timeoutMs`: Drawbridge starts without Redis (requests
 * that need it get its failure rule) and picks it up as soon as it answers.
 */
export async function connectRedis(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return true
  const ready = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs)
    const done = (ok: boolean) => {
      clearTimeout(timer)
      client.off('ready', onReady)
      resolve(ok)
    }
    const onReady = () => done(true)
    client.on('ready', onReady)
  })
  // connect() rejects on the first failure, but the retry strategy goes on reconnecting.
  if (client.status === 'wait') client.connect().catch(() => undefined)
  return ready
}

/** PING within `timeoutMs`, for /readyz. */
export async function probeRedis(client: Redis, timeoutMs: number): Promise<{ ok: boolean; error?: string }> {
  if (client.status !== 'ready') return { ok: false, error: client.status }
  let timer: NodeJS.Timeout | undefined
  try {
    const pong = await Promise.race([client.ping(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), timeoutMs)))])
    return pong === 'PONG' ? { ok: true } : { ok: false, error: 'unexpected answer' }
  } catch (err) {
    return { ok: false, error: (err as Error).message === 'timeout' ? 'timeout' : 'error' }
  } finally {
    clearTimeout(timer)
  }
}

/** /readyz from a process without a client of its own (the cluster primary): one short connection, PING, gone. */
export async function probeRedisConfig(c: RedisConfig, timeoutMs: number): Promise<{ ok: boolean; error?: string }> {
  const client = createRedis({ ...c, connect_timeout: timeoutMs, command_timeout: timeoutMs })
  try {
    if (!(await connectRedis(client, timeoutMs))) return { ok: false, error: 'unreachable' }
    return await probeRedis(client, timeoutMs)
  } finally {
    client.disconnect()
  }
}
