/**
 * The path every policy is matched against. Upstreams decode and normalise paths before routing
 * (Starlette decodes %XX, Windows servers treat '\' as '/', Java servers drop ';params'), so a
 * policy matched on the raw path is bypassed by `/%64ocs` or `/api/../docs`. We match on a
 * canonical form instead: ';params' dropped (from the raw segments, as servlets do, and again
 * once decoded), percent-decoded once, '\' as '/', empty and '.' segments removed, '..' resolved,
 * lower-cased, no trailing slash. The raw path is what is
 * forwarded. Returns null for a path that cannot be legitimate: bad percent-encoding, NUL or
 * control characters, or '..' climbing above the root.
 */

const decoder = new TextDecoder('utf-8', { fatal: true })

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 65 && c <= 70) return c - 55
  if (c >= 97 && c <= 102) return c - 87
  return -1
}

function needsSlowPath(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i)
    // % . ; \ and anything outside printable ASCII, or an upper-case letter, or '//'
    if (c === 37 || c === 46 || c === 59 || c === 92 || c < 33 || c > 126 || (c >= 65 && c <= 90)) return true
    if (c === 47 && path.charCodeAt(i + 1) === 47) return true
  }
  return false
}

function percentDecode(path: string): string | null {
  if (path.indexOf('%') === -1) return path
  const bytes: number[] = []
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i)
    if (c === 37) {
      const hi = hexValue(path.charCodeAt(i + 1))
      const lo = hexValue(path.charCodeAt(i + 2))
      if (hi === -1 || lo === -1) return null
      bytes.push(hi * 16 + lo)
      i += 2
    } else if (c < 128) {
      bytes.push(c)
    } else {
      for (const b of Buffer.from(path[i]!, 'utf8')) bytes.push(b)
    }
  }
  try {
    return decoder.decode(Uint8Array.from(bytes))
  } catch {
    return null
  }
}

export function canonicalPath(path: string): string | null {
  if (!needsSlowPath(path)) {
    return path.length > 1 && path.charCodeAt(path.length - 1) === 47 ? path.slice(0, -1) : path
  }
  // Servlet containers drop ';params' from each raw segment before decoding (/docs;%2fx is
  // /docs there); strip them here first too, then again after decoding for the other readings.
  const decoded = percentDecode(path.indexOf(';') === -1 ? path : path.replace(/;[^/]*/g, ''))
  if (decoded === null) return null
  const out: string[] = []
  for (const raw of decoded.replaceAll('\\', '/').split('/')) {
    const semi = raw.indexOf(';')
    const seg = semi === -1 ? raw : raw.slice(0, semi)
    if (seg === '' || seg === '.') continue
    if (seg === '..') {
      if (out.length === 0) return null
      out.pop()
      continue
    }
    for (let i = 0; i < seg.length; i++) {
      const c = seg.charCodeAt(i)
      if (c < 32 || c === 127) return null
    }
    out.push(seg.toLowerCase())
  }
  return '/' + out.join('/')
}
