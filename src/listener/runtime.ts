/**
 * Everything compiled from one configuration. A reload builds a new Runtime and swaps it in;
 * requests already running keep the one they started with.
 */
import type { Config } from '../config/types.js'
import { compilePipeline, type CompiledPipeline } from '../pipeline/compile.js'
import { compileIpMatcher, type IpMatcher } from '../net/address.js'
import { createUpstream, type Upstream } from '../upstream/pool.js'
import { compileForwardHeaders, type ForwardHeaders } from '../upstream/forward.js'
import { compileOriginMatcher, type OriginMatcher } from '../stages/cors/index.js'
import { createRedactor, type Redactor } from '../observability/redact.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { SecurityEvents } from '../observability/security-events.js'
import type { Identity } from '../identity/index.js'
import type { SharedState } from '../storage/types.js'
import type { Bans } from '../stages/bans/index.js'
import type { StoreErrorReport } from '../observability/store-errors.js'

/** What a runtime gets from its process: opened once, kept across reloads. */
export interface ProcessServices {
  readonly logger: Logger
  readonly metrics: Metrics
  /** Security events: the store is opened once per process. */
  readonly events: SecurityEvents
  /** Accounts, sessions and keys (issue 4); null without `auth`. */
  readonly identity: Identity | null
  /** Counters, notices and locks (issue 5). */
  readonly shared: SharedState
  /** Automatic bans; null when off. */
  readonly bans: Bans | null
  readonly storeErrors: StoreErrorReport
}

export interface Runtime extends ProcessServices {
  readonly config: Config
  readonly pipeline: CompiledPipeline
  readonly trustedProxies: IpMatcher
  readonly upstream: Upstream
  /** What of the client's request headers reaches the upstream. */
  readonly forwardHeaders: ForwardHeaders
  readonly wsOrigins: OriginMatcher
  readonly redact: Redactor
  /** Set while shutting down: responses ask clients to close their connection. */
  draining: boolean
}

export function createRuntime(config: Config, services: ProcessServices, upstream?: Upstream): Runtime {
  return {
    ...services,
    config,
    pipeline: compilePipeline(config, services),
    trustedProxies: compileIpMatcher(config.trusted_proxies),
    upstream: upstream ?? createUpstream(config.upstream),
    forwardHeaders: compileForwardHeaders(config),
    wsOrigins: compileOriginMatcher(config.cors?.allow_origins ?? []),
    redact: createRedactor(config.logging.redact_fields),
    draining: false,
  }
}
