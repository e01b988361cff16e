/**
 * Everything compiled from one configuration. A reload builds a new Runtime and swaps it in;
 * requests already running keep the one they started with.
 */
import type { Config } from '../config/types.js'
import { compilePipeline, type CompiledPipeline } from '../pipeline/compile.js'
import { compileIpMatcher, type IpMatcher } from '../net/address.js'
import { createUpstream, type Upstream } from '../upstream/pool.js'
import { compileOriginMatcher, type OriginMatcher } from '../stages/cors/index.js'
import { createRedactor, type Redactor } from '../observability/redact.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { SecurityEvents } from '../observability/security-events.js'
import type { Identity } from '../identity/index.js'
import type { SharedState } from '../storage/shared-state.js'
import type { Bans } from '../stages/bans/index.js'
import type { StoreErrorReport } from '../observability/store-errors.js'

export interface Runtime {
  readonly config: Config
  readonly pipeline: CompiledPipeline
  readonly trustedProxies: IpMatcher
  readonly upstream: Upstream
  readonly wsOrigins: OriginMatcher
  readonly redact: Redactor
  readonly logger: Logger
  readonly metrics: Metrics
  /** Outlives reloads: the store is opened once per process. */
  readonly events: SecurityEvents
  /** Accounts, sessions and keys (issue 4); opened once per process, null without `auth`. */
  readonly identity: Identity | null
  /** Counters, notices and locks (issue 5); once per process. */
  readonly shared: SharedState
  /** Automatic bans; null when off. */
  readonly bans: Bans | null
  readonly storeErrors: StoreErrorReport
  /** Set while shutting down: responses ask clients to close their connection. */
  draining: boolean
}

/** What a runtime gets from its process: opened once, kept across reloads. */
export interface ProcessServices {
  readonly logger: Logger
  readonly metrics: Metrics
  readonly events: SecurityEvents
  readonly identity: Identity | null
  readonly shared: SharedState
  readonly bans: Bans | null
  readonly storeErrors: StoreErrorReport
}

export function createRuntime(config: Config, services: ProcessServices, upstream?: Upstream): Runtime {
  const { logger, metrics, events, identity, shared, bans, storeErrors } = services
  return {
    config,
    pipeline: compilePipeline(config, { identity, shared, bans, storeErrors }),
    trustedProxies: compileIpMatcher(config.trusted_proxies),
    upstream: upstream ?? createUpstream(config.upstream),
    wsOrigins: compileOriginMatcher(config.cors?.allow_origins ?? []),
    redact: createRedactor(config.logging.redact_fields),
    logger,
    metrics,
    events,
    identity,
    shared,
    bans,
    storeErrors,
    draining: false,
  }
}
