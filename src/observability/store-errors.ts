/**
 * Decisions taken because a shared store (Redis, PostgreSQL) could not be reached:
 * every one is counted (`drawbridge_store_errors_total`) and logged, but an outage under load
 * must not flood the log: the first decision of a kind is logged at once, later ones as one line
 * per second with how many there were.
 */
import type { Logger } from './logger.js'
import type { Metrics } from './metrics.js'
import { label } from './metrics.js'

export type StoreDecision = 'allow' | 'deny'

export interface StoreErrorReport {
  decision(store: string, operation: string, decision: StoreDecision, requestId: string, err: unknown): void
}

export class StoreErrorLog implements StoreErrorReport {
  readonly #logger: Logger
  readonly #metrics: Metrics
  /** Decisions not yet logged, per kind; a timer writes them out once a second. */
  readonly #pending = new Map<string, { count: number; last: string; fields: Record<string, unknown> }>()
  #timer: NodeJS.Timeout | null = null

  constructor(logger: Logger, metrics: Metrics) {
    this.#logger = logger
    this.#metrics = metrics
  }

  decision(store: string, operation: string, decision: StoreDecision, requestId: string, err: unknown): void {
    this.#metrics.inc('drawbridge_store_errors_total', `store="${label(store)}",operation="${label(operation)}",decision="${decision}"`)
    const kind = `${store}\n${operation}\n${decision}`
    const error = errorText(err)
    if (this.#timer === null) {
      this.#logger.warn('store unavailable: decided without it', { store, operation, decision, request_id: requestId, error })
      this.#timer = setTimeout(() => this.#flush(), 1000)
      this.#timer.unref()
      return
    }
    const p = this.#pending.get(kind)
    if (p === undefined) this.#pending.set(kind, { count: 1, last: requestId, fields: { store, operation, decision, error } })
    else {
      p.count++
      p.last = requestId
    }
  }

  #flush(): void {
    this.#timer = null
    if (this.#pending.size === 0) return
    for (const p of this.#pending.values()) {
      this.#logger.warn('store unavailable: decided without it', { ...p.fields, decisions: p.count, last_request_id: p.last })
    }
    this.#pending.clear()
    // Keep summarising while the outage lasts.
    this.#timer = setTimeout(() => this.#flush(), 1000)
    this.#timer.unref()
  }
}

/** The error's code or class, never its message (it could carry a URL with a password). */
function errorText(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string') return code
    return err.constructor?.name ?? 'error'
  }
  return 'error'
}
