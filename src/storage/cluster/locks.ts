/**
 * Single-flight locks between the workers of one machine (`--workers N` without Redis): the
 * primary holds every lock, like it holds the counters, so "one at a time" means one on the
 * machine, not one per worker. A worker asks the primary for a lock and waits for the grant;
 * the primary grants in arrival order, takes a lock back when its holder releases it, when its
 * `ttlMs` runs out (a stuck holder must not block the name for ever, as with Redis's PX) or when
 * its worker exits.
 */
import cluster, { type Worker } from 'node:cluster'
import type { Locks } from '../types.js'
import { StorageUnavailable } from '../../errors.js'

interface LockRequest {
  readonly drawbridgeLock: { readonly op: 'acquire' | 'release'; readonly id: number; readonly name: string; readonly ttlMs: number }
}

interface LockGrant {
  readonly drawbridgeLockGranted: number
}

function isRequest(m: unknown): m is LockRequest {
  if (typeof m !== 'object' || m === null || !('drawbridgeLock' in m)) return false
  const r = (m as LockRequest).drawbridgeLock
  return (
    typeof r === 'object' &&
    r !== null &&
    (r.op === 'acquire' || r.op === 'release') &&
    typeof r.id === 'number' &&
    typeof r.name === 'string' &&
    typeof r.ttlMs === 'number'
  )
}

function isGrant(m: unknown): m is LockGrant {
  return typeof m === 'object' && m !== null && typeof (m as LockGrant).drawbridgeLockGranted === 'number'
}

export class WorkerLocks implements Locks {
  #next = 0
  readonly #waiting = new Map<number, (granted: boolean) => void>()
  readonly #onMessage = (m: unknown) => {
    if (!isGrant(m)) return
    const granted = this.#waiting.get(m.drawbridgeLockGranted)
    if (granted !== undefined) granted(true)
  }

  constructor() {
    process.on('message', this.#onMessage)
  }

  async withLock<T>(name: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    const id = ++this.#next
    const send = (op: 'acquire' | 'release') => process.send!({ drawbridgeLock: { op, id, name, ttlMs } } satisfies LockRequest)
    // Without the primary there is nobody to order the workers: refuse (503) rather than run unordered.
    if (!process.connected) throw new StorageUnavailable('cluster', 'lock store (cluster primary) unavailable')
    // The holder finishes or its lock expires within ttlMs; waiting longer means something is wrong.
    const granted = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 2 * ttlMs)
      this.#waiting.set(id, (ok) => {
        clearTimeout(timer)
        resolve(ok)
      })
      send('acquire')
    })
    this.#waiting.delete(id)
    if (!granted) {
      // Withdraws the request (or gives back a grant that crossed the timeout on its way).
      if (process.connected) send('release')
      throw new StorageUnavailable('cluster', `lock ${name} not acquired in time`)
    }
    try {
      return await fn()
    } finally {
      if (process.connected) send('release')
    }
  }

  close(): void {
    process.off('message', this.#onMessage)
    // Waiters give up (503) instead of waiting for a primary this process no longer hears.
    for (const granted of this.#waiting.values()) granted(false)
  }
}

interface Holder {
  readonly worker: Worker
  readonly id: number
}

interface Entry {
  holder: Holder | null
  timer: NodeJS.Timeout | null
  readonly queue: { readonly worker: Worker; readonly id: number; readonly ttlMs: number }[]
}

/** The primary's side: holds the workers' locks. Returns a function that stops serving. */
export function serveWorkerLocks(): () => void {
  const locks = new Map<string, Entry>()

  const grantNext = (name: string, e: Entry) => {
    if (e.timer !== null) clearTimeout(e.timer)
    e.timer = null
    e.holder = null
    for (let next = e.queue.shift(); next !== undefined; next = e.queue.shift()) {
      if (!next.worker.isConnected()) continue
      e.holder = { worker: next.worker, id: next.id }
      e.timer = setTimeout(() => grantNext(name, e), next.ttlMs)
      e.timer.unref()
      next.worker.send({ drawbridgeLockGranted: next.id } satisfies LockGrant)
      return
    }
    locks.delete(name)
  }

  const onMessage = (worker: Worker, m: unknown) => {
    if (!isRequest(m)) return
    const { op, id, name, ttlMs } = m.drawbridgeLock
    let e = locks.get(name)
    if (op === 'acquire') {
      if (e === undefined) locks.set(name, (e = { holder: null, timer: null, queue: [] }))
      e.queue.push({ worker, id, ttlMs: Math.min(Math.max(ttlMs, 1), 600_000) })
      if (e.holder === null) grantNext(name, e)
      return
    }
    if (e === undefined) return
    if (e.holder !== null && e.holder.worker === worker && e.holder.id === id) return grantNext(name, e)
    // A request withdrawn before its grant.
    const i = e.queue.findIndex((q) => q.worker === worker && q.id === id)
    if (i !== -1) e.queue.splice(i, 1)
  }

  // A worker that dies holding a lock or waiting for one: its place goes to the next in line.
  const onExit = (worker: Worker) => {
    for (const [name, e] of [...locks]) {
      for (let i = e.queue.length - 1; i >= 0; i--) if (e.queue[i]!.worker === worker) e.queue.splice(i, 1)
      if (e.holder !== null && e.holder.worker === worker) grantNext(name, e)
      else if (e.holder === null && e.queue.length === 0) locks.delete(name)
    }
  }

  cluster.on('message', onMessage)
  cluster.on('exit', onExit)
  return () => {
    cluster.off('message', onMessage)
    cluster.off('exit', onExit)
    for (const e of locks.values()) if (e.timer !== null) clearTimeout(e.timer)
    locks.clear()
  }
}
