/**
 * Notices between the workers of one machine (`--workers N` without Redis): a worker sends its
 * notice to the primary, which relays it to every worker (the sender too) and keeps retained
 * ones for workers that subscribe later (a replacement after a crash must know the running bans).
 */
import cluster, { type Worker } from 'node:cluster'
import type { Notices } from '../types.js'
import { deliver } from '../memory/notices.js'

interface NoticeMessage {
  readonly drawbridgeNotice: { readonly channel: string; readonly message: string; readonly retainUntil?: number }
}

/** A worker's first subscription to a channel asks for what the primary retained on it. */
interface ReplayRequest {
  readonly drawbridgeNoticeReplay: string
}

function isNotice(m: unknown): m is NoticeMessage {
  return typeof m === 'object' && m !== null && 'drawbridgeNotice' in m
}

function isReplay(m: unknown): m is ReplayRequest {
  return typeof m === 'object' && m !== null && typeof (m as ReplayRequest).drawbridgeNoticeReplay === 'string'
}

export class WorkerNotices implements Notices {
  readonly #subscribers = new Map<string, Set<(message: string) => void>>()
  readonly #onMessage = (m: unknown) => {
    if (isNotice(m)) deliver(this.#subscribers, m.drawbridgeNotice.channel, m.drawbridgeNotice.message)
  }

  constructor() {
    process.on('message', this.#onMessage)
  }

  publish(channel: string, message: string, retainUntil?: number): void {
    const m: NoticeMessage = { drawbridgeNotice: { channel, message, ...(retainUntil === undefined ? {} : { retainUntil }) } }
    if (process.connected) process.send!(m)
    // Without the primary (it is gone) this worker still knows.
    else deliver(this.#subscribers, channel, message)
  }

  subscribe(channel: string, fn: (message: string) => void): void {
    let s = this.#subscribers.get(channel)
    if (s === undefined) {
      this.#subscribers.set(channel, (s = new Set()))
      if (process.connected) process.send!({ drawbridgeNoticeReplay: channel } satisfies ReplayRequest)
    }
    s.add(fn)
  }

  async close(): Promise<void> {
    process.off('message', this.#onMessage)
    this.#subscribers.clear()
  }
}

/** The primary's side: relays notices between workers and replays retained ones to new workers. */
export function relayWorkerNotices(): () => void {
  const retained = new Map<string, NoticeMessage>()
  const onMessage = (from: Worker, m: unknown) => {
    if (isReplay(m)) return replay(from, m.drawbridgeNoticeReplay)
    if (!isNotice(m)) return
    const n = m.drawbridgeNotice
    if (n.retainUntil !== undefined && n.retainUntil > Date.now()) {
      retained.set(`${n.channel}\n${n.message}`, m)
      if (retained.size > 100_000) retained.delete(retained.keys().next().value!)
    }
    for (const w of Object.values(cluster.workers ?? {})) if (w?.isConnected()) w.send(m)
  }
  const replay = (w: Worker, channel: string) => {
    const now = Date.now()
    for (const [k, m] of retained) {
      if (m.drawbridgeNotice.retainUntil! <= now) retained.delete(k)
      else if (m.drawbridgeNotice.channel === channel && w.isConnected()) w.send(m)
    }
  }
  cluster.on('message', onMessage)
  return () => cluster.off('message', onMessage)
}
