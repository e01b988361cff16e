/**
 * createGateway(config) -> { listen, reload, close }: the servers around the pipeline.
 * Lifecycle as in Caddy: everything is compiled before the swap; a reload that fails leaves
 * the running configuration in place; close drains in-flight requests up to a deadline.
 */
import type { Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Config } from '../config/types.js'
import { parseHostPort } from '../net/address.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { SecurityEvents } from '../observability/security-events.js'
import { createAdminServer } from '../admin/server.js'
import { createReadiness } from '../admin/readiness.js'
import { createRedirectServer } from '../listener/redirect.js'
import { migrateStorage } from '../storage/open.js'
import type { Identity, IdentityOptions } from '../identity/index.js'
import type { SecurityEventStore } from '../storage/types.js'
import type { SharedState } from '../storage/types.js'
import { compileConfig, type CompiledConfig, type ProcessServices } from './compiled-config.js'
import { createProxyServer, listenOn, tlsOptions, urlOf } from './servers.js'
import { drain } from './drain.js'
import { openIdentity, openServices } from './services.js'
import { needsRestart, withReloaded } from './reload.js'

export interface GatewayOptions {
  readonly logger?: Logger
  /** Start the admin listener (false in cluster workers: the primary serves it). */
  readonly admin?: boolean
  /** Where security events go; default: the store `storage:` names. */
  readonly eventStore?: SecurityEventStore
  /** The identity module to use (tests share one with a moved clock); default: opened from `auth` and `storage`. */
  readonly identity?: Identity
  /** Options for the identity opened by listen() (a test clock, cheaper argon2 parameters). */
  readonly identityOptions?: IdentityOptions
  /** Counters, notices and locks; default: from `storage` (Redis, the cluster primary, or memory). */
  readonly shared?: SharedState
  /** Apply storage migrations in listen() (false in cluster workers: the primary did). */
  readonly migrate?: boolean
}

export interface GatewayAddresses {
  readonly url: string
  readonly adminUrl: string | null
  readonly redirectUrl: string | null
}

export interface Gateway {
  listen(): Promise<GatewayAddresses>
  /** Swaps in a new configuration; listener addresses and TLS on/off need a restart. */
  reload(config: Config): Promise<void>
  /** Stops accepting, lets in-flight requests finish up to `drainMs`, then cuts the rest. */
  close(drainMs?: number): Promise<void>
  readonly metrics: Metrics
  readonly events: SecurityEvents
  readonly config: Config
  /** Null until listen() opened it, and without `auth`. */
  readonly identity: Identity | null
}

export function createGateway(initial: Config, options: GatewayOptions = {}): Gateway {
  let services: ProcessServices = openServices(initial, options)
  const { logger, metrics, events, shared } = services
  let rt: CompiledConfig = compileConfig(initial, services)
  const secure = initial.tls !== null
  const proxy = createProxyServer(rt, () => rt)
  const server = proxy.server
  const redirect =
    secure && initial.tls.redirect_http_listen
      ? createRedirectServer(
          () => rt.config,
          () => (server.address() as AddressInfo).port,
        )
      : null
  // Redis as this process sees it: its own connection is what requests use.
  const readiness = createReadiness(() => rt.config, 1000, { redis: () => shared.probe() })
  const admin =
    options.admin !== false && initial.admin.listen !== 'off'
      ? createAdminServer({
          listenHost: parseHostPort(initial.admin.listen).host,
          token: () => rt.config.admin.token,
          snapshots: async () => [metrics.snapshot()],
          readiness,
          events: async (q) => {
            await events.flush()
            return events.store.list(q)
          },
        })
      : null

  let identity: Identity | null = options.identity ?? null
  let ownIdentity = false
  let keyReload: NodeJS.Timeout | null = null

  let closing = false

  const gateway: Gateway = {
    metrics,
    events,
    get config() {
      return rt.config
    },
    get identity() {
      return identity
    },
    async listen() {
      // The admin listener first: while the database is awaited below, /readyz says why.
      if (admin) await listenOn(admin, initial.admin.listen, logger)
      // Redis, when configured: waited for briefly; without it requests follow its failure rules.
      await shared.connect()
      // A cluster's primary migrated before it forked its workers.
      if (options.migrate !== false)
        await migrateStorage(initial, (err) => logger.warn('storage unreachable at start-up; retrying on use', { err: String(err.cause ?? err) }))
      if (initial.auth !== null) {
        if (identity === null) {
          identity = await openIdentity(initial, services, options.identityOptions, () => closing)
          ownIdentity = true
        }
        services = { ...services, identity }
        rt = compileConfig(initial, services, rt.upstream)
        // Rotations made by `drawbridge keys rotate` or another instance are picked up within a minute.
        const id = identity
        keyReload = setInterval(
          () =>
            void Promise.all([id.jwtRing.reload(), id.csrfRing.reload()]).catch((err: unknown) => logger.error('key ring reload failed', { err: String(err) })),
          60_000,
        )
        keyReload.unref()
      }
      await listenOn(server, initial.listen, logger)
      if (redirect) await listenOn(redirect, initial.tls!.redirect_http_listen!, logger)
      const addresses = {
        url: urlOf(server, secure),
        adminUrl: admin ? urlOf(admin, false) : null,
        redirectUrl: redirect ? urlOf(redirect, false) : null,
      }
      logger.info('listening', { ...addresses, upstream: initial.upstream.url, mode: initial.mode })
      return addresses
    },
    async reload(next: Config) {
      const problems = needsRestart(rt.config, next)
      if (problems.length > 0) logger.warn('reload: these settings need a restart and keep their old values', { settings: problems })
      const old = rt
      const sameUpstream = JSON.stringify(next.upstream) === JSON.stringify(old.config.upstream)
      const auth = next.auth === null || identity === null || rt.config.auth === null ? next.auth : withReloaded(rt.config.auth, next.auth)
      const fresh = compileConfig({ ...next, auth }, { ...services, identity: next.auth === null ? null : identity }, sameUpstream ? old.upstream : undefined)
      if (secure && next.tls) (server as HttpsServer).setSecureContext(tlsOptions(next))
      server.headersTimeout = next.limits.header_timeout
      server.requestTimeout = fresh.pipeline.requestTimeout
      logger.setLevel(next.logging.level)
      rt = fresh
      // In-flight requests hold the old runtime; its pool closes once they are done.
      if (!sameUpstream) old.upstream.close().catch(() => undefined)
      logger.info('configuration reloaded', { source: next.source })
    },
    async close(drainMs = rt.config.shutdown.drain_timeout) {
      closing = true
      rt.draining = true
      const outcome = await drain(proxy, [redirect, admin], drainMs, logger)
      await rt.upstream.close().catch(() => undefined)
      await events.close().catch((err: unknown) => logger.error('closing the event store failed', { err: String(err) }))
      if (keyReload !== null) clearInterval(keyReload)
      if (ownIdentity && identity !== null)
        await identity.close().catch((err: unknown) => logger.error('closing the identity store failed', { err: String(err) }))
      if (options.shared === undefined) await shared.close().catch(() => undefined)
      logger.info('stopped', { outcome })
      logger.flush()
    },
  }
  return gateway
}
