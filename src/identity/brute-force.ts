/**
 * Failed-login limits, per account and per client IP: from the third failure on, the
 * next attempt must wait (1 s, 2 s, 4 s ... capped), and past the maximum the key is locked for
 * a while. Unknown usernames are counted and locked exactly like real ones, so a lock says
 * nothing about whether an account exists.
 */
import type { LoginThrottleStore } from '../storage/types.js'
import type { AuthConfig } from '../config/types.js'
import type { Clock } from './clock.js'
import { identityKey } from '../storage/identity-key.js'
import { clientKey } from '../net/address.js'

/** auth.brute_force, durations in ms. */
export type BruteForceSettings = AuthConfig['brute_force']

export class BruteForce {
  readonly #store: LoginThrottleStore
  readonly #s: BruteForceSettings
  readonly #clock: Clock

  constructor(store: LoginThrottleStore, settings: BruteForceSettings, clock: Clock) {
    this.#store = store
    this.#s = settings
    this.#clock = clock
  }

  static accountKey(username: string): string {
    return `acct:${identityKey(username)}`
  }

  /**
   * Counted like rate limits and bans: an IPv6 client by its /64, since one subscriber holds a
   * whole /64 and could otherwise rotate addresses to reset the count.
   */
  static ipKey(ip: string): string {
    return `ip:${clientKey(ip)}`
  }

  /** Epoch ms until which login attempts for this account or IP are refused; null: go ahead. */
  async lockedUntil(username: string, ip: string): Promise<number | null> {
    const now = this.#clock()
    const [a, b] = await Promise.all([this.#store.get(BruteForce.accountKey(username), now), this.#store.get(BruteForce.ipKey(ip), now)])
    const until = Math.max(a.locked_until ?? 0, b.locked_until ?? 0)
    return until > now ? until : null
  }

  /** Counts a failure; returns whether it just locked the account or IP (for the security event). */
  async failed(username: string, ip: string): Promise<{ locked: boolean }> {
    const now = this.#clock()
    const s = this.#s
    let locked = false
    for (const [key, max] of [
      [BruteForce.accountKey(username), s.max_failures_per_account],
      [BruteForce.ipKey(ip), s.max_failures_per_ip],
    ] as const) {
      const { count } = await this.#store.fail(key, now, s.window)
      if (count >= max) {
        await this.#store.lock(key, now + s.lock_duration, now)
        locked ||= count === max
      } else if (count >= 3 && key.startsWith('acct:')) {
        await this.#store.lock(key, now + Math.min(s.base_delay * 2 ** (count - 3), s.max_delay), now)
      }
    }
    return { locked }
  }

  /** A good login forgets the account's failures (not the IP's: one good account must not launder a spray). */
  succeeded(username: string): Promise<void> {
    return this.#store.clear(BruteForce.accountKey(username))
  }
}
