/** Counters in this process's memory (one process, no Redis), bounded in the keys they hold. */
import { RateLimiterMemory } from 'rate-limiter-flexible'
import type { Limiter, LimiterSettings } from '../types.js'
import { bounded, flexibleLimiters } from '../limiters.js'

export function memoryLimiters(maxKeys: number): (settings: LimiterSettings) => Limiter {
  return flexibleLimiters('memory', (id, points, seconds) =>
    bounded(new RateLimiterMemory({ keyPrefix: `drawbridge:${id}`, points, duration: seconds }), seconds, maxKeys, 'memory'),
  )
}
