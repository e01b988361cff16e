/**
 * Route policy: the method allowlist (405, RFC 9110 §15.5.6 with Allow) and the API docs that
 * the checklists say to hide in production (/docs, /redoc, /openapi.json): 404 at the edge
 * unless the mode is development or the client IP is allowed. Matched on the canonical path.
 */
import type { Stage, Verdict } from '../../pipeline/types.js'
import { verdict } from '../../pipeline/types.js'
import type { Transaction } from '../../pipeline/transaction.js'
import { compileIpMatcher } from '../../net/address.js'

export interface RoutePolicyOptions {
  readonly allowedMethods: readonly string[]
  readonly docsPaths: readonly string[]
  readonly docsHidden: boolean
  readonly docsAllowIps: readonly string[]
}

export function createRoutePolicy(options: RoutePolicyOptions): Stage {
  const methods = new Set(options.allowedMethods)
  const methodNotAllowed = verdict('route_policy', 405, 'DRAWBRIDGE_ERR_METHOD_NOT_ALLOWED', 'method not allowed', [
    ['allow', options.allowedMethods.join(', ')],
  ])
  const docsHidden = verdict('route_policy', 404, 'DRAWBRIDGE_ERR_NOT_FOUND', 'docs hidden')
  const isDocs = isDocsPath(options.docsPaths)
  const allowIps = compileIpMatcher(options.docsAllowIps)
  const hide = options.docsHidden && options.docsPaths.length > 0

  return {
    id: 'route_policy',
    requestHeaders: function routePolicy(tx: Transaction): Verdict | undefined {
      // tx.method is the method a honoured override names (listener/http.ts): refused the same way.
      if (!methods.has(tx.method)) return methodNotAllowed
      if (hide && isDocs(tx.canonicalPath) && !allowIps.matches(tx.clientIp)) return docsHidden
      return undefined
    },
  }
}

/** Whether a canonical path is one of the docs paths (hiding them, and picking the docs header profile). */
export function isDocsPath(docsPaths: readonly string[]): (canonical: string) => boolean {
  const docs = new Set(docsPaths.map((p) => p.toLowerCase().replace(/\/+$/, '') || '/'))
  return (canonical) => docs.has(canonical)
}
