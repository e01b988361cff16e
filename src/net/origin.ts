/** Origin allowlists (RFC 6454 origins): exact origins, `https://*.example.com[:port]` and `*`. */
export interface OriginMatcher {
  readonly any: boolean
  matches(origin: string): boolean
}

interface OriginPattern {
  readonly prefix: string // 'https://'
  readonly suffix: string // '.example.com' or '.example.com:8443'
}

/** Normalises a configured origin; throws TypeError with the reason. */
function normalizeOrigin(value: string): string {
  if (value === 'null') throw new TypeError('"null" is sent by sandboxed frames and file: pages; never allow it')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new TypeError(`not an origin: ${value}`)
  }
  if (url.origin === 'null' || url.username !== '' || url.password !== '') throw new TypeError(`not an origin: ${value}`)
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || /\/.+/.test(value.split('://')[1] ?? '')) {
    throw new TypeError(`an origin has no path: ${value}`)
  }
  return url.origin
}

/** Compiles exact origins, `https://*.example.com[:port]` patterns and `*`. */
export function compileOriginMatcher(origins: readonly string[]): OriginMatcher {
  const exact = new Set<string>()
  const patterns: OriginPattern[] = []
  let any = false
  for (const o of origins) {
    if (o === '*') {
      any = true
      continue
    }
    const star = o.indexOf('://*.')
    if (star !== -1) {
      const prefix = o.slice(0, star + 3).toLowerCase()
      // validate the rest by substituting a label for the wildcard
      const sample = normalizeOrigin(prefix + 'x.' + o.slice(star + 5))
      patterns.push({ prefix, suffix: sample.slice(prefix.length + 1) })
      if (o.indexOf('*', star + 4) !== -1) throw new TypeError(`only one leading wildcard label is allowed: ${o}`)
      continue
    }
    if (o.indexOf('*') !== -1) throw new TypeError(`wildcards must be a whole leading label (https://*.example.com): ${o}`)
    exact.add(normalizeOrigin(o))
  }
  return {
    any,
    matches(origin: string): boolean {
      if (any) return true
      const lower = origin.toLowerCase()
      if (exact.has(lower)) return true
      for (const p of patterns) {
        if (lower.length <= p.prefix.length + p.suffix.length) continue
        if (!lower.startsWith(p.prefix) || !lower.endsWith(p.suffix)) continue
        const label = lower.slice(p.prefix.length, lower.length - p.suffix.length)
        if (isLabels(label)) return true
      }
      return false
    },
  }
}

/** One or more DNS labels: letters, digits, '-' and inner dots only (no ':' or '@' tricks). */
function isLabels(s: string): boolean {
  if (s.charCodeAt(0) === 46 || s.charCodeAt(s.length - 1) === 46) return false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const ok = (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || (c === 46 && s.charCodeAt(i + 1) !== 46)
    if (!ok) return false
  }
  return true
}
