/**
 * Notices over Redis pub/sub: one channel per deployment (`<key_prefix>notices`), a second
 * connection in subscriber mode. Pub/sub delivers at most once and only to connected
 * subscribers, so retained notices (bans) are also kept in a sorted set per channel, scored by
 * when they end, and an instance that starts or reconnects reads the live ones back. A notice
 * may arrive twice; subscribers must not mind.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from './client.js'
import type { Notices } from '../shared-state.js'
import { deliver } from '../memory/notices.js'

// KEYS[1]; ARGV: until, message, now. Adds the notice, drops the ended ones, and lets the set
// expire with its last member.
const retainScript = `
redis.call('zadd', KEYS[1], ARGV[1], ARGV[2])
redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[3])
local last = redis.call('zrange', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('pexpireat', KEYS[1], last[2]) end
return 1`

interface Wire {
  /** channel */
  readonly c: string
  /** message */
  readonly m: string
  /** the publishing instance: it delivered locally already */
  readonly o: string
}

export class RedisNotices implements Notices {
  readonly #client: Redis
  readonly #subscriber: Redis
  readonly #channel: string
  readonly #retainedPrefix: string
  readonly #origin = randomUUID()
  readonly #subscribers = new Map<string, Set<(message: string) => void>>()
  readonly #subscribed: Promise<boolean>

  constructor(client: Redis, keyPrefix: string) {
    this.#client = client
    this.#channel = `${keyPrefix}notices`
    this.#retainedPrefix = `${keyPrefix}retained:`
    // Subscriber mode needs its own connection; it may queue its SUBSCRIBE until connected.
    this.#subscriber = client.duplicate({ enableOfflineQueue: true, lazyConnect: false, connectionName: 'drawbridge-notices' })
    this.#subscriber.on('error', () => undefined)
    this.#subscriber.on('message', (_channel: string, raw: string) => this.#receive(raw))
    // ioredis subscribes again after a reconnect; what was retained meanwhile is read back.
    this.#subscriber.on('ready', () => void this.#replay())
    this.#subscribed = this.#subscriber.subscribe(this.#channel).then(
      () => true,
      () => false,
    )
  }

  /** Whether this instance listens, waiting at most `timeoutMs` (start-up waits so it hears notices from the start). */
  listening(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    return Promise.race([this.#subscribed, new Promise<boolean>((r) => (timer = setTimeout(r, timeoutMs, false)))]).finally(() => clearTimeout(timer))
  }

  publish(channel: string, message: string, retainUntil?: number): void {
    deliver(this.#subscribers, channel, message)
    const wire = JSON.stringify({ c: channel, m: message, o: this.#origin } satisfies Wire)
    // Fire and forget: a lost notice is repaired by the stores (or the retained copy).
    this.#client.publish(this.#channel, wire).catch(() => undefined)
    if (retainUntil !== undefined && retainUntil > Date.now()) {
      this.#client.eval(retainScript, 1, this.#retainedPrefix + channel, retainUntil, message, Date.now()).catch(() => undefined)
    }
  }

  subscribe(channel: string, fn: (message: string) => void): void {
    let s = this.#subscribers.get(channel)
    if (s === undefined) this.#subscribers.set(channel, (s = new Set()))
    s.add(fn)
    // Subscribing after the first replay (a reload): the retained notices of this channel too.
    // Delivery may repeat (the replays can overlap): subscribers are idempotent.
    if (this.#subscriber.status === 'ready') void this.#replay(channel)
  }

  async close(): Promise<void> {
    this.#subscribers.clear()
    await this.#subscriber.quit().catch(() => this.#subscriber.disconnect())
  }

  #receive(raw: string): void {
    let w: Wire
    try {
      w = JSON.parse(raw) as Wire
    } catch {
      return
    }
    if (w.o === this.#origin || typeof w.c !== 'string' || typeof w.m !== 'string') return
    deliver(this.#subscribers, w.c, w.m)
  }

  /** Reads the live retained notices (of one channel, or every subscribed one) back into the local subscribers. */
  async #replay(only?: string, attempt = 0): Promise<void> {
    try {
      for (const channel of only === undefined ? [...this.#subscribers.keys()] : [only]) {
        const live = await this.#client.zrangebyscore(this.#retainedPrefix + channel, Date.now(), '+inf')
        for (const m of live) deliver(this.#subscribers, channel, m)
      }
    } catch {
      // The command connection may come up a moment after the subscriber's: try again shortly.
      if (attempt < 20) setTimeout(() => void this.#replay(only, attempt + 1), 250).unref()
    }
  }
}
