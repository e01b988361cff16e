/**
 * The pipeline contract: stages run in a fixed order compiled per route at start-up, in phases
 * (connection, request headers, request body, response, logging); a stage stops a request by
 * returning a Verdict (a value, not an exception). Throwing is a fault and becomes a 5xx
 * through the one fault mapping in respond.ts.
 */
import type { DrawbridgeErrorCode } from '../errors.js'
import type { Config } from '../config/types.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { SecurityEvents } from '../observability/security-events.js'
import type { StoreErrorReport } from '../observability/store-errors.js'
import type { Redactor } from '../observability/redact.js'
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

export type MaybePromise<T> = T | Promise<T>

/** Outgoing response headers, lower-case names (node's writeHead accepts this shape). */
export type ResponseHeaders = Record<string, string | string[] | number | undefined>

/**
 * What a stage wants of a request's body: none, the whole of it (buffered up to the route's
 * limit before anything is forwarded), or its first chunk, to decide (see bodyAfterFirstChunk).
 */
export type BodyWant = 'none' | 'whole' | 'first-chunk'

export interface Stage {
  readonly id: string
  /** Runs first on the request head, on who is connecting (the client address, the host). */
  connection?(tx: Transaction): MaybePromise<Verdict | undefined>
  /** Runs when the request head has arrived, before any body byte is read. */
  requestHeaders?(tx: Transaction): MaybePromise<Verdict | undefined>
  /** Whether this request's body is wanted by requestBody; called once the head has passed. */
  wantsBody?(tx: Transaction): BodyWant
  /** For 'first-chunk': whether the body is wanted after all, from its first bytes. */
  bodyAfterFirstChunk?(tx: Transaction, chunk: Buffer): boolean
  /** Judges the buffered body; runs before the terminal sees any of it. */
  requestBody?(tx: Transaction, body: Buffer): MaybePromise<Verdict | undefined>
  /** Adjusts every response Drawbridge sends: upstream responses and its own errors. */
  response?(tx: Transaction, headers: ResponseHeaders): void
  /** Runs once per request when the exchange is over, blocked or not (never throws). */
  logging?(tx: Transaction): void
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

/** Which upstream response headers reach a route's response stages (derived from dropsUpstreamHeaders). */
export interface UpstreamHeaderFilter {
  readonly names: ReadonlySet<string>
  readonly prefixes: readonly string[]
}

/** A request body as the terminal gets it: buffered, the request stream itself, or none. */
export type RequestBody = Buffer | NodeJS.ReadableStream | null

/**
 * Where a request ends once every stage let it through: the upstream, or an endpoint Drawbridge
 * answers itself. `contentLength` is what the body's length is known to be (null: unknown,
 * streamed chunked). A rejected promise is a fault, answered through the one fault mapping.
 */
export type Terminal = (ctx: PipelineContext, tx: Transaction, body: RequestBody, contentLength: string | null) => Promise<void>

/** A route's compiled stages and limits. Frozen; shared by every request on the route. */
export interface Route {
  readonly name: string
  /** `route="NAME"`, escaped once for the per-request metrics. */
  readonly metricLabel: string
  /** `status="200",route="NAME"` by status, filled as statuses occur (one string, hashed once). */
  readonly statusLabels: string[]
  /** Stages with a connection step, in order (they run first). */
  readonly connectionStages: readonly Stage[]
  /** Stages with a requestHeaders step, in order. */
  readonly headerStages: readonly Stage[]
  /** Stages with a requestBody step, in order. */
  readonly bodyStages: readonly Stage[]
  /** Stages that adjust every response, in order. */
  readonly responseStages: readonly Stage[]
  /** Stages with a logging step, in order. */
  readonly loggingStages: readonly Stage[]
  /** Stage ids by phase, in the order they run (for introspection and tests). */
  readonly order: {
    readonly connection: readonly string[]
    readonly requestHeaders: readonly string[]
    readonly requestBody: readonly string[]
    readonly response: readonly string[]
  }
  /** Which upstream response headers reach the response stages. */
  readonly upstreamHeaders: UpstreamHeaderFilter
  readonly maxBodyBytes: number
  readonly bodyTimeout: number
  /**
   * Whether this route's body deadline is shorter than the listener-wide one (node's
   * requestTimeout, set to the longest): only then is it enforced per request.
   */
  readonly bodyDeadlinePerRequest: boolean
  readonly responseTimeout: number
  /** Chunked bodies of unknown length are buffered (whole, up to the limit) before the terminal. */
  readonly requestBuffering: boolean
  /** The terminal reads the whole body: it is buffered for it (up to maxBodyBytes) whatever its framing. */
  readonly bufferBody: boolean
  readonly terminal: Terminal
  /** Whether the terminal is Drawbridge's own endpoint rather than the upstream. */
  readonly local: boolean
}

export interface CompiledPipeline {
  readonly defaultRoute: Route
  /** Head plus the longest body deadline of any route: node's own, coarse, per-connection check. */
  readonly requestTimeout: number
  /** The route for a request: its canonical path, method, and the path as received. */
  match(canonicalPath: string, method: string, rawPath: string): Route
}

/** Counts offences toward an automatic ban of a client address. */
export interface OffenceCounter {
  offence(ip: string, kind: 'waf' | 'login', requestId: string): void
}

/**
 * What the pipeline's runner, responder and logging phase need from the running configuration.
 * One object per configuration; a reload makes a new one, and requests keep the one they began with.
 */
export interface PipelineContext {
  readonly config: Config
  readonly logger: Logger
  readonly metrics: Metrics
  readonly events: SecurityEvents
  readonly bans: OffenceCounter | null
  readonly storeErrors: StoreErrorReport
  readonly redact: Redactor
  /** Set while shutting down: responses ask clients to close their connection. */
  draining: boolean
}
