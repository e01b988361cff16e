/**
 * CORS at the edge (Fetch standard, "CORS protocol"). Preflights are answered here and never
 * forwarded; an origin outside the allowlist gets no CORS headers at all (and 403 on preflight).
 * Upstream Access-Control-* headers are dropped so the edge policy is the only one.
 */
import type { ResponseHeaders, Stage, Verdict } from '../../pipeline/types.js'
import { verdict } from '../../pipeline/types.js'
import type { Transaction } from '../../pipeline/transaction.js'
import type { Config } from '../../config/types.js'
import { compileOriginMatcher } from '../../net/origin.js'

/** The `cors` settings of the configuration. */
export type CorsOptions = NonNullable<Config['cors']>

const forbiddenPreflight = verdict('cors', 403, 'DRAWBRIDGE_ERR_CORS_REJECTED', 'preflight rejected')

export function createCors(options: CorsOptions | null): Stage {
  if (options === null) {
    // No CORS configured: same-origin only. Preflights get 403 and upstream CORS headers are dropped.
    return {
      id: 'cors',
      requestHeaders: function corsOff(tx: Transaction): Verdict | undefined {
        return isPreflight(tx) ? forbiddenPreflight : undefined
      },
      dropsUpstreamHeaders: upstreamCors,
    }
  }
  const origins = compileOriginMatcher(options.allow_origins)
  const methods = new Set(options.allow_methods.map((m) => m.toUpperCase()))
  const headers = new Set(options.allow_headers.map((h) => h.toLowerCase()))
  const allowMethods = options.allow_methods.join(', ')
  const exposeHeaders = options.expose_headers.join(', ')
  const credentials = options.allow_credentials
  const maxAge = String(options.max_age)
  // With '*' and no credentials the response does not depend on the origin.
  const wildcard = origins.any && !credentials

  return {
    id: 'cors',
    requestHeaders: function cors(tx: Transaction): Verdict | undefined {
      if (!isPreflight(tx)) return undefined
      const origin = tx.req.headers.origin!
      if (!origins.matches(origin)) return forbiddenPreflight
      const method = String(tx.req.headers['access-control-request-method']).trim()
      if (!methods.has(method) && method !== 'GET' && method !== 'HEAD' && method !== 'POST') return forbiddenPreflight
      const requested = tx.req.headers['access-control-request-headers']
      let allowHeaders = ''
      if (typeof requested === 'string' && requested.trim() !== '') {
        const names = requested.split(',')
        for (let i = 0; i < names.length; i++) {
          const n = names[i]!.trim().toLowerCase()
          if (n !== '' && !headers.has(n)) return forbiddenPreflight
        }
        allowHeaders = requested
      }
      const out: [string, string][] = [
        ['access-control-allow-origin', wildcard ? '*' : origin],
        ['access-control-allow-methods', allowMethods],
        ['access-control-max-age', maxAge],
        ['vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers'],
      ]
      if (allowHeaders !== '') out.push(['access-control-allow-headers', allowHeaders])
      if (credentials) out.push(['access-control-allow-credentials', 'true'])
      return verdict('cors', 204, null, 'preflight answered', out)
    },
    dropsUpstreamHeaders: upstreamCors,
    response: function corsHeaders(tx: Transaction, h: ResponseHeaders): void {
      if (!wildcard) h['vary'] = appendVary(h['vary'], 'Origin')
      if (tx.verdict !== null && tx.verdict.stage === 'cors') return // a refused preflight gets no CORS headers
      const origin = tx.req.headers.origin
      if (origin === undefined || !origins.matches(origin)) return
      h['access-control-allow-origin'] = wildcard ? '*' : origin
      if (credentials) h['access-control-allow-credentials'] = 'true'
      if (exposeHeaders !== '') h['access-control-expose-headers'] = exposeHeaders
    },
  }
}

function isPreflight(tx: Transaction): boolean {
  return tx.method === 'OPTIONS' && tx.req.headers.origin !== undefined && tx.req.headers['access-control-request-method'] !== undefined
}

/** The upstream's own CORS answer never passes: the edge's policy is the only one. */
const upstreamCors = { names: [], prefixes: ['access-control-'] }

function appendVary(current: ResponseHeaders[string], value: string): string {
  if (current === undefined || current === '') return value
  const s = Array.isArray(current) ? current.join(', ') : String(current)
  if (s.split(',').some((v) => v.trim().toLowerCase() === value.toLowerCase() || v.trim() === '*')) return s
  return s + ', ' + value
}
