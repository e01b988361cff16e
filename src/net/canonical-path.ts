/**
 * The path every policy is matched against. A policy can only hold if it judges the path the app
 * will route, and apps disagree on how to read a path: Starlette and Werkzeug percent-decode
 * before routing (so `/admin%2fx` is `/admin/x`), and leave `..`, `;` and `\` as they are
 * (`/admin/../health` is served by a `/admin/{rest:path}` handler); servlet containers drop
 * `;params`; Windows servers and some routers split on `\`; Express routes on the raw path;
 * gunicorn and Werkzeug merge `//`. No single reading fits them all, so a path whose readings
 * could differ is refused instead of guessed at: dot segments in any spelling (`..`, `%2e%2e`,
 * `.%2e`, `..;`), encoded `/`, `\` and `;` anywhere, empty segments (`//`), percent-encoded
 * `%` followed by hex (decoded twice by some servers), bad percent-encoding or UTF-8, and
 * control characters (RFC 3986 §3.3 and §6.2.2; Spring Security's StrictHttpFirewall refuses
 * the same set for the same reason). What is left reads the same everywhere once
 * percent-decoded; the canonical form is that decoded path, lower-cased (over-matching a
 * restrictive policy is the safe direction), without a trailing slash. The path is forwarded
 * as received.
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

/** Percent-decodes once; null for bad escapes, invalid UTF-8, an encoded '/' or a double encoding. */
function percentDecode(path: string): string | null {
  if (path.indexOf('%') === -1) return path
  const bytes: number[] = []
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i)
    if (c === 37) {
      const hi = hexValue(path.charCodeAt(i + 1))
      const lo = hexValue(path.charCodeAt(i + 2))
      if (hi === -1 || lo === -1) return null
      const b = hi * 16 + lo
      // %2F is a segment separator to a decoding router and part of a segment to a raw one.
      if (b === 47) return null
      // %25 then hex: a second decoding (some servers do one) would make a different path.
      if (b === 37 && hexValue(path.charCodeAt(i + 3)) !== -1 && hexValue(path.charCodeAt(i + 4)) !== -1) return null
      bytes.push(b)
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

/**
 * The percent-decoded path with its case kept and no trailing slash, or null when the path is
 * refused (see above). For policies that must not match more than the app routes.
 */
export function decodedPath(path: string): string | null {
  if (!needsSlowPath(path)) return withoutTrailingSlash(path)
  const decoded = percentDecode(path)
  if (decoded === null) return null
  let segmentStart = 1
  for (let i = 1; i <= decoded.length; i++) {
    const c = i === decoded.length ? 47 : decoded.charCodeAt(i)
    if (c === 47) {
      const len = i - segmentStart
      // '//' inside the path (a trailing '/' is fine); '.' and '..' in any spelling.
      if (len === 0 && i !== decoded.length) return null
      if ((len === 1 || len === 2) && decoded.charCodeAt(segmentStart) === 46 && (len === 1 || decoded.charCodeAt(segmentStart + 1) === 46)) return null
      segmentStart = i + 1
      continue
    }
    // ';' starts path parameters for some servers only; '\' separates segments for some only.
    if (c < 32 || c === 127 || c === 59 || c === 92) return null
  }
  if (decoded.charCodeAt(0) !== 47) return null
  return withoutTrailingSlash(decoded)
}

function withoutTrailingSlash(path: string): string {
  return path.length > 1 && path.charCodeAt(path.length - 1) === 47 ? path.slice(0, -1) : path
}

/** The decoded path, lower-cased: what path policies match. Null: refuse the request (400). */
export function canonicalPath(path: string): string | null {
  // The hot path: plain lower-case ASCII needs neither decoding nor lower-casing.
  if (!needsSlowPath(path)) return withoutTrailingSlash(path)
  const d = decodedPath(path)
  return d === null ? null : d.toLowerCase()
}

/**
 * The decoded path with its case kept, from the raw path and its canonical form (which it is
 * unless the raw path has capitals, escapes or non-ASCII): for matchers that must not match more
 * than a case-sensitive app routes. Null where the raw path is refused.
 */
export function casedPath(rawPath: string, canonical: string): string | null {
  for (let i = 0; i < rawPath.length; i++) {
    const c = rawPath.charCodeAt(i)
    if (c === 37 || (c >= 65 && c <= 90) || c > 126) return decodedPath(rawPath)
  }
  return canonical
}
