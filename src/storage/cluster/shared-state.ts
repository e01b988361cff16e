/**
 * The shared state of a worker of `--workers N` without Redis: counters, notices and locks go
 * through the node:cluster primary (serveWorkerCounters, relayWorkerNotices, serveWorkerLocks,
 * started by `drawbridge start`), so a limit or a lock holds once for the machine, and one login
 * check at a time runs per account on the machine, not per worker.
 */
import type { SharedState } from '../types.js'
import { WorkerNotices } from './notices.js'
import { WorkerLocks } from './locks.js'
import { workerLimiters } from './limiters.js'

export function workerSharedState(maxKeys: number): SharedState {
  const notices = new WorkerNotices()
  const locks = new WorkerLocks()
  return {
    kind: 'cluster',
    limiter: workerLimiters(maxKeys),
    notices,
    locks,
    throttle: null,
    probe: () => null,
    connect: async () => true,
    close: () => {
      locks.close()
      return notices.close()
    },
  }
}
