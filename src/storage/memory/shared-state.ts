/** The shared state of one process on its own: counters, notices and locks in its memory. */
import type { SharedState } from '../types.js'
import { MemoryNotices } from './notices.js'
import { MemoryLocks } from './locks.js'
import { memoryLimiters } from './limiters.js'

export function memorySharedState(maxKeys: number): SharedState {
  const notices = new MemoryNotices()
  return {
    kind: 'memory',
    limiter: memoryLimiters(maxKeys),
    notices,
    locks: new MemoryLocks(),
    throttle: null,
    probe: () => null,
    connect: async () => true,
    close: () => notices.close(),
  }
}
