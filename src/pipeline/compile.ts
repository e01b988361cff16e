/**
 * Compiles the configuration into per-route stage arrays once, at start-up and on reload
 * (fastify compiles hooks per route the same way). Per request, only `match` runs.
 */
import type { Config, HeaderPolicy, RouteConfig } from '../config/types.js'
import type { Stage } from './types.js'
import { createHostCheck } from '../stages/host-check/index.js'
import { createRoutePolicy, isDocsPath } from '../stages/route-policy/index.js'
import { createCors } from '../stages/cors/index.js'
import { createResponseHardening } from '../stages/response-hardening/index.js'
import { label } from '../observability/metrics.js'

export interface CompiledRoute {
  readonly name: string
  /** `route="NAME"`, escaped once here for the per-request metrics. */
  readonly metricLabel: string
  /** Stages run on the request head, in order (connection, then request-header phase). */
  readonly requestStages: readonly Stage[]
  /** Stages that adjust every response, in order. */
  readonly responseStages: readonly Stage[]
  readonly maxBodyBytes: number
  readonly bodyTimeout: number
  /**
   * Whether this route's body deadline is shorter than the listener-wide one (node's
   * requestTimeout, set to the longest): only then is it enforced per request.
   */
  readonly bodyDeadlinePerRequest: boolean
  readonly responseTimeout: number
  readonly requestBuffering: boolean
}

export interface CompiledPipeline {
  readonly defaultRoute: CompiledRoute
  /** Head plus the longest body deadline of any route: node's own, coarse, per-connection check. */
  readonly requestTimeout: number
  match(canonicalPath: string, method: string): CompiledRoute
}

type PathMatcher = (canonical: string) => boolean

/** `/api` matches `/api` and `/api/...`; `*` is one segment, `**` any number of segments. */
export function compilePathMatcher(pattern: string): PathMatcher {
  const p = pattern.toLowerCase().replace(/\/+$/, '') || '/'
  if (p.indexOf('*') === -1) {
    if (p === '/') return () => true
    const withSlash = p + '/'
    return (c) => c === p || c.startsWith(withSlash)
  }
  let src = ''
  for (let i = 0; i < p.length; i++) {
    const ch = p[i]!
    if (ch === '*') {
      if (p[i + 1] === '*') {
        // '/**' also matches the bare prefix: '/files/**' matches '/files'
        if (src.endsWith('/')) src = src.slice(0, -1) + '(?:/.*)?'
        else src += '.*'
        i++
      } else {
        src += '[^/]*'
      }
    } else {
      src += ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    }
  }
  const re = new RegExp('^' + src + '$')
  return (c) => re.test(c)
}

export function compilePipeline(config: Config): CompiledPipeline {
  const hostCheck = createHostCheck(config.trusted_hosts)
  const routePolicy = createRoutePolicy({
    allowedMethods: config.limits.allowed_methods,
    docsPaths: config.docs.paths,
    docsHidden: config.docs.hidden,
    docsAllowIps: config.docs.allow_ips,
  })
  const cors = createCors(config.cors)
  const requestStages: readonly Stage[] = Object.freeze([hostCheck, routePolicy, cors])

  const longestBody = Math.max(config.limits.body_timeout, ...config.routes.map((r) => r.body_timeout ?? 0))
  const build = (name: string, route: RouteConfig | null, policy: HeaderPolicy | undefined): CompiledRoute => {
    const hardening = createResponseHardening({
      policy: {
        profile: policy?.profile ?? config.headers.profile,
        set: { ...config.headers.set, ...policy?.set },
        remove: [...(config.headers.remove ?? []), ...(policy?.remove ?? [])],
      },
      hsts: config.headers.hsts,
      cookies: config.cookies,
    })
    return Object.freeze({
      name,
      metricLabel: `route="${label(name)}"`,
      requestStages,
      responseStages: Object.freeze([hardening, cors]),
      maxBodyBytes: route?.max_body_bytes ?? config.limits.max_body_bytes,
      bodyTimeout: route?.body_timeout ?? config.limits.body_timeout,
      bodyDeadlinePerRequest: (route?.body_timeout ?? config.limits.body_timeout) < longestBody,
      responseTimeout: route?.response_timeout ?? config.upstream.response_timeout,
      requestBuffering: route?.request_buffering ?? true,
    })
  }

  const defaultRoute = build('default', null, undefined)
  const table: { path: PathMatcher; methods: ReadonlySet<string> | null; route: CompiledRoute }[] = []
  config.routes.forEach((r, i) => {
    table.push({
      path: compilePathMatcher(r.match.path),
      methods: r.match.methods ? new Set(r.match.methods) : null,
      route: build(r.name ?? `route_${i}`, r, r.headers),
    })
  })
  // Docs pages need a CSP that lets Swagger UI / ReDoc load; only relevant where they are shown.
  if (!config.docs.hidden || config.docs.allow_ips.length > 0) {
    table.push({ path: isDocsPath(config.docs.paths), methods: null, route: build('docs', null, { profile: 'docs' }) })
  }

  return {
    defaultRoute,
    requestTimeout: config.limits.header_timeout + longestBody,
    match(canonicalPath: string, method: string): CompiledRoute {
      for (let i = 0; i < table.length; i++) {
        const t = table[i]!
        if (t.path(canonicalPath) && (t.methods === null || t.methods.has(method))) return t.route
      }
      return defaultRoute
    },
  }
}
