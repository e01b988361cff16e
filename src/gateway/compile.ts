/**
 * Compiles the configuration into per-route stage arrays once, at start-up and on reload
 * (fastify compiles hooks per route the same way). Per request, only `match` runs.
 * The only module that imports every stage.
 */
import type { Config, HeaderPolicy, RouteConfig } from '../config/types.js'
import type { CompiledPipeline, Route, Stage, Terminal } from '../pipeline/types.js'
import { createHostCheck } from '../stages/host-check/index.js'
import { createRoutePolicy, isDocsPath } from '../stages/route-policy/index.js'
import { createCors } from '../stages/cors/index.js'
import { createResponseHardening } from '../stages/response-hardening/index.js'
import { createWaf } from '../stages/waf/index.js'
import { createAuthStage } from '../stages/auth/index.js'
import { createAuthEndpoints } from '../stages/auth/endpoints.js'
import { createCsrfStage } from '../stages/csrf/index.js'
import { createRateLimit } from '../stages/rate-limit/index.js'
import type { Identity } from '../identity/index.js'
import { createSharedState } from '../storage/shared-state.js'
import type { SharedState } from '../storage/types.js'
import type { StoreErrorReport } from '../observability/store-errors.js'
import { createBanStage, type Bans } from '../stages/bans/index.js'
import { compileOriginMatcher } from '../net/origin.js'
import { label } from '../observability/metrics.js'
import { compileMethods, compilePathMatcher, type PathMatcher } from '../net/path-matcher.js'
import { casedPath } from '../net/canonical-path.js'
import { compileUpstreamHeaderFilter } from '../upstream/response-headers.js'

/** What outlives a reload (opened once per process); each defaults to "none" / a memory state. */
export interface PipelineDeps {
  readonly identity?: Identity | null
  readonly shared?: SharedState
  readonly bans?: Bans | null
  readonly storeErrors?: StoreErrorReport | null
  /** Where requests that pass go: the upstream's forwarder (see upstream/forward.ts); default: none (compiled to be checked). */
  readonly forward?: Terminal
}

export function compilePipeline(config: Config, deps: PipelineDeps = {}): CompiledPipeline {
  const identity = deps.identity ?? null
  const forward = deps.forward ?? notServing
  const shared = deps.shared ?? createSharedState({ ...config, storage: { ...config.storage, redis: null } })
  const hostCheck = createHostCheck(config.trusted_hosts)
  const routePolicy = createRoutePolicy({
    allowedMethods: config.limits.allowed_methods,
    docsPaths: config.docs.paths,
    docsHidden: config.docs.hidden,
    docsAllowIps: config.docs.allow_ips,
  })
  const cors = createCors(config.cors)
  // A banned client is refused before anything else runs for it.
  const baseStages: readonly Stage[] = deps.bans == null ? [hostCheck, routePolicy, cors] : [createBanStage(deps.bans), hostCheck, routePolicy, cors]
  // Identity: who the caller is, then CSRF for cookie sessions, before the WAF.
  const allowedOrigins = compileOriginMatcher(config.cors?.allow_origins ?? [])
  const identityStages: Stage[] =
    identity !== null && config.auth !== null
      ? [
          createAuthStage({ identity, auth: config.auth, loginPath: `${config.auth.prefix}/login` }),
          ...(config.auth.csrf.enabled ? [createCsrfStage(identity, allowedOrigins)] : []),
        ]
      : []
  // Rate limits after auth, so that rules keyed by user or API key see the caller.
  const rateLimit = createRateLimit(config.rate_limits, config.auth?.prefix ?? null, { shared, storeErrors: deps.storeErrors ?? null })
  const limited: Stage[] = rateLimit === null ? [] : [rateLimit]
  const headStages: readonly Stage[] = [...baseStages, ...identityStages, ...limited]

  const longestBody = Math.max(config.limits.body_timeout, ...config.routes.map((r) => r.body_timeout ?? 0))
  const build = (
    name: string,
    route: RouteConfig | null,
    policy: HeaderPolicy | undefined,
    head: readonly Stage[] = headStages,
    local: Terminal | null = null,
  ): Route => {
    const hardening = createResponseHardening({
      policy: {
        profile: policy?.profile ?? config.headers.profile,
        set: { ...config.headers.set, ...policy?.set },
        remove: [...(config.headers.remove ?? []), ...(policy?.remove ?? [])],
      },
      hsts: config.headers.hsts,
      cookies: config.cookies,
    })
    // The auth endpoints are not WAF-inspected (passwords may look like anything; the
    // endpoints parse their few fields strictly themselves).
    const waf = local === null ? createWaf(config, route) : null
    const adjusting = rateLimit === null ? [hardening, cors] : [hardening, cors, rateLimit]
    return routeOf(
      name,
      { head: waf === null ? head : [...head, waf], adjusting },
      {
        maxBodyBytes: local !== null ? authBodyBytes : (route?.max_body_bytes ?? config.limits.max_body_bytes),
        bodyTimeout: route?.body_timeout ?? config.limits.body_timeout,
        bodyDeadlinePerRequest: (route?.body_timeout ?? config.limits.body_timeout) < longestBody,
        responseTimeout: route?.response_timeout ?? config.upstream.response_timeout,
        requestBuffering: route?.request_buffering ?? true,
        bufferBody: local !== null,
        terminal: local ?? forward,
        local: local !== null,
      },
    )
  }

  const defaultRoute = build('default', null, undefined)
  // exact: the pattern as written against the decoded path, for routes that loosen a protection
  const table: { path: PathMatcher; exact: PathMatcher | null; methods: ReadonlySet<string> | null; route: Route }[] = []
  if (identity !== null && config.auth !== null) {
    // The auth endpoints: answered here, never forwarded.
    const endpoints = createAuthEndpoints({ identity, allowedOrigins })
    const auth = build('auth', null, undefined, [...baseStages, ...limited], endpoints)
    const jwks = compilePathMatcher('/.well-known/jwks.json')
    table.push(
      { path: compilePathMatcher(config.auth.prefix), exact: null, methods: null, route: auth },
      { path: jwks, exact: null, methods: null, route: auth },
    )
  }
  config.routes.forEach((r, i) => {
    table.push({
      path: compilePathMatcher(r.match.path),
      exact: loosens(config, r) ? compilePathMatcher(r.match.path, true) : null,
      methods: compileMethods(r.match.methods),
      route: build(r.name ?? `route_${i}`, r, r.headers),
    })
  })
  // Docs pages need a CSP that lets Swagger UI / ReDoc load; only relevant where they are shown.
  if (!config.docs.hidden || config.docs.allow_ips.length > 0) {
    table.push({ path: isDocsPath(config.docs.paths), exact: null, methods: null, route: build('docs', null, { profile: 'docs' }) })
  }

  return {
    defaultRoute,
    requestTimeout: config.limits.header_timeout + longestBody,
    match(canonicalPath: string, method: string, rawPath: string): Route {
      let cased: string | null | undefined
      for (let i = 0; i < table.length; i++) {
        const t = table[i]!
        if (!t.path(canonicalPath) || (t.methods !== null && !t.methods.has(method))) continue
        if (t.exact !== null) {
          cased ??= casedPath(rawPath, canonicalPath)
          if (cased === null || !t.exact(cased)) continue
        }
        return t.route
      }
      return defaultRoute
    },
  }
}

/** The auth endpoints take small JSON or form bodies only. */
const authBodyBytes = 16_384

type RouteLimits = Pick<
  Route,
  'maxBodyBytes' | 'bodyTimeout' | 'bodyDeadlinePerRequest' | 'responseTimeout' | 'requestBuffering' | 'bufferBody' | 'terminal' | 'local'
>

/**
 * A route from its stages in order: `head`, the stages that judge the request, and `adjusting`,
 * those that adjust its responses. Each phase runs the stages that have its step, in order.
 */
export function routeOf(name: string, stages: { readonly head: readonly Stage[]; readonly adjusting: readonly Stage[] }, limits: RouteLimits): Route {
  const { head, adjusting } = stages
  const connection = head.filter((s) => s.connection !== undefined)
  const headers = head.filter((s) => s.requestHeaders !== undefined)
  const body = head.filter((s) => s.requestBody !== undefined)
  const response = adjusting.filter((s) => s.response !== undefined)
  const all = [...new Set([...head, ...adjusting])]
  return Object.freeze({
    name,
    metricLabel: `route="${label(name)}"`,
    statusLabels: [],
    connectionStages: Object.freeze(connection),
    headerStages: Object.freeze(headers),
    bodyStages: Object.freeze(body),
    responseStages: Object.freeze(response),
    loggingStages: Object.freeze(all.filter((s) => s.logging !== undefined)),
    order: Object.freeze({
      connection: connection.map((s) => s.id),
      requestHeaders: headers.map((s) => s.id),
      requestBody: body.map((s) => s.id),
      response: response.map((s) => s.id),
    }),
    upstreamHeaders: compileUpstreamHeaderFilter(adjusting),
    ...limits,
  })
}

/**
 * Whether a route weakens something the defaults enforce. Such a route matches only the case it
 * is written in: matching without case over-matches, which is safe for a route that tightens
 * (Express routes `/UPLOAD` to `/upload`) but not for one that loosens (Starlette and Flask route
 * `/UPLOAD` elsewhere, so the WAF would be off for another handler).
 */
function loosens(config: Config, r: RouteConfig): boolean {
  const w = r.waf
  if (w !== undefined) {
    if (w.enabled === false || (w.mode === 'detect' && config.waf.mode !== 'detect')) return true
    if (w.paranoia !== undefined && w.paranoia < config.waf.paranoia) return true
    if (w.inspect_body === false && config.waf.inspect_body) return true
  }
  if (r.max_body_bytes !== undefined && r.max_body_bytes > config.limits.max_body_bytes) return true
  if (r.body_timeout !== undefined && r.body_timeout > config.limits.body_timeout) return true
  if (r.response_timeout !== undefined && r.response_timeout > config.upstream.response_timeout) return true
  if (r.request_buffering === false) return true
  // Response headers: a profile or removal may drop protections (a looser CSP for docs).
  return r.headers !== undefined
}

/** Proves that every stage can be built from a configuration, without an upstream (`drawbridge validate`). */
export function checkPipeline(config: Config): void {
  compilePipeline(config)
}

function notServing(): Promise<void> {
  return Promise.reject(new Error('compiled only to be checked'))
}
