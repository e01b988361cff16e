/**
 * `drawbridge start`: one process, or with --workers N a node:cluster primary and N workers
 * sharing the port. The primary serves the admin listener and adds up the workers' metrics;
 * SIGHUP reloads the file everywhere (an invalid file keeps the old config); SIGTERM drains.
 */
import cluster, { type Worker } from 'node:cluster'
import { availableParallelism } from 'node:os'
import { serveWorkerCounters } from '../storage/cluster/limiters.js'
import { relayWorkerNotices } from '../storage/cluster/notices.js'
import { serveWorkerLocks } from '../storage/cluster/locks.js'
import { parseArgs } from 'node:util'
import { createGateway, type Gateway } from '../gateway/index.js'
import { configWarnings } from '../config/load.js'
import type { Config } from '../config/types.js'
import type { ConfigFlags } from '../config/load.js'
import { Logger } from '../observability/logger.js'
import { createAdminServer } from '../admin/server.js'
import { createReadiness } from '../admin/readiness.js'
import { Metrics, type MetricsSnapshot } from '../observability/metrics.js'
import { createRedactor } from '../observability/redact.js'
import { installProcessGuard, type UncaughtKind } from './process-guard.js'
import { parseHostPort } from '../net/address.js'
import { migrateStorage, openEventStore } from '../storage/open.js'
import { configPath, loadDotEnv, loadOrReport, type Io } from './common.js'
import { ExitConfigInvalid, ExitFailedStartup, ExitInternalError, ExitSuccess, ExitUsage } from './exit-codes.js'

export const usage =
  'drawbridge start [--config FILE] [--upstream URL] [--listen HOST:PORT] [--admin-listen HOST:PORT] [--mode production|development] [--workers N]'

type WorkerMessage = { type: 'metrics'; id: number; snapshot: MetricsSnapshot } | { type: 'ready' } | { type: 'uncaught'; kind: UncaughtKind }

export async function startCommand(argv: string[], io: Io): Promise<number> {
  let values: Record<string, string | undefined>
  try {
    ;({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        upstream: { type: 'string' },
        listen: { type: 'string' },
        'admin-listen': { type: 'string' },
        mode: { type: 'string' },
        workers: { type: 'string' },
      },
      strict: true,
    }))
  } catch (e) {
    io.err(`drawbridge start: ${(e as Error).message}\nusage: ${usage}`)
    return ExitUsage
  }
  if (values.workers !== undefined && !/^[0-9]{1,3}$/.test(values.workers)) {
    io.err('drawbridge start: --workers takes a whole number')
    return ExitUsage
  }
  const flags: ConfigFlags = {
    ...(values.upstream !== undefined && { upstream: values.upstream }),
    ...(values.listen !== undefined && { listen: values.listen }),
    ...(values['admin-listen'] !== undefined && { admin_listen: values['admin-listen'] }),
    ...(values.mode !== undefined && { mode: values.mode }),
    ...(values.workers !== undefined && { workers: Number(values.workers) }),
  }
  const file = configPath(values.config)
  loadDotEnv(file)
  const load = () => loadOrReport(file, flags, io)
  const config = load()
  if (config === null) return ExitConfigInvalid
  const logger = new Logger(config.logging.level, process.stdout, cluster.isWorker ? { worker: cluster.worker!.id } : {})
  if (cluster.isPrimary) {
    for (const w of configWarnings(config)) logger.warn(w)
    // node flags matter for latency (src/cli/relaunch.ts, src/cli/v8-flags.ts): say what this runs with
    logger.info('runtime', { node: process.version, node_flags: process.execArgv, cores: availableParallelism(), pid: process.pid })
  }

  if (cluster.isPrimary && config.workers > 1) return runPrimary(config, load, logger)
  return runSingle(config, load, logger)
}

/**
 * After an uncaught exception in-flight requests get this long (or shutdown.drain_timeout when
 * shorter) before the process exits: its state is not trusted for longer (process-guard.ts).
 */
const fatalDrainMs = 5000

/** The guard's counter: in a worker the primary keeps it, so that it outlives the worker. */
function countUncaught(metrics: Metrics): (kind: UncaughtKind) => void {
  if (cluster.isWorker) return (kind) => void process.send!({ type: 'uncaught', kind })
  return (kind) => metrics.inc('drawbridge_uncaught_exceptions_total', `kind="${kind}"`)
}

async function runSingle(config: Config, load: () => Config | null, logger: Logger): Promise<number> {
  const worker = cluster.isWorker
  let gateway: Gateway
  try {
    gateway = createGateway(config, { logger, admin: !worker, migrate: !worker })
  } catch (e) {
    logger.error('failed to start', { err: String(e) })
    logger.flush()
    return ExitFailedStartup
  }
  const gw = gateway
  let stopping = false
  let exit: (code: number) => void = () => undefined
  const exited = new Promise<number>((resolve) => (exit = resolve))
  const stop = (code: number, drainMs = gw.config.shutdown.drain_timeout) => {
    if (stopping) return
    stopping = true
    logger.info('draining', { deadline_ms: drainMs })
    gw.close(drainMs).then(
      () => exit(code),
      () => exit(code === ExitSuccess ? ExitFailedStartup : code),
    )
  }
  // From the start: a fault while the stores are opened counts as well.
  const redact = createRedactor(config.logging.redact_fields)
  installProcessGuard({
    logger,
    redact: (t) => redact.text(t),
    count: countUncaught(gw.metrics),
    fatal: () => {
      const drainMs = Math.min(fatalDrainMs, gw.config.shutdown.drain_timeout)
      // A drain that hangs must not keep a process whose state is not trusted.
      setTimeout(() => process.exit(ExitInternalError), drainMs + 2000)
      stop(ExitInternalError, drainMs)
    },
  })
  try {
    await gw.listen()
  } catch (e) {
    // A fatal exception during the start is draining it already.
    if (stopping) return exited
    logger.error('failed to start', { err: String(e) })
    // What listen() opened before it failed (the admin listener, stores) would keep the process alive.
    await gw.close(0).catch(() => undefined)
    logger.flush()
    return ExitFailedStartup
  }
  if (stopping) return exited
  const reload = () => {
    const next = load()
    if (next === null) {
      logger.error('reload rejected: the new configuration is invalid; the old one keeps running')
      return
    }
    gw.reload(next).catch((e) => logger.error('reload failed; the old configuration keeps running', { err: String(e) }))
  }
  if (worker) {
    process.on('message', (m: { type?: string; id?: number }) => {
      if (m.type === 'reload') reload()
      else if (m.type === 'stop') stop(ExitSuccess)
      else if (m.type === 'metrics') process.send!({ type: 'metrics', id: m.id, snapshot: gw.metrics.snapshot() })
    })
  } else {
    process.on('SIGHUP', reload)
  }
  // In a worker too: the primary stops its workers with SIGTERM, and a terminal's Ctrl-C or a
  // supervisor's SIGTERM reach every process of the group; the second one changes nothing.
  process.on('SIGTERM', () => stop(ExitSuccess))
  process.on('SIGINT', () => stop(ExitSuccess))
  if (worker) process.send!({ type: 'ready' })
  return exited
}

async function runPrimary(config: Config, load: () => Config | null, logger: Logger): Promise<number> {
  let current = config
  // Workers' rate-limit counters live here, so a limit holds once for the whole machine.
  serveWorkerCounters()
  // Bans and revocation notices between workers (without Redis; with it they go through Redis).
  relayWorkerNotices()
  // Single-flight locks (one login check per account at a time) for the whole machine.
  serveWorkerLocks()
  // The primary's own counters (uncaught exceptions, its workers' too: they outlive the worker).
  const own = new Metrics()
  const workers = new Set<Worker>()
  // Workers that listened; one that exits before it did failed to start.
  const ready = new WeakSet<Worker>()
  let served = false
  let failedStarts = 0
  const reforks = new Set<NodeJS.Timeout>()
  let stopping = false
  let nextId = 0
  const pending = new Map<number, { snaps: MetricsSnapshot[]; left: number; done: (s: MetricsSnapshot[]) => void }>()
  let exit: (code: number) => void = () => undefined
  const exited = new Promise<number>((resolve) => (exit = resolve))
  let admin: ReturnType<typeof createAdminServer> | null = null
  let eventStore: ReturnType<typeof openEventStore> | null = null

  /** Stops every worker (they drain), then exits with `code` as soon as the last one has. */
  const stop = (code: number) => {
    if (stopping) return
    stopping = true
    for (const t of reforks) clearTimeout(t)
    for (const w of workers) w.process.kill('SIGTERM')
    const deadline = setTimeout(() => {
      for (const w of workers) w.process.kill('SIGKILL')
    }, current.shutdown.drain_timeout + 2000)
    const check = setInterval(() => {
      if (workers.size > 0) return
      clearInterval(check)
      clearTimeout(deadline)
      admin?.close()
      void eventStore?.close()
      logger.info('stopped')
      logger.flush()
      exit(code)
    }, 50)
  }

  const refork = (delay: number) => {
    const t = setTimeout(() => {
      reforks.delete(t)
      fork()
    }, delay)
    reforks.add(t)
  }

  const fork = () => {
    const w = cluster.fork()
    workers.add(w)
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') {
        ready.add(w)
        served = true
        failedStarts = 0
        return
      }
      if (m.type === 'uncaught') {
        own.inc('drawbridge_uncaught_exceptions_total', `kind="${m.kind === 'connection' ? 'connection' : 'fatal'}"`)
        return
      }
      if (m.type !== 'metrics') return
      const p = pending.get(m.id)
      if (p === undefined) return
      p.snaps.push(m.snapshot)
      if (--p.left === 0) {
        pending.delete(m.id)
        p.done(p.snaps)
      }
    })
    // A worker's channel closing as it exits must not become an uncaught 'error' here.
    w.on('error', (err) => logger.warn('worker channel error', { err: String(err) }))
    w.on('exit', (code, signal) => {
      workers.delete(w)
      if (stopping) return
      if (!ready.has(w)) {
        if (!served) {
          // The same start fails in every worker (a port in use, a bad certificate): give up
          // at once rather than start them again and again.
          logger.error('a worker failed to start; stopping', { code, signal })
          stop(ExitFailedStartup)
          return
        }
        const delay = Math.min(500 * 2 ** ++failedStarts, 30_000)
        logger.error('a new worker failed to start; trying again', { code, signal, retry_in_ms: delay })
        refork(delay)
        return
      }
      logger.error('worker exited; starting a new one', { code, signal })
      refork(500)
    })
  }

  const snapshots = () =>
    new Promise<MetricsSnapshot[]>((resolve) => {
      const id = ++nextId
      const live = [...workers].filter((w) => w.isConnected())
      if (live.length === 0) return resolve([own.snapshot()])
      const entry = { snaps: [own.snapshot()] as MetricsSnapshot[], left: live.length, done: resolve }
      pending.set(id, entry)
      setTimeout(() => {
        if (pending.delete(id)) resolve(entry.snaps)
      }, 2000).unref()
      for (const w of live) w.send({ type: 'metrics', id })
    })

  // Schema migrations once, before any worker starts (theirs then find nothing to do); a
  // database newer than this Drawbridge stops the start, an unreachable one does not.
  try {
    await migrateStorage(current, (err) => logger.warn('storage unreachable at start-up; retrying on use', { err: String(err.cause ?? err) }))
  } catch (e) {
    logger.error('failed to start', { err: String(e) })
    logger.flush()
    return ExitFailedStartup
  }
  // Workers write security events to the shared SQLite file or PostgreSQL; the primary reads them
  // for the admin API (a memory store lives inside each worker, out of the primary's reach).
  eventStore = current.storage.memory || current.admin.listen === 'off' ? null : openEventStore(current)
  const events = eventStore
  admin =
    current.admin.listen !== 'off'
      ? createAdminServer({
          listenHost: parseHostPort(current.admin.listen).host,
          token: () => current.admin.token,
          snapshots,
          readiness: createReadiness(() => current),
          events: events === null ? null : (q) => events.list(q),
        })
      : null
  if (admin) {
    const { host, port } = parseHostPort(current.admin.listen)
    const server = admin
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => resolve())
      })
    } catch (e) {
      logger.error('failed to start the admin listener', { err: String(e) })
      logger.flush()
      void events?.close()
      return ExitFailedStartup
    }
  }
  const redact = createRedactor(config.logging.redact_fields)
  installProcessGuard({
    logger,
    redact: (t) => redact.text(t),
    count: (kind) => own.inc('drawbridge_uncaught_exceptions_total', `kind="${kind}"`),
    // The primary's state is not trusted either: its workers drain, then it exits.
    fatal: () => stop(ExitInternalError),
  })
  for (let i = 0; i < current.workers; i++) fork()
  logger.info('primary started', { workers: current.workers, listen: current.listen, admin: current.admin.listen })

  process.on('SIGHUP', () => {
    const next = load()
    if (next === null) {
      logger.error('reload rejected: the new configuration is invalid; the old one keeps running')
      return
    }
    current = next
    for (const w of workers) if (w.isConnected()) w.send({ type: 'reload' })
    logger.info('reload sent to workers', { workers: workers.size })
  })
  process.on('SIGTERM', () => stop(ExitSuccess))
  process.on('SIGINT', () => stop(ExitSuccess))
  return exited
}
