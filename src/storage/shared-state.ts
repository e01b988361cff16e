/**
 * Builds the shared state (types.ts) the configuration names: Redis with `storage.redis`, the
 * node:cluster primary in a worker of `--workers N`, this process's memory otherwise.
 */
import cluster from 'node:cluster'
import type { Config } from '../config/types.js'
import type { SharedState } from './types.js'
import { createRedis, connectRedis, probeRedis, type Redis } from './redis/client.js'
import { MemoryNotices } from './memory/notices.js'
import { MemoryLocks } from './memory/locks.js'
import { WorkerNotices } from './cluster/notices.js'
import { WorkerLocks } from './cluster/locks.js'
import { RedisNotices } from './redis/notices.js'
import { RedisLocks } from './redis/locks.js'
import { RedisThrottleStore } from './redis/throttle.js'
import { memoryLimiters } from './memory/limiters.js'
import { workerLimiters } from './cluster/limiters.js'
import { redisLimiters } from './redis/limiters.js'

export interface SharedStateOptions {
  /** Called when the Redis connection goes down or comes back (for the log). */
  readonly onRedisState?: (state: 'ready' | 'down', detail: string) => void
  /** Keys one in-process counter may hold at once (default 1,000,000; tests lower it). */
  readonly maxKeys?: number
}

/** Builds the shared state the config names; nothing waits here (see `connect`). */
export function createSharedState(config: Config, options: SharedStateOptions = {}): SharedState {
  const r = config.storage.redis
  if (r === null) {
    const maxKeys = options.maxKeys ?? 1_000_000
    const worker = cluster.isWorker
    const notices = worker ? new WorkerNotices() : new MemoryNotices()
    // Workers take locks in the primary too (serveWorkerLocks): one login check at a time per
    // account on the machine, not per worker.
    const locks = worker ? new WorkerLocks() : new MemoryLocks()
    return {
      kind: worker ? 'cluster' : 'memory',
      // Workers count in the primary (serveWorkerCounters, started by `drawbridge start`).
      limiter: worker ? workerLimiters(maxKeys) : memoryLimiters(maxKeys),
      notices,
      locks,
      throttle: null,
      probe: () => null,
      connect: async () => true,
      close: () => {
        if (locks instanceof WorkerLocks) locks.close()
        return notices.close()
      },
    }
  }

  const client: Redis = createRedis(r)
  let up = false
  let closing = false
  client.on('ready', () => {
    up = true
    options.onRedisState?.('ready', '')
  })
  client.on('error', (err: Error) => {
    if (up && !closing) options.onRedisState?.('down', (err as NodeJS.ErrnoException).code ?? err.constructor.name)
    up = false
  })
  client.on('close', () => {
    if (up && !closing) options.onRedisState?.('down', 'connection closed')
    up = false
  })
  const notices = new RedisNotices(client, r.key_prefix)
  return {
    kind: 'redis',
    limiter: redisLimiters(client, r.key_prefix),
    notices,
    locks: new RedisLocks(client, r.key_prefix),
    throttle: new RedisThrottleStore(client, r.key_prefix),
    probe: async () => {
      const answer = await probeRedis(client, Math.min(r.command_timeout, 2000))
      // Answering is not enough: an instance that hears no notices misses bans and revocations.
      return answer.ok && !notices.isListening ? { ok: false, error: 'notices not subscribed' } : answer
    },
    async connect() {
      const connected = await connectRedis(client, r.connect_timeout)
      if (!connected) options.onRedisState?.('down', 'not reachable at start-up')
      else await notices.listening(r.connect_timeout)
      return connected
    },
    async close() {
      closing = true
      await notices.close()
      await client.quit().catch(() => client.disconnect())
    },
  }
}
