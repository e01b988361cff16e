/**
 * Failed-login counters in Redis: every instance counts into the same record, so a
 * brute force spread over instances meets the same limit. One hash per key; each change is one
 * Lua script, so concurrent failures are counted exactly. Keys expire with their window or
 * lock. Redis down: StorageUnavailable, and the login is refused (fails closed).
 */
import type { Redis } from './client.js'
import type { LoginThrottleStore } from '../types.js'
import { StorageUnavailable } from '../../errors.js'

// KEYS[1]; ARGV: now, window. A new window starts when the last one is over; a running lock is kept.
const failScript = `
local now = tonumber(ARGV[1])
local win = tonumber(ARGV[2])
local r = redis.call('hmget', KEYS[1], 'count', 'start', 'locked')
local count = tonumber(r[1])
local start = tonumber(r[2])
local locked = tonumber(r[3])
if count == nil or start == nil or now - start >= win then
  count = 1
  start = now
else
  count = count + 1
end
if locked ~= nil and locked <= now then
  locked = nil
  redis.call('hdel', KEYS[1], 'locked')
end
redis.call('hset', KEYS[1], 'count', count, 'start', start)
local keep = start + win
if locked ~= nil and locked > keep then keep = locked end
redis.call('pexpire', KEYS[1], math.max(keep - now, 1))
return {count, locked or -1}`

// KEYS[1]; ARGV: until, now. Only an existing record is locked (as in the SQL stores).
const lockScript = `
if redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('hset', KEYS[1], 'locked', ARGV[1])
local need = tonumber(ARGV[1]) - tonumber(ARGV[2])
if need > redis.call('pttl', KEYS[1]) then redis.call('pexpire', KEYS[1], need) end
return 1`

interface ThrottleCommands {
  drawbridgeThrottleFail(key: string, now: number, windowMs: number): Promise<[number, number]>
  drawbridgeThrottleLock(key: string, until: number, now: number): Promise<number>
}

export class RedisThrottleStore implements LoginThrottleStore {
  readonly #client: Redis & ThrottleCommands
  readonly #prefix: string

  constructor(client: Redis, keyPrefix: string) {
    client.defineCommand('drawbridgeThrottleFail', { numberOfKeys: 1, lua: failScript })
    client.defineCommand('drawbridgeThrottleLock', { numberOfKeys: 1, lua: lockScript })
    this.#client = client as Redis & ThrottleCommands
    this.#prefix = `${keyPrefix}login:`
  }

  async fail(key: string, now: number, windowMs: number): Promise<{ count: number; locked_until: number | null }> {
    const [count, locked] = await guard(this.#client.drawbridgeThrottleFail(this.#prefix + key, now, windowMs))
    return { count, locked_until: locked === -1 ? null : locked }
  }

  async lock(key: string, until: number, now: number): Promise<void> {
    await guard(this.#client.drawbridgeThrottleLock(this.#prefix + key, until, now))
  }

  async get(key: string, now: number): Promise<{ count: number; locked_until: number | null }> {
    const [count, locked] = await guard(this.#client.hmget(this.#prefix + key, 'count', 'locked'))
    const until = locked === null ? null : Number(locked)
    return { count: count === null ? 0 : Number(count), locked_until: until !== null && until > now ? until : null }
  }

  async clear(key: string): Promise<void> {
    await guard(this.#client.del(this.#prefix + key))
  }
}

async function guard<T>(p: Promise<T>): Promise<T> {
  try {
    return await p
  } catch (err) {
    throw new StorageUnavailable('redis', 'login counters (Redis) unavailable', { cause: err })
  }
}
