/**
 * Single-flight locks in Redis (the single-instance pattern from the Redis documentation: SET NX
 * PX with a random token, released only by its holder through a compare-and-delete script). The
 * lock orders concurrent callers across instances; correctness never depends on it alone (the
 * refresh rotation itself is atomic in the durable store), so one Redis is enough (no Redlock).
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from './client.js'
import type { Locks } from '../types.js'
import { StorageUnavailable } from '../../errors.js'

const release = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`
const pollMs = 15

export class RedisLocks implements Locks {
  readonly #client: Redis
  readonly #prefix: string

  constructor(client: Redis, keyPrefix: string) {
    this.#client = client
    this.#prefix = `${keyPrefix}lock:`
  }

  async withLock<T>(name: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    const key = this.#prefix + name
    const token = randomUUID()
    // The holder finishes or its lock expires within ttlMs; waiting longer means something is wrong.
    const deadline = Date.now() + 2 * ttlMs
    for (;;) {
      let got: string | null
      try {
        got = await this.#client.set(key, token, 'PX', ttlMs, 'NX')
      } catch (err) {
        throw new StorageUnavailable('redis', 'lock store (Redis) unavailable', { cause: err })
      }
      if (got === 'OK') break
      if (Date.now() > deadline) throw new StorageUnavailable('redis', `lock ${name} not acquired in time`)
      await new Promise((r) => setTimeout(r, pollMs))
    }
    try {
      return await fn()
    } finally {
      await this.#client.eval(release, 1, key, token).catch(() => undefined)
    }
  }
}
