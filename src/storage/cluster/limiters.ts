/**
 * Counters between the workers of one machine (`--workers N` without Redis): the primary holds
 * them (serveWorkerCounters), so a limit holds once for the machine, not once per worker. A
 * primary that does not answer within a second is a store fault.
 */
import { RateLimiterCluster, RateLimiterClusterMaster } from 'rate-limiter-flexible'
import type { Limiter, LimiterSettings } from '../types.js'
import { bounded, flexibleLimiters } from '../limiters.js'

export function workerLimiters(maxKeys: number): (settings: LimiterSettings) => Limiter {
  return flexibleLimiters('cluster', (id, points, seconds) =>
    bounded(new RateLimiterCluster({ keyPrefix: `drawbridge:${id}`, points, duration: seconds, timeoutMs: 1000 }), seconds, maxKeys, 'cluster'),
  )
}

/** The primary's side: holds the workers' counters for as long as the process runs. */
export function serveWorkerCounters(): void {
  new RateLimiterClusterMaster()
}
