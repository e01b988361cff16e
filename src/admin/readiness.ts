/**
 * Readiness: can we reach what requests need right now? A list of named checks (the upstream,
 * PostgreSQL and Redis when configured), run together and cached briefly so
 * /readyz cannot be used to flood them.
 */
import { connect } from 'node:net'
import { request } from 'undici'
import type { Config } from '../config/types.js'
import { probePostgres } from '../storage/postgres/database.js'
import { probeRedisConfig } from '../storage/redis/client.js'

export interface ReadinessResult {
  readonly ready: boolean
  readonly checks: Record<string, { ok: boolean; error?: string }>
}

type CheckResult = { ok: boolean; error?: string }

interface ReadinessCheck {
  readonly name: string
  /** Whether this configuration uses what the check probes. */
  applies(config: Config): boolean
  run(config: Config): Promise<CheckResult>
}

const checks: readonly ReadinessCheck[] = [
  { name: 'upstream', applies: () => true, run: probeUpstream },
  {
    name: 'postgres',
    applies: (c) => c.storage.postgres !== null,
    run: async (c) => {
      const pg = c.storage.postgres!
      const error = await probePostgres(pg, Math.min(pg.connect_timeout, 2000))
      return error === null ? { ok: true } : { ok: false, error }
    },
  },
  {
    name: 'redis',
    applies: (c) => c.storage.redis !== null,
    run: (c) => probeRedisConfig(c.storage.redis!, Math.min(c.storage.redis!.connect_timeout, 2000)),
  },
]

/** Checks this process can answer better itself (its own Redis connection, not a fresh one). */
export type OwnChecks = Readonly<Partial<Record<string, () => Promise<CheckResult> | null>>>

export function createReadiness(getConfig: () => Config, cacheMs = 1000, own: OwnChecks = {}): () => Promise<ReadinessResult> {
  let cached: { at: number; result: Promise<ReadinessResult> } | null = null
  return () => {
    const now = Date.now()
    if (cached !== null && now - cached.at < cacheMs) return cached.result
    const result = probe(getConfig(), own)
    cached = { at: now, result }
    return result
  }
}

async function probe(config: Config, own: OwnChecks): Promise<ReadinessResult> {
  const active = checks.filter((c) => c.applies(config))
  const results = await Promise.all(active.map((c) => (own[c.name]?.() ?? c.run(config)).catch((): CheckResult => ({ ok: false, error: 'error' }))))
  const out: Record<string, CheckResult> = {}
  active.forEach((c, i) => (out[c.name] = results[i]!))
  return { ready: results.every((r) => r.ok), checks: out }
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
