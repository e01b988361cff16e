/**
 * Duplicate keys in one JSON object: `{"roles": [], "roles": ["_admin"]}`. JSON.parse
 * keeps the last value, other parsers keep the first (CouchDB's Erlang parser against its
 * JavaScript validation, CVE-2017-12635), so a gateway and an app may read different requests.
 * A key repeated with the same value is harmless (some serialisers emit that); one repeated
 * with a different value is refused.
 *
 * Cost: the common case (no duplicate) is decided by counting: the keys in the text (jumping
 * from `:` to `:`, no slicing) against the keys JSON.parse kept (counted by the walk that
 * collects the inputs); only when the counts differ does the exact scan below run, once.
 */

/**
 * At least the keys in the text: every `:` outside a string follows a key's closing quote (and
 * blanks). A `:` inside a string is skipped unless it follows an unescaped quote, which only a
 * string that starts with `:` has (an overcount: it costs the exact scan, never a miss).
 */
function countTextKeys(text: string): number {
  let keys = 0
  for (let i = text.indexOf(':'); i !== -1; i = text.indexOf(':', i + 1)) {
    let j = i - 1
    let c = text.charCodeAt(j)
    while (c === 32 || c === 10 || c === 13 || c === 9) c = text.charCodeAt(--j)
    if (c !== 34 /* " */) continue
    let backslashes = 0
    while (text.charCodeAt(j - 1 - backslashes) === 92 /* \ */) backslashes++
    if ((backslashes & 1) === 0) keys++
  }
  return keys
}

/**
 * The first key repeated with a different value in one object, or null. `text` parsed as JSON;
 * `parsedKeys` is the number of keys in its parsed objects (counted by the walk over them).
 */
export function duplicateKey(text: string, parsedKeys: number): string | null {
  if (countTextKeys(text) === parsedKeys) return null
  return exactScan(text)
}

interface Frame {
  readonly keys: Map<string, string> | null
  key: string | null
  valueStart: number
}

/**
 * Each object's keys with the raw text of their values; a repeated key whose value text differs
 * (after JSON.parse, so `1` and `1.0` differ: an app may read them apart too) is the answer.
 */
function exactScan(text: string): string | null {
  const stack: Frame[] = []
  const closeValue = (end: number): string | null => {
    const top = stack[stack.length - 1]
    if (top === undefined || top.keys === null || top.key === null) return null
    const raw = text.slice(top.valueStart, end).trim()
    const seen = top.keys.get(top.key)
    if (seen !== undefined && seen !== raw) return top.key
    top.keys.set(top.key, raw)
    top.key = null
    return null
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      let end = i + 1
      while (end < text.length && text.charCodeAt(end) !== 34) end += text.charCodeAt(end) === 92 ? 2 : 1
      const top = stack[stack.length - 1]
      let j = end + 1
      while (j < text.length && text.charCodeAt(j) <= 32) j++
      if (top !== undefined && top.keys !== null && top.key === null && text.charCodeAt(j) === 58) {
        top.key = JSON.parse(text.slice(i, end + 1)) as string
        top.valueStart = j + 1
        i = j
      } else {
        i = end
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      stack.push({ keys: c === 123 ? new Map() : null, key: null, valueStart: 0 })
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      const dup = closeValue(i)
      if (dup !== null) return dup
      stack.pop()
    } else if (c === 44 /* , */) {
      const dup = closeValue(i)
      if (dup !== null) return dup
    }
  }
  return null
}
