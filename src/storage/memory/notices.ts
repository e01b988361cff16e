/** Notices inside one process: subscribers are called at once. */
import type { Notices } from '../types.js'

export class MemoryNotices implements Notices {
  readonly #subscribers = new Map<string, Set<(message: string) => void>>()

  publish(channel: string, message: string): void {
    deliver(this.#subscribers, channel, message)
  }

  subscribe(channel: string, fn: (message: string) => void): void {
    let s = this.#subscribers.get(channel)
    if (s === undefined) this.#subscribers.set(channel, (s = new Set()))
    s.add(fn)
  }

  async close(): Promise<void> {
    this.#subscribers.clear()
  }
}

/** Calls every subscriber of `channel`; one that throws does not stop the others. */
export function deliver(subscribers: ReadonlyMap<string, ReadonlySet<(message: string) => void>>, channel: string, message: string): void {
  for (const fn of subscribers.get(channel) ?? []) {
    try {
      fn(message)
    } catch {
      // A subscriber's fault is its own; notices are advisory.
    }
  }
}
