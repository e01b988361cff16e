/** Route policies, compiled once: first match wins, then the default. */
import type { AuthConfig } from '../../config/types.js'
import { compileMethods, compilePathMatcher } from '../../net/path-matcher.js'
import { casedPath } from '../../net/canonical-path.js'

export type Requirement = { readonly kind: 'public' } | { readonly kind: 'authenticated' } | { readonly kind: 'roles'; readonly roles: ReadonlySet<string> }

/** The requirement for a request: its canonical path, method, and the path as received. */
export type PolicyMatcher = (canonicalPath: string, method: string, rawPath: string) => Requirement

export function compilePolicies(auth: AuthConfig): PolicyMatcher {
  const fallback: Requirement = { kind: auth.default_policy }
  const table = auth.policies.map((p) => {
    const requirement = (p.roles !== undefined ? { kind: 'roles', roles: new Set(p.roles) } : { kind: p.access ?? 'authenticated' }) as Requirement
    return {
      path: compilePathMatcher(p.match.path),
      // Matching without case over-matches, which is safe for a policy that asks for more, not
      // for one that opens a path: Starlette routes `/HEALTH` to `/{name}`, not to `/health`.
      // A public policy matches only the case it is written in.
      exact: requirement.kind === 'public' ? compilePathMatcher(p.match.path, true) : null,
      methods: compileMethods(p.match.methods),
      requirement,
    }
  })
  return (path, method, rawPath) => {
    let decoded: string | null | undefined
    for (let i = 0; i < table.length; i++) {
      const t = table[i]!
      if (!t.path(path) || (t.methods !== null && !t.methods.has(method))) continue
      if (t.exact !== null) {
        decoded ??= casedPath(rawPath, path)
        if (decoded === null || !t.exact(decoded)) continue
      }
      return t.requirement
    }
    return fallback
  }
}
