/**
 * Automatic bans (off by default): a client IP that collects `waf_blocks` WAF blocks or
 * `failed_logins` failed logins within `window` is refused for `duration` (403 with
 * Retry-After), in the first stage, before anything else runs for it. Offences are counted in
 * the shared state (one count across workers and instances); a ban is a notice every instance
 * hears, retained until it ends so that instances starting later enforce it too. The per-request
 * check is a lookup in this process's map: no store round trip on the hot path.
 */
import type { BanConfig } from '../../config/types.js'
import type { Stage, Verdict } from '../../pipeline/types.js'
import { verdict } from '../../pipeline/types.js'
import type { Transaction } from '../../pipeline/transaction.js'
import type { SharedState } from '../../storage/types.js'
import type { StoreErrorReport } from '../../observability/store-errors.js'
import { clientKey, compileIpMatcher, type IpMatcher } from '../../net/address.js'
import { StorageUnavailable } from '../../errors.js'

export type Offence = 'waf' | 'login'

const channel = 'bans'
/** Bounded, like every per-client table: past it the oldest entries go first. */
const maxEntries = 100_000

export interface BanEvents {
  /** This instance banned `ip` (log, metric). */
  banned(ip: string, reason: Offence, until: number): void
}

export class Bans {
  readonly #config: BanConfig
  readonly #shared: SharedState
  readonly #allow: IpMatcher
  readonly #events: BanEvents | null
  readonly #storeErrors: StoreErrorReport | null
  readonly #clock: () => number
  /** client key (IPv4, or IPv6 /64) -> epoch ms the ban ends. */
  readonly #until = new Map<string, number>()

  constructor(config: BanConfig, shared: SharedState, o: { events?: BanEvents; storeErrors?: StoreErrorReport; clock?: () => number } = {}) {
    this.#config = config
    this.#shared = shared
    this.#allow = compileIpMatcher(config.allow_ips)
    this.#events = o.events ?? null
    this.#storeErrors = o.storeErrors ?? null
    this.#clock = o.clock ?? Date.now
    shared.notices.subscribe(channel, (m) => this.#heard(m))
  }

  /** Epoch ms the ban on `ip` (its IPv6 /64) ends; null: not banned. */
  bannedUntil(ip: string): number | null {
    if (this.#until.size === 0) return null
    const key = clientKey(ip)
    const until = this.#until.get(key)
    if (until === undefined) return null
    // An allow-listed address stays allowed even when its /64 neighbours are banned.
    if (until > this.#clock()) return this.#allow.matches(ip) ? null : until
    this.#until.delete(key)
    return null
  }

  /** Counts one offence; the one that reaches the threshold bans the IP everywhere. Never throws. */
  offence(ip: string, kind: Offence, requestId: string): void {
    if (!this.#config.enabled || this.#allow.matches(ip) || this.bannedUntil(ip) !== null) return
    const threshold = kind === 'waf' ? this.#config.waf_blocks : this.#config.failed_logins
    if (threshold === 0) return
    const key = clientKey(ip)
    if (threshold === 1) return this.#ban(key, kind)
    // The counter lets threshold - 1 offences through in a window: the next one bans.
    const limiter = this.#shared.limiter({ name: `bans:${kind}`, points: threshold - 1, seconds: Math.max(1, Math.round(this.#config.window / 1000)) })
    limiter.consume(key).then(
      (res) => {
        // Over the counter: the threshold-th offence.
        if (!res.allowed) this.#ban(key, kind)
      },
      // The store failing: the offence is not counted (a ban needs evidence), and that is reported.
      (err: unknown) =>
        this.#storeErrors?.decision(this.#shared.kind, `bans:${kind}`, 'allow', requestId, err instanceof StorageUnavailable ? (err.cause ?? err) : err),
    )
  }

  /** Bans a client key (an IPv4 address, or an IPv6 /64) everywhere. */
  #ban(key: string, reason: Offence): void {
    const until = this.#clock() + this.#config.duration
    this.#events?.banned(key, reason, until)
    this.#shared.notices.publish(channel, JSON.stringify({ ip: key, until }), until)
  }

  #heard(message: string): void {
    try {
      const m = JSON.parse(message) as { ip?: unknown; until?: unknown }
      if (typeof m.ip === 'string' && typeof m.until === 'number') this.#set(m.ip, m.until)
    } catch {
      // Not ours.
    }
  }

  #set(ip: string, until: number): void {
    const known = this.#until.get(ip)
    if (known !== undefined && known >= until) return
    if (known === undefined && this.#until.size >= maxEntries) {
      const now = this.#clock()
      for (const [k, v] of this.#until) if (v <= now) this.#until.delete(k)
      if (this.#until.size >= maxEntries) this.#until.delete(this.#until.keys().next().value!)
    }
    this.#until.set(ip, until)
  }
}

/** The stage: first in line, so a banned client costs one map lookup. */
export function createBanStage(bans: Bans): Stage {
  return {
    id: 'bans',
    connection(tx: Transaction): Verdict | undefined {
      const until = bans.bannedUntil(tx.clientIp)
      if (until === null) return undefined
      const retry = String(Math.max(1, Math.ceil((until - Date.now()) / 1000)))
      return verdict('bans', 403, 'DRAWBRIDGE_ERR_BANNED', 'client banned', [['retry-after', retry]])
    },
  }
}
