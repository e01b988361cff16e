/**
 * The rate-limit stage: rules keyed by client IP, user, API key or a header, scoped by
 * path and method, written like `5/minute` with an optional burst. Every rule that applies
 * counts the request; the strictest answers. Over a limit: 429 with `Retry-After` and the IETF
 * `RateLimit-Policy`/`RateLimit` fields (draft-ietf-httpapi-ratelimit-headers); under it the
 * same fields (per rule, configurable). The counting is the shared state's (storage/types.ts):
 * process memory for one process, the cluster primary for `--workers N` (one count per machine),
 * Redis for several instances. When the counter cannot be reached, the rule's `on_store_error`
 * decides, and the decision is counted and logged.
 */
import type { RateLimitRule } from '../../config/types.js'
import type { Limiter, LimiterAnswer, SharedState } from '../../storage/types.js'
import { StorageUnavailable } from '../../errors.js'
import type { StoreErrorReport } from '../../observability/store-errors.js'
import type { Stage, Verdict } from '../../pipeline/types.js'
import { verdict } from '../../pipeline/types.js'
import type { Transaction } from '../../pipeline/transaction.js'
import { compileMethods, compilePathMatcher, type PathMatcher } from '../../net/path-matcher.js'
import { clientKey } from '../../net/address.js'

interface CompiledRule {
  readonly name: string
  readonly path: PathMatcher | null
  readonly methods: ReadonlySet<string> | null
  readonly key: (tx: Transaction) => string | null
  readonly limiter: Limiter
  readonly limit: number
  readonly windowSeconds: number
  readonly headers: boolean
  /** `"name";q=100;w=60`, built once. */
  readonly policy: string
  /** What a store failure means for this rule (counter unreachable). */
  readonly onStoreError: 'allow' | 'deny'
}

const units: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86_400 }

/** "5/minute" -> { limit: 5, seconds: 60 }; null when malformed. */
export function parseLimit(s: string): { limit: number; seconds: number } | null {
  const m = /^([1-9][0-9]{0,8})\s*\/\s*(second|minute|hour|day)$/.exec(s.trim())
  return m === null ? null : { limit: Number(m[1]), seconds: units[m[2]!]! }
}

function keyFn(rule: RateLimitRule): (tx: Transaction) => string | null {
  const k = rule.key
  if (k === 'ip') return (tx) => clientKey(tx.clientIp)
  if (k === 'user') return (tx) => (tx.identity === null ? null : tx.identity.userId)
  if (k === 'api_key') return (tx) => (tx.identity === null || tx.identity.apiKeyId === null ? null : tx.identity.apiKeyId)
  const header = k.header.toLowerCase()
  return (tx) => {
    const v = tx.req.headers[header]
    return typeof v === 'string' && v !== '' ? v.slice(0, 256) : null
  }
}

export function compileRules(rules: readonly RateLimitRule[], authPrefix: string | null, shared: SharedState): CompiledRule[] {
  return rules.map((r, i) => {
    const name = r.name ?? `rule_${i}`
    const { limit, seconds } = parseLimit(r.limit)!
    // The counter is named by the rule and what it counts, so no two rules ever share one.
    const counter = `${name}:${typeof r.key === 'string' ? r.key : `header:${r.key.header.toLowerCase()}`}`
    // A burst allows up to `burst` in one window: the extra above `limit` comes from an
    // allowance of (burst - limit) per ten windows.
    const limiter = shared.limiter({ name: counter, points: limit, seconds, burst: r.burst })
    return {
      name,
      path: r.match?.path === undefined ? null : compilePathMatcher(r.match.path),
      methods: compileMethods(r.match?.methods),
      key: keyFn(r),
      limiter,
      limit: r.burst !== undefined && r.burst > limit ? r.burst : limit,
      windowSeconds: seconds,
      headers: r.headers ?? true,
      policy: `"${name}";q=${r.burst !== undefined && r.burst > limit ? r.burst : limit};w=${seconds}`,
      // Login routes fail closed (a brute force must not get through a store outage), others open.
      onStoreError:
        r.on_store_error ??
        (authPrefix !== null && r.match?.path !== undefined && r.match.path.toLowerCase().startsWith(authPrefix.toLowerCase()) ? 'deny' : 'allow'),
    }
  })
}

const storeDown = verdict('rate_limit', 503, 'DRAWBRIDGE_ERR_STORE_UNAVAILABLE', 'rate-limit store unavailable', [['retry-after', '1']])

export interface RateLimitDeps {
  readonly shared: SharedState
  /** Where decisions taken without the counter are reported (log and metric). */
  readonly storeErrors: StoreErrorReport | null
}

export function createRateLimit(rules: readonly RateLimitRule[], authPrefix: string | null, deps: RateLimitDeps): Stage | null {
  if (rules.length === 0) return null
  const compiled = compileRules(rules, authPrefix, deps.shared)
  const store = deps.shared.kind

  async function check(tx: Transaction, applicable: { rule: CompiledRule; key: string }[]): Promise<Verdict | undefined> {
    const results = await Promise.all(
      applicable.map(({ rule, key }) =>
        rule.limiter.consume(key).then(
          (res) => ({ rule, res, over: !res.allowed }),
          (err: unknown) => {
            // "Over the limit" is an answer; a rejection is the store failing. What it failed
            // with is what the log names, as for every other store decision.
            deps.storeErrors?.decision(store, `rate_limit:${rule.name}`, rule.onStoreError, tx.id, err instanceof StorageUnavailable ? (err.cause ?? err) : err)
            return { rule, res: null, over: rule.onStoreError === 'deny' }
          },
        ),
      ),
    )
    const failed = results.filter((r) => r.res === null)
    if (failed.length > 0) {
      tx.rejectReason = 'rate-limit store error'
      if (failed.some((r) => r.over)) return storeDown
    }
    const counted = results.filter((r): r is { rule: CompiledRule; res: LimiterAnswer; over: boolean } => r.res !== null)
    let worst: (typeof counted)[number] | null = null
    for (const r of counted) if (r.over && (worst === null || r.res.retryAfterMs > worst.res.retryAfterMs)) worst = r
    const shown = counted.filter((r) => r.rule.headers)
    // The field reports the rule closest to its limit (fewest remaining).
    let closest: (typeof counted)[number] | null = null
    for (const r of shown) if (closest === null || r.res.remaining < closest.res.remaining) closest = r
    const fields: [string, string][] =
      closest === null
        ? []
        : [
            ['ratelimit-policy', shown.map((r) => r.rule.policy).join(', ')],
            ['ratelimit', `"${closest.rule.name}";r=${closest.res.remaining};t=${Math.ceil(closest.res.retryAfterMs / 1000)}`],
          ]
    if (worst !== null) {
      const retry = String(Math.max(1, Math.ceil(worst.res.retryAfterMs / 1000)))
      return verdict('rate_limit', 429, 'DRAWBRIDGE_ERR_RATE_LIMITED', `over ${worst.rule.name}`, [['retry-after', retry], ...fields])
    }
    if (fields.length > 0) tx.responseFields = fields
    return undefined
  }

  return {
    id: 'rate_limit',
    requestHeaders: function rateLimit(tx: Transaction): Promise<Verdict | undefined> | undefined {
      let applicable: { rule: CompiledRule; key: string }[] | null = null
      for (let i = 0; i < compiled.length; i++) {
        const rule = compiled[i]!
        if (rule.path !== null && !rule.path(tx.canonicalPath)) continue
        if (rule.methods !== null && !rule.methods.has(tx.method)) continue
        const key = rule.key(tx)
        if (key === null) continue
        ;(applicable ??= []).push({ rule, key })
      }
      return applicable === null ? undefined : check(tx, applicable)
    },
    response(tx, headers) {
      const f = tx.responseFields
      if (f !== null) for (const [k, v] of f) headers[k] = v
    },
  }
}
