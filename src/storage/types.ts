/**
 * The storage interfaces (design.md §6): the only surface stages and the admin API see. Adapters
 * live in memory/ and sqlite/ (PostgreSQL and Redis in a later issue); one conformance suite in
 * test/storage/ runs against each.
 */

export type EventAction = 'blocked' | 'logged'

/** One detection (issue 3): what fired, where, on which request. Never holds a raw secret. */
export interface SecurityEvent {
  /** ISO 8601, UTC. */
  readonly time: string
  readonly request_id: string
  readonly client_ip: string
  readonly method: string
  /** Path and query as logged (secret-looking parameters masked). */
  readonly path: string
  readonly route: string
  readonly rule: string
  readonly category: string
  /** path, query, header, cookie or body. */
  readonly location: string
  readonly name: string
  /** At most 120 characters of the matched input, secrets masked. */
  readonly snippet: string
  readonly confidence: number
  /** The request's score when it was judged. */
  readonly score: number
  readonly action: EventAction
}

export interface StoredSecurityEvent extends SecurityEvent {
  /** Increases with insertion order: newest first is highest first. */
  readonly id: number
}

export interface EventQuery {
  /** 1..500 */
  readonly limit: number
  /** Only events with a smaller id (the cursor of the previous page). */
  readonly before?: number
  readonly category?: string
  readonly rule?: string
  readonly client_ip?: string
  readonly action?: EventAction
  readonly request_id?: string
  /** ISO 8601 bounds on `time`, inclusive. */
  readonly since?: string
  readonly until?: string
}

export interface SecurityEventStore {
  append(events: readonly SecurityEvent[]): Promise<void>
  /** Newest first. */
  list(query: EventQuery): Promise<StoredSecurityEvent[]>
  close(): Promise<void>
}
