/** Counters in Redis: every instance on every machine counts into the same keys. */
import { RateLimiterRedis } from 'rate-limiter-flexible'
import type { Redis } from './client.js'
import type { Limiter, LimiterSettings } from '../types.js'
import { flexibleLimiters } from '../limiters.js'

export function redisLimiters(client: Redis, keyPrefix: string): (settings: LimiterSettings) => Limiter {
  return flexibleLimiters(
    'redis',
    (id, points, seconds) =>
      // Not ready: reject at once instead of queueing, so `on_store_error` decides quickly.
      new RateLimiterRedis({
        storeClient: client,
        keyPrefix: `${keyPrefix}rl:${id}`,
        points,
        duration: seconds,
        rejectIfRedisNotReady: true,
        // A key over its limit is refused from memory until its window ends: a flood of
        // refused requests costs no Redis round trips (and lets no request more through).
        inMemoryBlockOnConsumed: points,
      }),
  )
}
