/**
 * Everything compiled from one configuration: the pipeline, the upstream and how requests reach
 * it, and the services of the process. A reload compiles a new one and swaps it in; requests
 * already running keep the one they started with.
 */
import type { Config } from '../config/types.js'
import type { CompiledPipeline } from '../pipeline/types.js'
import type { Transaction } from '../pipeline/transaction.js'
import type { PipelineContext } from '../pipeline/types.js'
import type { EntryContext } from '../listener/context.js'
import { compilePipeline } from './compile.js'
import { compileIpMatcher, type IpMatcher } from '../net/address.js'
import { compileOriginMatcher, type OriginMatcher } from '../net/origin.js'
import { createUpstream, type Upstream } from '../upstream/pool.js'
import { compileForwardHeaders, type ForwardHeaders } from '../upstream/request-headers.js'
import { createForwarder, type UpstreamTarget } from '../upstream/forward.js'
import { openWebSocket } from '../upstream/websocket.js'
import { createRedactor, type Redactor } from '../observability/redact.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { SecurityEvents } from '../observability/security-events.js'
import type { Identity } from '../identity/index.js'
import type { SharedState } from '../storage/types.js'
import type { Bans } from '../stages/bans/index.js'
import type { StoreErrorReport } from '../observability/store-errors.js'
import type { Duplex } from 'node:stream'

/** What a compiled configuration gets from its process: opened once, kept across reloads. */
export interface ProcessServices {
  readonly logger: Logger
  readonly metrics: Metrics
  /** Security events: the store is opened once per process. */
  readonly events: SecurityEvents
  /** Accounts, sessions and keys; null without `auth`. */
  readonly identity: Identity | null
  /** Counters, notices and locks. */
  readonly shared: SharedState
  /** Automatic bans; null when off. */
  readonly bans: Bans | null
  readonly storeErrors: StoreErrorReport
}

export interface CompiledConfig extends Omit<ProcessServices, 'bans'>, EntryContext {
  readonly bans: Bans | null
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

/** `upstream`: the running one, kept when a reload leaves `upstream:` unchanged. */
export function compileConfig(config: Config, services: ProcessServices, upstream?: Upstream): CompiledConfig {
  const up = upstream ?? createUpstream(config.upstream)
  const target: UpstreamTarget = { upstream: up, forwardHeaders: compileForwardHeaders(config, up.host) }
  return {
    ...services,
    config,
    pipeline: compilePipeline(config, { ...services, forward: createForwarder(target) }),
    trustedProxies: compileIpMatcher(config.trusted_proxies),
    upstream: up,
    forwardHeaders: target.forwardHeaders,
    wsOrigins: compileOriginMatcher(config.cors?.allow_origins ?? []),
    redact: createRedactor(config.logging.redact_fields),
    openWebSocket: (ctx: PipelineContext, tx: Transaction, socket: Duplex, head: Buffer) => openWebSocket(ctx, target, tx, socket, head),
    draining: false,
  }
}
