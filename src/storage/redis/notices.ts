/**
 * Notices over Redis pub/sub: one channel per deployment (`<key_prefix>notices`), a second
 * connection in subscriber mode. Pub/sub delivers at most once and only to connected
 * subscribers, so retained notices (bans) are also kept in a sorted set per channel, scored by
 * when they end, and an instance that starts or reconnects reads the live ones back. A notice
 * may arrive twice; subscribers must not mind.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from './client.js'
import type { Notices } from '../types.js'
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
  /** Whether the SUBSCRIBE of the current connection was acknowledged. */
  #listening = false
  #waiters: (() => void)[] = []
  /** Retained notices not yet written (Redis was down when they were published). */
  readonly #unwritten = new Map<string, { channel: string; message: string; until: number }>()
  readonly #resync: NodeJS.Timeout

  constructor(client: Redis, keyPrefix: string) {
    this.#client = client
    this.#channel = `${keyPrefix}notices`
    this.#retainedPrefix = `${keyPrefix}retained:`
    // Subscriber mode needs its own connection. Its SUBSCRIBE waits for a connection however
    // long Redis is away (maxRetriesPerRequest: null), and is sent again on every (re)connect:
    // ioredis only resubscribes what was acknowledged once.
    this.#subscriber = client.duplicate({
      enableOfflineQueue: true,
      lazyConnect: false,
      maxRetriesPerRequest: null,
      keepAlive: 30_000,
      connectionName: 'drawbridge-notices',
    })
    this.#subscriber.on('error', () => undefined)
    this.#subscriber.on('message', (_channel: string, raw: string) => this.#receive(raw))
    this.#subscriber.on('close', () => (this.#listening = false))
    this.#subscriber.on('ready', () => {
      this.#subscriber.subscribe(this.#channel).then(
        () => {
          this.#listening = true
          for (const w of this.#waiters.splice(0)) w()
          // What was retained (or published here) while this connection was away.
          void this.#replay()
        },
        () => undefined,
      )
    })
    // Retained notices are read back now and then too: a notice missed on a connection that died
    // silently (a middlebox dropping it) is repaired within seconds.
    this.#resync = setInterval(() => void this.#replay(), 5000)
    this.#resync.unref()
    client.on('ready', () => this.#writeUnwritten())
  }

  /** Whether this instance listens, waiting at most `timeoutMs` (start-up waits so it hears notices from the start). */
  listening(timeoutMs: number): Promise<boolean> {
    if (this.#listening) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.#listening), timeoutMs)
      this.#waiters.push(() => {
        clearTimeout(timer)
        resolve(true)
      })
    })
  }

  /** For /readyz: subscribed right now. */
  get isListening(): boolean {
    return this.#listening
  }

  publish(channel: string, message: string, retainUntil?: number): void {
    deliver(this.#subscribers, channel, message)
    const wire = JSON.stringify({ c: channel, m: message, o: this.#origin } satisfies Wire)
    // Fire and forget: a lost notice is repaired by the stores (or the retained copy).
    this.#client.publish(this.#channel, wire).catch(() => undefined)
    if (retainUntil !== undefined && retainUntil > Date.now()) this.#retain(channel, message, retainUntil)
  }

  #retain(channel: string, message: string, until: number): void {
    const id = `${channel}\n${message}`
    this.#client.eval(retainScript, 1, this.#retainedPrefix + channel, until, message, Date.now()).then(
      () => this.#unwritten.delete(id),
      () => {
        // Written when Redis is back (bounded like every table fed by clients).
        if (this.#unwritten.size < 10_000) this.#unwritten.set(id, { channel, message, until })
      },
    )
  }

  #writeUnwritten(): void {
    const now = Date.now()
    for (const [id, n] of this.#unwritten) {
      if (n.until <= now) this.#unwritten.delete(id)
      else {
        this.#client.publish(this.#channel, JSON.stringify({ c: n.channel, m: n.message, o: this.#origin } satisfies Wire)).catch(() => undefined)
        this.#retain(n.channel, n.message, n.until)
      }
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
    clearInterval(this.#resync)
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
  async #replay(only?: string): Promise<void> {
    try {
      for (const channel of only === undefined ? [...this.#subscribers.keys()] : [only]) {
        const live = await this.#client.zrangebyscore(this.#retainedPrefix + channel, Date.now(), '+inf')
        for (const m of live) deliver(this.#subscribers, channel, m)
      }
    } catch {
      // Redis away: the periodic read-back repairs it once it answers.
    }
  }
}
