// Pure pieces of `npm run efficacy` (bench/efficacy/run.ts): how an answer is judged, how cases
// are prepared and sampled, and the table math. Kept apart from the runner so tests can import
// them without starting servers.
import type { EfficacyCase, EfficacyRequest } from './corpora.js'

/**
 * blocked: the WAF refused it (Drawbridge: 403 `{"error":"blocked"}`; ModSecurity: 403).
 * refused: another 4xx of the proxy's own (bad path, 405, 414, 431, malformed body...): the
 *   request never reached the app either, but not because of a detection.
 * passed: the upstream answered (it marks its answers).
 * error: anything else (5xx, timeout, connection reset, a 4xx that is not the proxy's).
 * unsendable: no client could put it on the wire as the corpus holds it (a header value with
 *   CR/LF/NUL): never sent, and counted apart.
 * not-run: the run's time bound was hit first.
 */
export type Verdict = 'blocked' | 'refused' | 'passed' | 'error' | 'unsendable' | 'not-run'
export const VERDICTS: readonly Verdict[] = ['blocked', 'refused', 'passed', 'error', 'unsendable', 'not-run']

export type ProxyKind = 'drawbridge' | 'modsecurity'

export interface Answer {
  readonly status: number
  /** The upstream's marker header was on the answer: the request reached the app */
  readonly fromUpstream: boolean
  readonly body: string
  /** The request was HEAD: the answer has no body to read the error code from */
  readonly head?: boolean
}

// The upstream sets this header on every answer: a 200 without it did not come from the app
export const UPSTREAM_MARK = 'x-efficacy-upstream'

function jsonField(body: string, field: 'error' | 'code'): string | null {
  try {
    const v = (JSON.parse(body) as Record<string, unknown>)[field]
    return typeof v === 'string' ? v : null
  } catch {
    return null
  }
}

export function classify(kind: ProxyKind, a: Answer): Verdict {
  if (a.fromUpstream) return 'passed'
  if (a.status < 400 || a.status >= 500) return 'error'
  if (kind === 'modsecurity' || a.head === true) return a.status === 403 ? 'blocked' : 'refused'
  const code = jsonField(a.body, 'code')
  if (code === null || !code.startsWith('DRAWBRIDGE_ERR_')) return 'error'
  return a.status === 403 && jsonField(a.body, 'error') === 'blocked' ? 'blocked' : 'refused'
}

/** Whether a verdict means the request never reached the app. */
export const stopped = (v: Verdict) => v === 'blocked' || v === 'refused'

/**
 * What a case must not do, as a miss for the tuning file: an attack that was not stopped, or a
 * legitimate request that was. Unsent and unrun cases are no verdict on the engine.
 */
export function isMiss(expect: 'block' | 'pass', v: Verdict): boolean {
  if (v === 'unsendable' || v === 'not-run') return false
  return expect === 'block' ? !stopped(v) : v !== 'passed'
}

/** Header values no HTTP/1.1 client can send without changing the request's framing. */
export function unsendableReason(r: EfficacyRequest): string | null {
  if (/[\r\n\0]/.test(r.path)) return 'CR, LF or NUL in the request target'
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(r.method)) return 'method is not a token'
  for (const [k, v] of Object.entries(r.headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) return `header name ${JSON.stringify(k)} is not a token`
    if (/[\r\n\0]/.test(v)) return `CR, LF or NUL in header ${k}`
  }
  return null
}

/**
 * Every case gets the one trusted Host: trusted-host checks are not what is measured, and a
 * refusal for an unknown host would count as stopped. Returns the new cases and how many changed.
 */
export function withHost(cases: readonly EfficacyCase[], host: string): { cases: EfficacyCase[]; rewritten: number; byHost: Record<string, number> } {
  let rewritten = 0
  const byHost: Record<string, number> = {}
  const out = cases.map((c) => {
    const headers: Record<string, string> = {}
    let found: string | null = null
    for (const [k, v] of Object.entries(c.request.headers)) {
      if (k.toLowerCase() === 'host') found = v
      else headers[k] = v
    }
    if (found === host) return c
    rewritten++
    const was = found ?? '(none)'
    byHost[was] = (byHost[was] ?? 0) + 1
    return { ...c, request: { ...c.request, headers: { host, ...headers } } }
  })
  return { cases: out, rewritten, byHost }
}

/** Every n-th case of each source and category, so small categories keep some cases. */
export function sample(cases: readonly EfficacyCase[], n: number): EfficacyCase[] {
  if (n <= 1) return [...cases]
  const seen = new Map<string, number>()
  return cases.filter((c) => {
    const k = `${c.source}\t${c.category}`
    const i = seen.get(k) ?? 0
    seen.set(k, i + 1)
    return i % n === 0
  })
}

export type Counts = Record<Verdict, number> & { cases: number }

export function emptyCounts(): Counts {
  return { cases: 0, blocked: 0, refused: 0, passed: 0, error: 0, unsendable: 0, 'not-run': 0 }
}

export function add(into: Counts, v: Verdict): void {
  into.cases++
  into[v]++
}

export function merge(into: Counts, from: Counts): void {
  into.cases += from.cases
  for (const v of VERDICTS) into[v] += from[v]
}

/** Cases that were judged: sent and answered (or failed) within the run. */
export const judged = (c: Counts) => c.cases - c.unsendable - c['not-run']

/** Percent of judged cases, or null when none was judged. */
export function pct(part: number, c: Counts): number | null {
  const d = judged(c)
  return d === 0 ? null : (100 * part) / d
}

export function fmtPct(p: number | null, digits = 1): string {
  return p === null ? '-' : `${p.toFixed(digits)}%`
}

// Open redirects are URLs in a parameter: a WAF cannot tell them from legitimate links without
// the app's allow-list, so they are reported apart from the attack total.
export const REPORTED_APART: ReadonlySet<string> = new Set(['open-redirect'])
