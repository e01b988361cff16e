/** Readiness: can we reach the upstream right now? Cached briefly so /readyz cannot be used to flood it. */
import { connect } from 'node:net'
import { request } from 'undici'
import type { Config } from '../config/types.js'

export interface ReadinessResult {
  readonly ready: boolean
  readonly checks: Record<string, { ok: boolean; error?: string }>
}

export function createReadiness(getConfig: () => Config, cacheMs = 1000): () => Promise<ReadinessResult> {
  let cached: { at: number; result: Promise<ReadinessResult> } | null = null
  return () => {
    const now = Date.now()
    if (cached !== null && now - cached.at < cacheMs) return cached.result
    const result = probe(getConfig())
    cached = { at: now, result }
    return result
  }
}

async function probe(config: Config): Promise<ReadinessResult> {
  const upstream = await probeUpstream(config)
  // Stores join here as later issues add them (design.md §6).
  return { ready: upstream.ok, checks: { upstream } }
}

async function probeUpstream(config: Config): Promise<{ ok: boolean; error?: string }> {
  const u = config.upstream
  const timeout = Math.min(u.connect_timeout, 2000)
  if (u.health_path !== null) {
    try {
      const res = await request(u.url + u.health_path, { method: 'GET', headersTimeout: timeout, bodyTimeout: timeout })
      await res.body.dump()
      return res.statusCode < 500 ? { ok: true } : { ok: false, error: `status ${res.statusCode}` }
    } catch (e) {
      return { ok: false, error: (e as { code?: string }).code ?? 'error' }
    }
  }
  const url = new URL(u.url)
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) })
    const done = (r: { ok: boolean; error?: string }) => {
      socket.destroy()
      resolve(r)
    }
    socket.setTimeout(timeout, () => done({ ok: false, error: 'timeout' }))
    socket.once('connect', () => done({ ok: true }))
    socket.once('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? 'error' }))
  })
}
