/**
 * Builds the shared state (types.ts) the configuration names: Redis with `storage.redis`, the
 * node:cluster primary in a worker of `--workers N`, this process's memory otherwise. Only this
 * file chooses; the adapters know nothing of each other's kinds.
 */
import cluster from 'node:cluster'
import type { Config } from '../config/types.js'
import type { SharedState } from './types.js'
import { memorySharedState } from './memory/shared-state.js'
import { workerSharedState } from './cluster/shared-state.js'
import { redisSharedState } from './redis/shared-state.js'

export interface SharedStateOptions {
  /** Called when the Redis connection goes down or comes back (for the log). */
  readonly onRedisState?: (state: 'ready' | 'down', detail: string) => void
  /** Keys one in-process counter may hold at once (default 1,000,000; tests lower it). */
  readonly maxKeys?: number
}

/** Builds the shared state the config names; nothing waits here (see `connect`). */
export function createSharedState(config: Config, options: SharedStateOptions = {}): SharedState {
  const r = config.storage.redis
  if (r !== null) return redisSharedState(r, options.onRedisState)
  const maxKeys = options.maxKeys ?? 1_000_000
  return cluster.isWorker ? workerSharedState(maxKeys) : memorySharedState(maxKeys)
}
