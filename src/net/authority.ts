/** Host names and authorities (RFC 9110 §7.2, RFC 3986 §3.2): parsing the Host header and matching trusted hosts. */
export interface HostMatcher {
  matches(host: string): boolean
}

/** Compiles `api.example.com`, `*.example.com`, IPs and `[::1]`; throws TypeError on a bad entry. */
export function compileHostMatcher(patterns: readonly string[]): HostMatcher {
  const exact = new Set<string>()
  const suffixes: string[] = []
  for (const p of patterns) {
    const lower = p.toLowerCase()
    if (lower.startsWith('*.')) {
      const rest = lower.slice(2)
      if (!isHostName(rest) || (rest.indexOf('.') === -1 && rest !== 'localhost')) {
        throw new TypeError(`invalid host pattern: ${p}`)
      }
      suffixes.push('.' + rest)
    } else if (isHostName(lower) || /^\[[0-9a-f:.]+\]$/.test(lower)) {
      exact.add(lower)
    } else {
      throw new TypeError(`invalid host name: ${p} (use names like api.example.com or *.example.com)`)
    }
  }
  return {
    matches(host: string): boolean {
      if (exact.has(host)) return true
      for (const s of suffixes) {
        if (host.length > s.length && host.endsWith(s)) return true
      }
      return false
    },
  }
}

function isHostName(s: string): boolean {
  return s.length > 0 && s.length <= 253 && /^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?)*$/.test(s)
}

/**
 * Splits `host[:port]` into a lower-case host without port; null when malformed.
 * Hand-written rather than a regex: it runs on every request.
 */
export function parseAuthority(value: string): string | null {
  if (value.length === 0 || value.length > 261) return null
  let end = value.length
  if (value.charCodeAt(0) === 91 /* [ */) {
    const close = value.indexOf(']')
    if (close === -1) return null
    if (close + 1 < value.length && !isPort(value, close + 2, value.charCodeAt(close + 1))) return null
    const v6 = value.slice(0, close + 1).toLowerCase()
    for (let i = 1; i < v6.length - 1; i++) {
      const c = v6.charCodeAt(i)
      if (!((c >= 48 && c <= 58) || (c >= 97 && c <= 102) || c === 46)) return null
    }
    return v6
  }
  const colon = value.lastIndexOf(':')
  if (colon !== -1) {
    if (!isPort(value, colon + 1, 58)) return null
    end = colon
  }
  if (end > 1 && value.charCodeAt(end - 1) === 46 /* trailing dot */) end--
  if (end === 0) return null
  let labelStart = 0
  for (let i = 0; i < end; i++) {
    const c = value.charCodeAt(i)
    if (c === 46) {
      if (i === labelStart) return null // empty label: '..example.com', '.example.com'
      labelStart = i + 1
      continue
    }
    // a label may not begin with '-' (RFC 1123 §2.1)
    if (c === 45 && i === labelStart) return null
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 95
    if (!ok) return null
  }
  return value.slice(0, end).toLowerCase()
}

function isPort(value: string, from: number, sep: number): boolean {
  if (sep !== 58 || from >= value.length || value.length - from > 5) return false
  let n = 0
  for (let i = from; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c < 48 || c > 57) return false
    n = n * 10 + (c - 48)
  }
  return n <= 65_535
}
