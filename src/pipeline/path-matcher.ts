/** Route path patterns, matched against the canonical path (see canonical-path.ts). */

export type PathMatcher = (canonical: string) => boolean

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
