/**
 * The pipeline contract (design.md §2): stages run in a fixed order compiled per route at
 * start-up; a stage stops a request by returning a Verdict (a value, not an exception).
 * Throwing is a fault and becomes a 5xx.
 */
import type { DrawbridgeErrorCode } from '../errors.js'
import type { Transaction } from './transaction.js'

export interface Verdict {
  readonly status: number
  /** Error code for the JSON error body; null for a bodiless answer such as a 204 preflight. */
  readonly code: DrawbridgeErrorCode | null
  readonly stage: string
  /** For logs and metrics only; never sent to the client. */
  readonly reason: string
  readonly headers: readonly (readonly [string, string])[] | null
}

type MaybePromise<T> = T | Promise<T>

/** Outgoing response headers, lower-case names (node's writeHead accepts this shape). */
export type ResponseHeaders = Record<string, string | string[] | number | undefined>

export interface Stage {
  readonly id: string
  /** Runs when the request head has arrived, before any body byte is read. */
  requestHeaders?(tx: Transaction): MaybePromise<Verdict | undefined>
  /** Adjusts every response Drawbridge sends: upstream responses and its own errors. */
  responseHeaders?(tx: Transaction, headers: ResponseHeaders): void
  /**
   * Upstream response headers this stage removes (whole names, lower-case, or name prefixes):
   * left out when the upstream's headers are copied, so that no stage needs `delete` on them.
   */
  readonly dropsUpstreamHeaders?: { readonly names: readonly string[]; readonly prefixes: readonly string[] }
}

export function verdict(
  stage: string,
  status: number,
  code: DrawbridgeErrorCode | null,
  reason: string,
  headers: readonly (readonly [string, string])[] | null = null,
): Verdict {
  return Object.freeze({ status, code, stage, reason, headers })
}
