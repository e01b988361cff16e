/**
 * createGateway(config) -> { listen, reload, close }: the servers around the pipeline.
 * Lifecycle as in Caddy: everything is compiled before the swap; a reload that fails leaves
 * the running configuration in place; close drains in-flight requests up to a deadline.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Config } from './config/types.js'
import { parseHostPort } from './net/address.js'
import { Logger } from './observability/logger.js'
import { Metrics, label } from './observability/metrics.js'
import { createRuntime, type Runtime } from './listener/runtime.js'
import { handleBadExpectation, handleRequest } from './listener/request.js'
import { rawError } from './listener/respond.js'
import { handleUpgrade } from './upstream/websocket.js'
import { createAdminServer } from './admin/server.js'
import { createReadiness } from './admin/readiness.js'
import { compileHostMatcher, parseAuthority } from './stages/host-check/index.js'
import { StorageUnavailable, type DrawbridgeErrorCode } from './errors.js'
import { SecurityEvents } from './observability/security-events.js'
import { migrateStorage, openEventStore, openIdentityStores } from './storage/open.js'
import { Identity, type IdentityOptions } from './identity/index.js'
import type { IdentityStores, SecurityEventStore } from './storage/types.js'
import { createSharedState, type SharedState } from './storage/shared-state.js'
import { StoreErrorLog } from './observability/store-errors.js'
import { Bans } from './stages/bans/index.js'
import type { ProcessServices } from './listener/runtime.js'

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

function urlOf(server: Server, secure: boolean): string {
  const a = server.address() as AddressInfo
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address
  return `${secure ? 'https' : 'http'}://${host}:${a.port}`
}

function listenOn(server: Server, hostPort: string, logger: Logger): Promise<void> {
  const { host, port } = parseHostPort(hostPort)
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.removeListener('error', reject)
      // A listening server reports failed accepts (EMFILE when a flood of connections exhausts
      // the file descriptors) as 'error': without a listener that ends the process, with one
      // the server goes on accepting once descriptors are free again.
      server.on('error', (err: NodeJS.ErrnoException) => logger.error('listener error', { listen: hostPort, code: err.code ?? null, syscall: err.syscall ?? null }))
      resolve()
    })
  })
}

export function createGateway(initial: Config, options: GatewayOptions = {}): Gateway {
  const logger = options.logger ?? new Logger(initial.logging.level)
  const metrics = new Metrics()
  const events = new SecurityEvents(options.eventStore ?? openEventStore(initial), logger, metrics)
  const storeErrors = new StoreErrorLog(logger, metrics)
  const shared =
    options.shared ??
    createSharedState(initial, {
      onRedisState: (state, detail) => (state === 'ready' ? logger.info('redis connected') : logger.warn('redis unreachable; reconnecting', { detail })),
    })
  const bans = initial.bans.enabled
    ? new Bans(initial.bans, shared, {
        storeErrors,
        events: {
          banned: (ip, reason, until) => {
            metrics.inc('drawbridge_bans_total', `reason="${reason}"`)
            logger.warn('client banned', { client_ip: ip, reason, until: new Date(until).toISOString() })
          },
        },
      })
    : null
  let services: ProcessServices = { logger, metrics, events, identity: null, shared, bans, storeErrors }
  let rt: Runtime = createRuntime(initial, services)
  const secure = initial.tls !== null
  const limits = initial.limits

  const onRequest = (req: IncomingMessage, res: ServerResponse) => handleRequest(rt, req, res, secure)
  const serverOptions = {
    maxHeaderSize: limits.max_header_bytes,
    // We answer a missing Host ourselves, as JSON with a request id.
    requireHostHeader: false,
    headersTimeout: limits.header_timeout,
    // The whole request (head and body) within header_timeout + the longest body_timeout;
    // routes with shorter body deadlines are checked by the upstream stage (forward.ts).
    requestTimeout: rt.pipeline.requestTimeout,
    keepAliveTimeout: 5000,
    connectionsCheckingInterval: 500,
  }
  const server: Server = secure
    ? createHttpsServer({ ...serverOptions, ...tlsOptions(initial) }, onRequest)
    : createHttpServer(serverOptions, onRequest)
  // Without this listener node would answer 100 Continue before any check has run.
  server.on('checkContinue', onRequest)
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => handleBadExpectation(rt, req, res, secure))
  // Upgraded sockets have left node:http: closeAllConnections() does not reach them, while
  // server.close() still waits for them. Kept here to be cut at the drain deadline.
  const upgraded = new Set<Duplex>()
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket)
    socket.once('close', () => upgraded.delete(socket))
    handleUpgrade(rt, req, socket, head, secure)
  })
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => clientError(rt, err, socket))
  // CONNECT would turn the gateway into an open tunnel: always refused.
  // node:http hands the socket over without an 'error' listener of its own: rawError adds one
  // (a client resetting while the 405 is written must not crash the process). What the client
  // sends after the head is read and dropped, so the close is a FIN, not a reset.
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    const id = randomUUID()
    metrics.inc('drawbridge_rejections_total', 'stage="route_policy",reason="connect"')
    // Logged and counted like the parser's refusals (respondRaw): every request has its line.
    metrics.inc('drawbridge_requests_total', 'status="405",route="none"')
    logger.info('access', { request_id: id, client_ip: socket.remoteAddress ?? null, method: 'CONNECT', status: 405, rejected_by: 'route_policy', reason: 'connect' })
    rawError(socket, 405, 'DRAWBRIDGE_ERR_METHOD_NOT_ALLOWED', id)
    socket.resume()
  })
  if (secure) server.on('tlsClientError', () => metrics.inc('drawbridge_rejections_total', 'stage="tls",reason="handshake failed"'))

  const redirect = secure && initial.tls.redirect_http_listen ? createRedirectServer(() => rt, () => (server.address() as AddressInfo).port) : null
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

  /**
   * The key rings are read at open: with the identity store unreachable the gateway waits (and
   * says so) instead of crashing or serving unauthenticated; it never listens without them.
   */
  async function openIdentity(auth: NonNullable<Config['auth']>, stores: ReturnType<typeof openIdentityStores>): Promise<Identity> {
    for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
      try {
        return await Identity.open(auth, stores, { locks: shared.locks, notices: shared.notices, ...options.identityOptions })
      } catch (err) {
        if (!(err instanceof StorageUnavailable) || closing) {
          await stores.close().catch(() => undefined)
          throw err
        }
        logger.warn('identity store unreachable; retrying', { retry_in_ms: delay, err: String(err.cause ?? err) })
        await new Promise((r) => setTimeout(r, delay))
      }
    }
  }

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
      await migrateStorage(initial, (err) => logger.warn('storage unreachable at start-up; retrying on use', { err: String(err.cause ?? err) }))
      if (initial.auth !== null) {
        if (identity === null) {
          identity = await openIdentity(initial.auth, withSharedCounters(openIdentityStores(initial), shared))
          ownIdentity = true
        }
        services = { ...services, identity }
        rt = createRuntime(initial, services, rt.upstream)
        // Rotations made by `drawbridge keys rotate` or another instance are picked up within a minute.
        const id = identity
        keyReload = setInterval(() => void Promise.all([id.jwtRing.reload(), id.csrfRing.reload()]).catch((err: unknown) => logger.error('key ring reload failed', { err: String(err) })), 60_000)
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
      const problems: string[] = []
      if (next.listen !== rt.config.listen) problems.push('listen')
      if ((next.tls === null) !== (rt.config.tls === null)) problems.push('tls on/off')
      if (next.admin.listen !== rt.config.admin.listen) problems.push('admin.listen')
      if (next.limits.max_header_bytes !== rt.config.limits.max_header_bytes) problems.push('limits.max_header_bytes')
      if (JSON.stringify(next.storage) !== JSON.stringify(rt.config.storage)) problems.push('storage')
      if (JSON.stringify(next.bans) !== JSON.stringify(rt.config.bans)) problems.push('bans')
      // Policies, switches and CSRF follow a reload; what the identity module holds needs a restart.
      if (fixedAuth(next.auth) !== fixedAuth(rt.config.auth)) problems.push(`auth (other than ${reloadableAuth.join(', ')})`)
    if (problems.length > 0) logger.warn('reload: these settings need a restart and keep their old values', { settings: problems })
      const old = rt
      const sameUpstream = JSON.stringify(next.upstream) === JSON.stringify(old.config.upstream)
      const auth = next.auth === null || identity === null || rt.config.auth === null ? next.auth : withReloaded(rt.config.auth, next.auth)
      const fresh = createRuntime({ ...next, auth }, { ...services, identity: next.auth === null ? null : identity }, sameUpstream ? old.upstream : undefined)
      if (secure && next.tls) (server as import('node:https').Server).setSecureContext(tlsOptions(next))
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
      const closed = Promise.all(
        [server, redirect, admin].filter((s): s is Server => s !== null && s.listening).map(
          (s) => new Promise<void>((resolve) => s.close(() => resolve())),
        ),
      )
      server.closeIdleConnections()
      const deadline = new Promise<'timeout'>((resolve) => setTimeout(resolve, drainMs, 'timeout').unref())
      const idle = setInterval(() => server.closeIdleConnections(), 100)
      const outcome = await Promise.race([closed.then(() => 'drained' as const), deadline])
      clearInterval(idle)
      if (outcome === 'timeout') {
        logger.warn('drain deadline reached; closing remaining connections')
        server.closeAllConnections()
        for (const socket of upgraded) socket.destroy()
        redirect?.closeAllConnections()
        admin?.closeAllConnections()
        await closed
      }
      await rt.upstream.close().catch(() => undefined)
      await events.close().catch((err: unknown) => logger.error('closing the event store failed', { err: String(err) }))
      if (keyReload !== null) clearInterval(keyReload)
      if (ownIdentity && identity !== null) await identity.close().catch((err: unknown) => logger.error('closing the identity store failed', { err: String(err) }))
      if (options.shared === undefined) await shared.close().catch(() => undefined)
      logger.info('stopped', { outcome })
      logger.flush()
    },
  }
  return gateway
}

/** The parts of `auth` a reload changes; the rest is held by the identity module and needs a restart. */
const reloadableAuth = ['policies', 'default_policy', 'login_page', 'revocation_check', 'forward_token', 'csrf'] as const

/** What of `auth` a reload cannot change, comparable as a string. */
function fixedAuth(a: Config['auth']): string | null {
  if (a === null) return null
  const rest: Record<string, unknown> = { ...a }
  for (const k of reloadableAuth) delete rest[k]
  return JSON.stringify(rest)
}

/** The running `auth` with the reloadable parts taken from the new file. */
function withReloaded(running: NonNullable<Config['auth']>, next: NonNullable<Config['auth']>): NonNullable<Config['auth']> {
  const out: Record<string, unknown> = { ...running }
  for (const k of reloadableAuth) out[k] = next[k]
  return out as unknown as NonNullable<Config['auth']>
}

function tlsOptions(c: Config): { cert: Buffer; key: Buffer; minVersion: 'TLSv1.2' | 'TLSv1.3' } {
  return { cert: readFileSync(c.tls!.cert_file), key: readFileSync(c.tls!.key_file), minVersion: c.tls!.min_version }
}

/** Requests node:http could not parse: answered as JSON too, never a bare socket reset. */
function clientError(rt: Runtime, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  // A bad request pipelined behind a good one: answers go in order (RFC 9112 §9.3.2), so the
  // error waits until the response in flight on this connection is complete.
  const inFlight = (socket as unknown as { _httpMessage?: ServerResponse | null })._httpMessage
  if (inFlight != null && !inFlight.writableFinished && !inFlight.req.complete) {
    // The error is in the body of the request in flight (a malformed chunk): answer it now if
    // nothing was sent yet; closing the socket also aborts its upstream request.
    if (inFlight.headersSent) socket.destroy()
    else respondRaw(rt, err, socket)
    return
  }
  if (inFlight != null && !inFlight.writableFinished) {
    inFlight.once('finish', () => (socket.writable ? clientError(rt, err, socket) : socket.destroy()))
    inFlight.once('close', () => {
      if (!inFlight.writableFinished) socket.destroy()
    })
    return
  }
  respondRaw(rt, err, socket)
}

function respondRaw(rt: Runtime, err: NodeJS.ErrnoException, socket: Socket): void {
  let status = 400
  let code: DrawbridgeErrorCode = 'DRAWBRIDGE_ERR_BAD_REQUEST'
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431
    code = 'DRAWBRIDGE_ERR_HEADERS_TOO_LARGE'
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT') {
    status = 408
    code = 'DRAWBRIDGE_ERR_REQUEST_TIMEOUT'
  }
  const id = randomUUID()
  rt.metrics.inc('drawbridge_rejections_total', `stage="parser",reason="${label(err.code ?? 'unknown')}"`)
  rt.metrics.inc('drawbridge_requests_total', `status="${status}",route="none"`)
  rt.logger.info('access', { request_id: id, client_ip: socket.remoteAddress ?? null, status, rejected_by: 'parser', reason: err.code ?? null })
  rawError(socket, status, code, id)
}

/** The optional plain-HTTP listener: a 308 to HTTPS for trusted hosts only (never an open redirect). */
function createRedirectServer(getRt: () => Runtime, httpsPort: () => number): Server {
  let matcherFor: Config | null = null
  let matcher = compileHostMatcher(['localhost'])
  const server = createHttpServer({ maxHeaderSize: 8192, requireHostHeader: false }, (req, res) => {
    const rt = getRt()
    if (matcherFor !== rt.config) {
      matcher = compileHostMatcher(rt.config.trusted_hosts)
      matcherFor = rt.config
    }
    const host = parseAuthority(req.headers.host ?? '')
    const id = randomUUID()
    if (host === null || !matcher.matches(host) || !(req.url ?? '').startsWith('/')) {
      res.writeHead(400, { 'content-type': 'application/json', 'x-request-id': id, connection: 'close' })
      res.end(`{"error":"host_not_allowed","code":"DRAWBRIDGE_ERR_HOST_NOT_ALLOWED","request_id":"${id}"}`)
      return
    }
    const port = httpsPort()
    const location = `https://${host}${port === 443 ? '' : ':' + port}${req.url}`
    res.writeHead(308, { location, 'content-length': '0', 'x-request-id': id, connection: 'close' })
    res.end()
  })
  server.on('clientError', (_e, socket) => socket.destroy())
  return server
}

/** Failed-login counters go to Redis when it is configured (one count for all instances). */
function withSharedCounters(stores: IdentityStores, shared: SharedState): IdentityStores {
  return shared.throttle === null ? stores : { ...stores, throttle: shared.throttle }
}
