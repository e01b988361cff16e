/** Route path patterns, matched against the canonical path (see canonical-path.ts). */

export type PathMatcher = (canonical: string) => boolean

/**
 * `/api` matches `/api` and `/api/...`; `*` is one segment, `**` any number of segments.
 * Case-insensitive against the canonical path by default; `caseSensitive` compares the pattern
 * as written against the decoded path (see decodedPath in canonical-path.ts).
 */
export function compilePathMatcher(pattern: string, caseSensitive = false): PathMatcher {
  const p = (caseSensitive ? pattern : pattern.toLowerCase()).replace(/\/+$/, '') || '/'
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

/**
 * The methods a `methods` list covers: HEAD is GET without the body (RFC 9110 §9.3.2) and
 * frameworks run the GET handler for it, so a list naming GET covers HEAD too.
 */
export function compileMethods(methods: readonly string[] | undefined): ReadonlySet<string> | null {
  if (methods === undefined) return null
  const set = new Set(methods.map((m) => m.toUpperCase()))
  if (set.has('GET')) set.add('HEAD')
  return set
}
