/** Route policies (issue 4), compiled once: first match wins, then the default. */
import type { AuthConfig } from '../../config/types.js'
import { compilePathMatcher } from '../../pipeline/path-matcher.js'

export type Requirement = { readonly kind: 'public' } | { readonly kind: 'authenticated' } | { readonly kind: 'roles'; readonly roles: ReadonlySet<string> }

export type PolicyMatcher = (canonicalPath: string, method: string) => Requirement

export function compilePolicies(auth: AuthConfig): PolicyMatcher {
  const fallback: Requirement = { kind: auth.default_policy }
  const table = auth.policies.map((p) => ({
    path: compilePathMatcher(p.match.path),
    methods: p.match.methods ? new Set(p.match.methods) : null,
    requirement: (p.roles !== undefined ? { kind: 'roles', roles: new Set(p.roles) } : { kind: p.access ?? 'authenticated' }) as Requirement,
  }))
  return (path, method) => {
    for (let i = 0; i < table.length; i++) {
      const t = table[i]!
      if (t.path(path) && (t.methods === null || t.methods.has(method))) return t.requirement
    }
    return fallback
  }
}
