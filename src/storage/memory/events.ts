/** Security events in process memory: for tests and benchmarks; bounded, oldest dropped first. */
import type { EventQuery, SecurityEvent, SecurityEventStore, StoredSecurityEvent } from '../types.js'
import { matchesQuery } from '../query.js'

export class MemoryEventStore implements SecurityEventStore {
  readonly #events: StoredSecurityEvent[] = []
  readonly #max: number
  #nextId = 1

  constructor(max = 100_000) {
    this.#max = max
  }

  async append(events: readonly SecurityEvent[]): Promise<void> {
    for (const e of events) this.#events.push({ ...e, id: this.#nextId++ })
    if (this.#events.length > this.#max) this.#events.splice(0, this.#events.length - this.#max)
  }

  async list(q: EventQuery): Promise<StoredSecurityEvent[]> {
    const out: StoredSecurityEvent[] = []
    for (let i = this.#events.length - 1; i >= 0 && out.length < q.limit; i--) {
      const e = this.#events[i]!
      if (matchesQuery(e, q)) out.push(e)
    }
    return out
  }

  async close(): Promise<void> {}
}
