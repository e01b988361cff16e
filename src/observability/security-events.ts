/**
 * Security events: every detection, blocked or only logged, becomes one event per
 * finding: written to the log at once, counted in metrics, and stored through the storage
 * interface in batches (one transaction every `flushMs`), so that a flood of attacks costs one
 * write per batch, not one per request. The queue is bounded: past it, events still reach the
 * log and metrics, and the drop is counted. A store that cannot answer now (a PostgreSQL blip)
 * keeps its batch: it goes back to the front of the queue and is retried with backoff.
 */
import type { EventAction, SecurityEvent, SecurityEventStore } from '../storage/types.js'
import type { Logger } from './logger.js'
import type { Metrics } from './metrics.js'
import type { Redactor } from './redact.js'
import { StorageUnavailable } from '../errors.js'

const flushMs = 100
const maxQueued = 10_000
const snippetMax = 120
const retryMaxMs = 5000

export interface DetectionRecord {
  readonly requestId: string
  readonly clientIp: string
  readonly method: string
  readonly path: string
  readonly route: string
  readonly score: number
  readonly action: EventAction
  readonly findings: readonly {
    readonly category: string
    readonly rule: string
    readonly confidence: number
    readonly location: string
    readonly name: string
    readonly matched: string
  }[]
}

export class SecurityEvents {
  readonly #store: SecurityEventStore
  readonly #logger: Logger
  readonly #metrics: Metrics
  #queue: SecurityEvent[] = []
  #timer: NodeJS.Timeout | null = null
  #writing: Promise<void> = Promise.resolve()
  #pendingFlush: Promise<void> | null = null
  /** The current retry delay after an unavailable store; 0 while writes succeed. */
  #backoff = 0
  #closing = false

  constructor(store: SecurityEventStore, logger: Logger, metrics: Metrics) {
    this.#store = store
    this.#logger = logger
    this.#metrics = metrics
  }

  get store(): SecurityEventStore {
    return this.#store
  }

  record(d: DetectionRecord, redact: Redactor): void {
    const time = new Date().toISOString()
    for (const f of d.findings) {
      const event: SecurityEvent = {
        time,
        request_id: d.requestId,
        client_ip: d.clientIp,
        method: d.method,
        path: d.path,
        route: d.route,
        rule: f.rule,
        category: f.category,
        location: f.location,
        name: f.name.slice(0, 256),
        snippet: snippet(f.name, f.matched, redact),
        confidence: f.confidence,
        score: d.score,
        action: d.action,
      }
      // auth events (failed logins, lockouts, refresh reuse) are not WAF findings
      if (f.category === 'auth') this.#metrics.inc('drawbridge_auth_events_total', `rule="${f.rule}",action="${d.action}"`)
      else this.#metrics.inc('drawbridge_waf_detections_total', `category="${f.category}",action="${d.action}"`)
      // the log line has its own time: the event's would be a second "time" key in the line
      const { time: _stored, ...logged } = event
      this.#logger.warn('security event', logged)
      if (this.#queue.length >= maxQueued) {
        this.#metrics.inc('drawbridge_security_events_dropped_total', '')
        continue
      }
      this.#queue.push(event)
    }
    if (this.#timer === null && this.#queue.length > 0) this.#timer = setTimeout(() => void this.flush(), flushMs)
  }

  /**
   * Resolves once everything recorded so far is stored, waiting at most `waitMs`: a blocked
   * request's answer waits for its event, so an instance killed the next moment has lost no
   * event it answered for. Concurrent callers share one write (group commit). While the store is
   * failing (retrying with backoff), answers are not held.
   */
  stored(waitMs: number): Promise<void> {
    if (this.#backoff > 0) return Promise.resolve()
    if (this.#queue.length === 0 && this.#pendingFlush === null) return within(this.#writing, waitMs)
    if (this.#pendingFlush === null) {
      this.#pendingFlush = this.#writing.then(() => {
        this.#pendingFlush = null
        return this.flush()
      })
    }
    return within(this.#pendingFlush, waitMs)
  }

  /** Writes what is queued; resolves when it is stored. */
  flush(): Promise<void> {
    if (this.#timer !== null) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
    if (this.#queue.length === 0) return this.#writing
    const batch = this.#queue
    this.#queue = []
    this.#writing = this.#writing
      .then(() => this.#store.append(batch))
      .then(
        () => {
          this.#backoff = 0
        },
        (err: unknown) => {
          if (err instanceof StorageUnavailable && !this.#closing) return this.#retryLater(batch, err)
          this.#metrics.inc('drawbridge_security_events_dropped_total', '', batch.length)
          this.#logger.error('security events not stored', { count: batch.length, err: String(err) })
        },
      )
    return this.#writing
  }

  /** Puts `batch` back before what arrived since, within the bound (the newest are dropped, as in record), and retries. */
  #retryLater(batch: SecurityEvent[], err: StorageUnavailable): void {
    const merged = batch.concat(this.#queue)
    if (merged.length > maxQueued) {
      this.#metrics.inc('drawbridge_security_events_dropped_total', '', merged.length - maxQueued)
      merged.length = maxQueued
    }
    this.#queue = merged
    this.#backoff = Math.min(Math.max(this.#backoff * 2, flushMs * 2), retryMaxMs)
    this.#logger.warn('security events not stored yet; retrying', { queued: merged.length, retry_in_ms: this.#backoff, err: String(err.cause ?? err) })
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = setTimeout(() => void this.flush(), this.#backoff)
  }

  async close(): Promise<void> {
    // One last attempt: a store still down at shutdown loses the queue, counted as dropped.
    this.#closing = true
    await this.flush()
    await this.#store.close()
  }
}

/**
 * At most 120 characters of what matched, control characters made visible, secrets masked: a
 * field whose name says it holds a secret is never shown, and `password=...`-style text inside
 * a value is masked too.
 */
export function snippet(name: string, value: string, redact: Redactor): string {
  if (name !== '' && redact.isSecretName(name)) return '[REDACTED]'
  let s = value.length > snippetMax * 4 ? value.slice(0, snippetMax * 4) : value
  s = redact.text(s)
  s = s.replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'),
  )
  return s.length > snippetMax ? s.slice(0, snippetMax - 1) + '…' : s
}

/** `p`, or nothing after `ms`: an answer is never held longer than that. */
function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer))
}
