/**
 * The services a gateway process opens once and keeps across reloads: logger, metrics, security
 * events, counters/notices/locks, bans, and the identity module (accounts, sessions, key rings).
 */
import type { Config } from '../config/types.js'
import { Logger } from '../observability/logger.js'
import { Metrics } from '../observability/metrics.js'
import { SecurityEvents } from '../observability/security-events.js'
import { StoreErrorLog } from '../observability/store-errors.js'
import { StorageUnavailable } from '../errors.js'
import { openEventStore, openIdentityStores } from '../storage/open.js'
import type { IdentityStores, SecurityEventStore } from '../storage/types.js'
import { createSharedState } from '../storage/shared-state.js'
import { type SharedState } from '../storage/types.js'
import { Identity, type IdentityOptions } from '../identity/index.js'
import { Bans } from '../stages/bans/index.js'
import type { ProcessServices } from './compiled-config.js'

export interface ServiceOptions {
  readonly logger?: Logger
  /** Where security events go; default: the store `storage:` names. */
  readonly eventStore?: SecurityEventStore
  /** Counters, notices and locks; default: from `storage` (Redis, the cluster primary, or memory). */
  readonly shared?: SharedState
}

/** Everything but the identity module, which listen() opens (it may have to wait for its store). */
export function openServices(config: Config, options: ServiceOptions): ProcessServices {
  const logger = options.logger ?? new Logger(config.logging.level)
  const metrics = new Metrics()
  const events = new SecurityEvents(options.eventStore ?? openEventStore(config), logger, metrics)
  const storeErrors = new StoreErrorLog(logger, metrics)
  const shared =
    options.shared ??
    createSharedState(config, {
      onRedisState: (state, detail) => (state === 'ready' ? logger.info('redis connected') : logger.warn('redis unreachable; reconnecting', { detail })),
    })
  const bans = config.bans.enabled
    ? new Bans(config.bans, shared, {
        storeErrors,
        events: {
          banned: (ip, reason, until) => {
            metrics.inc('drawbridge_bans_total', `reason="${reason}"`)
            logger.warn('client banned', { client_ip: ip, reason, until: new Date(until).toISOString() })
          },
        },
      })
    : null
  return { logger, metrics, events, identity: null, shared, bans, storeErrors }
}

/**
 * The key rings are read at open: with the identity store unreachable the gateway waits (and
 * says so) instead of crashing or serving unauthenticated; it never listens without them.
 * `stopped()`: the gateway is closing, so waiting ends.
 */
export async function openIdentity(config: Config, services: ProcessServices, options: IdentityOptions | undefined, stopped: () => boolean): Promise<Identity> {
  const { shared, logger } = services
  const stores = withSharedCounters(openIdentityStores(config), shared)
  for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      return await Identity.open(config.auth!, stores, { locks: shared.locks, notices: shared.notices, ...options })
    } catch (err) {
      if (!(err instanceof StorageUnavailable) || stopped()) {
        await stores.close().catch(() => undefined)
        throw err
      }
      logger.warn('identity store unreachable; retrying', { retry_in_ms: delay, err: String(err.cause ?? err) })
      await new Promise((r) => setTimeout(r, delay))
    }
  }
}

/** Failed-login counters go to Redis when it is configured (one count for all instances). */
function withSharedCounters(stores: IdentityStores, shared: SharedState): IdentityStores {
  return shared.throttle === null ? stores : { ...stores, throttle: shared.throttle }
}
