/**
 * `drawbridge start`: one process, or with --workers N a node:cluster primary and N workers
 * sharing the port. The primary serves the admin listener and adds up the workers' metrics;
 * SIGHUP reloads the file everywhere (an invalid file keeps the old config); SIGTERM drains.
 */
import cluster, { type Worker } from 'node:cluster'
import { availableParallelism } from 'node:os'
import { RateLimiterClusterMaster } from 'rate-limiter-flexible'
import { relayWorkerNotices } from '../storage/cluster/notices.js'
import { serveWorkerLocks } from '../storage/cluster/locks.js'
import { parseArgs } from 'node:util'
import { createGateway, type Gateway } from '../gateway.js'
import { configWarnings } from '../config/load.js'
import type { Config } from '../config/types.js'
import type { ConfigFlags } from '../config/load.js'
import { Logger } from '../observability/logger.js'
import { createAdminServer } from '../admin/server.js'
import { createReadiness } from '../admin/readiness.js'
import type { MetricsSnapshot } from '../observability/metrics.js'
import { parseHostPort } from '../net/address.js'
import { migrateStorage, openEventStore } from '../storage/open.js'
import { configPath, loadDotEnv, loadOrReport, type Io } from './common.js'
import { ExitConfigInvalid, ExitFailedStartup, ExitSuccess, ExitUsage } from './exit-codes.js'

export const usage =
  'drawbridge start [--config FILE] [--upstream URL] [--listen HOST:PORT] [--admin-listen HOST:PORT] [--mode production|development] [--workers N]'

type WorkerMessage = { type: 'metrics'; id: number; snapshot: MetricsSnapshot } | { type: 'ready' }

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

async function runSingle(config: Config, load: () => Config | null, logger: Logger): Promise<number> {
  const worker = cluster.isWorker
  let gateway: Gateway
  try {
    gateway = createGateway(config, { logger, admin: !worker })
    await gateway.listen()
  } catch (e) {
    logger.error('failed to start', { err: String(e) })
    logger.flush()
    return ExitFailedStartup
  }
  const reload = () => {
    const next = load()
    if (next === null) {
      logger.error('reload rejected: the new configuration is invalid; the old one keeps running')
      return
    }
    gateway.reload(next).catch((e) => logger.error('reload failed; the old configuration keeps running', { err: String(e) }))
  }
  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = () => {
      if (stopping) return
      stopping = true
      logger.info('draining', { deadline_ms: gateway.config.shutdown.drain_timeout })
      gateway.close().then(() => resolve(ExitSuccess), () => resolve(ExitFailedStartup))
    }
    if (worker) {
      process.on('message', (m: { type?: string; id?: number }) => {
        if (m.type === 'reload') reload()
        else if (m.type === 'stop') stop()
        else if (m.type === 'metrics') process.send!({ type: 'metrics', id: m.id, snapshot: gateway.metrics.snapshot() })
      })
      process.on('SIGTERM', () => undefined) // the primary tells us when to stop
      process.on('SIGINT', () => undefined)
      process.send!({ type: 'ready' })
    } else {
      process.on('SIGHUP', reload)
      process.on('SIGTERM', stop)
      process.on('SIGINT', stop)
    }
  })
}

async function runPrimary(config: Config, load: () => Config | null, logger: Logger): Promise<number> {
  let current = config
  // Workers' rate-limit counters live here, so a limit holds once for the whole machine (issue 5).
  new RateLimiterClusterMaster()
  // Bans and revocation notices between workers (without Redis; with it they go through Redis).
  relayWorkerNotices()
  // Single-flight locks (one login check per account at a time) for the whole machine.
  serveWorkerLocks()
  const workers = new Set<Worker>()
  let stopping = false
  let nextId = 0
  const pending = new Map<number, { snaps: MetricsSnapshot[]; left: number; done: (s: MetricsSnapshot[]) => void }>()

  const fork = () => {
    const w = cluster.fork()
    workers.add(w)
    w.on('message', (m: WorkerMessage) => {
      if (m.type !== 'metrics') return
      const p = pending.get(m.id)
      if (p === undefined) return
      p.snaps.push(m.snapshot)
      if (--p.left === 0) {
        pending.delete(m.id)
        p.done(p.snaps)
      }
    })
    w.on('exit', (code, signal) => {
      workers.delete(w)
      if (stopping) return
      logger.error('worker exited; starting a new one', { code, signal })
      setTimeout(fork, 500).unref()
    })
  }

  const snapshots = () =>
    new Promise<MetricsSnapshot[]>((resolve) => {
      const id = ++nextId
      const live = [...workers].filter((w) => w.isConnected())
      if (live.length === 0) return resolve([])
      const entry = { snaps: [] as MetricsSnapshot[], left: live.length, done: resolve }
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
  const eventStore = current.storage.memory || current.admin.listen === 'off' ? null : openEventStore(current)
  const admin =
    current.admin.listen !== 'off'
      ? createAdminServer({
          listenHost: parseHostPort(current.admin.listen).host,
          token: () => current.admin.token,
          snapshots,
          readiness: createReadiness(() => current),
          events: eventStore === null ? null : (q) => eventStore.list(q),
        })
      : null
  if (admin) {
    const { host, port } = parseHostPort(current.admin.listen)
    try {
      await new Promise<void>((resolve, reject) => {
        admin.once('error', reject)
        admin.listen(port, host, () => resolve())
      })
    } catch (e) {
      logger.error('failed to start the admin listener', { err: String(e) })
      logger.flush()
      return ExitFailedStartup
    }
  }
  for (let i = 0; i < current.workers; i++) fork()
  logger.info('primary started', { workers: current.workers, listen: current.listen, admin: current.admin.listen })

  return new Promise<number>((resolve) => {
    process.on('SIGHUP', () => {
      const next = load()
      if (next === null) {
        logger.error('reload rejected: the new configuration is invalid; the old one keeps running')
        return
      }
      current = next
      for (const w of workers) w.send({ type: 'reload' })
      logger.info('reload sent to workers', { workers: workers.size })
    })
    const stop = () => {
      if (stopping) return
      stopping = true
      for (const w of workers) w.send({ type: 'stop' })
      const deadline = setTimeout(() => {
        for (const w of workers) w.kill('SIGKILL')
      }, current.shutdown.drain_timeout + 2000)
      const check = setInterval(() => {
        if (workers.size > 0) return
        clearInterval(check)
        clearTimeout(deadline)
        admin?.close()
        void eventStore?.close()
        logger.info('stopped')
        logger.flush()
        resolve(ExitSuccess)
      }, 50)
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })
}
