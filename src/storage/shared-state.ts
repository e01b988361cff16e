/**
 * What the instances of one deployment share besides the durable records (design.md §6, issue 5):
 * counters (rate limits, ban offences, failed logins), notices every instance hears (bans,
 * revocations), and single-flight locks. Three kinds, chosen by the configuration:
 * - memory: one process; everything in this process.
 * - cluster: `--workers N` without Redis; counters, notices and locks go through the
 *   node:cluster primary, so a limit or a lock holds once for the machine.
 * - redis: `storage.redis`; every instance on every machine shares one Redis.
 * Opened once per process and kept across reloads, so counts survive a SIGHUP.
 */
import cluster from 'node:cluster'
import { RateLimiterCluster, RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Config } from '../config/types.js'
import type { LoginThrottleStore, Locks, Notices } from './types.js'
import { createRedis, connectRedis, probeRedis, type Redis } from './redis/client.js'
import { MemoryNotices } from './memory/notices.js'
import { MemoryLocks } from './memory/locks.js'
import { WorkerNotices } from './cluster/notices.js'
import { WorkerLocks } from './cluster/locks.js'
import { RedisNotices } from './redis/notices.js'
import { RedisLocks } from './redis/locks.js'
import { RedisThrottleStore } from './redis/throttle.js'

export interface LimiterSettings {
  /** Unique per use (rule name, "bans:waf"...). */
  readonly name: string
  readonly points: number
  readonly seconds: number
}

export interface SharedState {
  readonly kind: 'memory' | 'cluster' | 'redis'
  /** A counter with these settings; the same object for the same settings, so counts survive a reload. */
  limiter(settings: LimiterSettings): RateLimiterAbstract
  readonly notices: Notices
  readonly locks: Locks
  /** Failed-login counters in Redis; null: the identity store keeps them. */
  readonly throttle: LoginThrottleStore | null
  /** For /readyz: null when there is nothing remote to check. */
  probe(): Promise<{ ok: boolean; error?: string }> | null
  /**
   * Waits (at most `connect_timeout`) for the first connection, so that the first requests find
   * Redis ready; without it Drawbridge still starts, and picks Redis up when it answers.
   */
  connect(): Promise<boolean>
  close(): Promise<void>
}

export interface SharedStateOptions {
  /** Called when the Redis connection goes down or comes back (for the log). */
  readonly onRedisState?: (state: 'ready' | 'down', detail: string) => void
  /** Keys one in-process counter may hold at once (default 1,000,000; tests lower it). */
  readonly maxKeys?: number
}

/** An in-process counter is full: new keys are refused like a store outage (`on_store_error`). */
export class CounterCapacity extends Error {}

/**
 * Bounds the keys an in-process counter holds: each key costs memory for its whole window, and a
 * rule keyed by a header lets a client invent keys at will. Keys are remembered in first-use
 * order with the end of their window; since one counter's windows are all as long, the ended ones
 * are at the front and are dropped first. Past the bound, a new key is a store error.
 */
function bounded(limiter: RateLimiterAbstract, seconds: number, max: number): RateLimiterAbstract {
  const seen = new Map<string, number>()
  const consume = limiter.consume.bind(limiter)
  limiter.consume = (key, points, options) => {
    const k = String(key)
    const now = Date.now()
    const end = seen.get(k)
    if (end === undefined || end <= now) {
      if (end !== undefined) seen.delete(k)
      if (seen.size >= max) {
        for (const [old, oldEnd] of seen) {
          if (oldEnd > now) break
          seen.delete(old)
        }
        if (seen.size >= max) return Promise.reject(new CounterCapacity(`in-process counter full (${max} keys)`))
      }
      seen.set(k, now + seconds * 1000)
    }
    return consume(key, points, options)
  }
  return limiter
}

/** Builds the shared state the config names; nothing waits here (see `connect`). */
export function createSharedState(config: Config, options: SharedStateOptions = {}): SharedState {
  const r = config.storage.redis
  const cache = new Map<string, RateLimiterAbstract>()
  const cached = (s: LimiterSettings, make: (keyPrefix: string) => RateLimiterAbstract): RateLimiterAbstract => {
    const id = `${s.name}:${s.points}:${s.seconds}`
    let l = cache.get(id)
    if (l === undefined) cache.set(id, (l = make(id)))
    return l
  }
  if (r === null) {
    const maxKeys = options.maxKeys ?? 1_000_000
    const worker = cluster.isWorker
    const notices = worker ? new WorkerNotices() : new MemoryNotices()
    // Workers take locks in the primary too (serveWorkerLocks): one login check at a time per
    // account on the machine, not per worker.
    const locks = worker ? new WorkerLocks() : new MemoryLocks()
    return {
      kind: worker ? 'cluster' : 'memory',
      // Workers count in the primary (RateLimiterClusterMaster, started by `drawbridge start`).
      limiter: (s) =>
        cached(s, (id) => {
          const o = { keyPrefix: `drawbridge:${id}`, points: s.points, duration: s.seconds }
          return bounded(worker ? new RateLimiterCluster({ ...o, timeoutMs: 1000 }) : new RateLimiterMemory(o), s.seconds, maxKeys)
        }),
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
    limiter: (s) =>
      cached(
        s,
        (id) =>
          // Not ready: reject at once instead of queueing, so `on_store_error` decides quickly.
          new RateLimiterRedis({
            storeClient: client,
            keyPrefix: `${r.key_prefix}rl:${id}`,
            points: s.points,
            duration: s.seconds,
            rejectIfRedisNotReady: true,
            // A key over its limit is refused from memory until its window ends: a flood of
            // refused requests costs no Redis round trips (and lets no request more through).
            inMemoryBlockOnConsumed: s.points,
          }),
      ),
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
