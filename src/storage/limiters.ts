/**
 * Counters on rate-limiter-flexible, for the memory, cluster and Redis adapters: the one place
 * its answers become ours. It rejects both when a key is over its limit (with a RateLimiterRes)
 * and when its store fails (with anything else); callers must never confuse the two, so here
 * the first becomes an answer and the second StorageUnavailable. Imports only the storage
 * interfaces, the errors and the driver, so that every adapter may use it without a cycle.
 */
import { BurstyRateLimiter, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Limiter, LimiterAnswer, LimiterSettings } from './types.js'
import { CounterCapacity, StorageUnavailable } from '../errors.js'

type Store = StorageUnavailable['store']

/** Makes one rate-limiter-flexible counter; `id` is unique per name, points and window. */
export type MakeCounter = (id: string, points: number, seconds: number) => RateLimiterAbstract

/**
 * The `limiter` of a shared state. Counters are kept per settings, so a reload that keeps a
 * rule keeps its counts (and an in-memory block of Redis keys over their limit).
 */
export function flexibleLimiters(store: Store, make: MakeCounter): (settings: LimiterSettings) => Limiter {
  const counters = new Map<string, RateLimiterAbstract>()
  const counter = (name: string, points: number, seconds: number): RateLimiterAbstract => {
    const id = `${name}:${points}:${seconds}`
    let c = counters.get(id)
    if (c === undefined) counters.set(id, (c = make(id, points, seconds)))
    return c
  }
  const limiters = new Map<string, Limiter>()
  return (s) => {
    const burst = s.burst !== undefined && s.burst > s.points ? s.burst : null
    const id = `${s.name}:${s.points}:${s.seconds}:${burst ?? ''}`
    let l = limiters.get(id)
    if (l === undefined) {
      const main = counter(s.name, s.points, s.seconds)
      // The burst allowance is a second counter over ten windows, spent only once the main one
      // is over (rate-limiter-flexible's BurstyRateLimiter).
      const c = burst === null ? main : new BurstyRateLimiter(main, counter(`${s.name}:burst`, burst - s.points, s.seconds * 10))
      limiters.set(id, (l = limiter(c, store)))
    }
    return l
  }
}

function limiter(c: Pick<RateLimiterAbstract, 'consume'>, store: Store): Limiter {
  return {
    consume: (key, points = 1) =>
      c.consume(key, points).then(
        (res: RateLimiterRes) => answer(res, true),
        (err: unknown) => {
          if (err instanceof RateLimiterRes) return answer(err, false)
          if (err instanceof StorageUnavailable) throw err
          throw new StorageUnavailable(store, 'counter store unavailable', { cause: err })
        },
      ),
  }
}

function answer(res: RateLimiterRes, allowed: boolean): LimiterAnswer {
  return { allowed, remaining: Math.max(0, res.remainingPoints), retryAfterMs: Math.max(0, res.msBeforeNext) }
}

/**
 * Bounds the keys an in-process counter holds: each key costs memory for its whole window, and a
 * rule keyed by a header lets a client invent keys at will. Keys are remembered in first-use
 * order with the end of their window; since one counter's windows are all as long, the ended ones
 * are at the front and are dropped first. Past the bound, a new key is a store error.
 */
export function bounded(limiter: RateLimiterAbstract, seconds: number, max: number, store: Store): RateLimiterAbstract {
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
        if (seen.size >= max) return Promise.reject(new CounterCapacity(store, `in-process counter full (${max} keys)`))
      }
      seen.set(k, now + seconds * 1000)
    }
    return consume(key, points, options)
  }
  return limiter
}
