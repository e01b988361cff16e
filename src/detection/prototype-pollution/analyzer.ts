/**
 * Prototype pollution. A deep merge or a query parser that follows `__proto__`,
 * or `constructor` then `prototype`, writes onto Object.prototype for the whole process:
 * `a[__proto__][isAdmin]=1`, `constructor[prototype][x]=1`, JSON `{"__proto__": {...}}`. The
 * attack lives in the key, so names are judged by `analyzePrototypePollutionName`; a value
 * matters only when it carries structure (JSON or a query string written into it). A key named
 * `constructor` alone and the word "prototype" in prose pass.
 */

export type PrototypePollutionRule = 'prototype-proto' | 'prototype-constructor'

export interface PrototypePollutionFinding {
  readonly rule: PrototypePollutionRule
  readonly confidence: number
}

/** The path segments of a raw name: `a[__proto__][b]`, `a.__proto__.b`, `["__proto__"]`. */
function segments(name: string): string[] {
  return name
    .split(/[[\].]+/)
    .map((s) => s.trim().replace(/^["']|["']$/g, ''))
    .filter((s) => s !== '')
}

export function analyzePrototypePollutionName(name: string): PrototypePollutionFinding | null {
  const lower = name.toLowerCase()
  if (lower.indexOf('__proto__') === -1 && lower.indexOf('prototype') === -1) return null
  const segs = segments(name)
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!
    if (s === '__proto__') return { rule: 'prototype-proto', confidence: 0.95 }
    if (s === 'constructor' && segs[i + 1] === 'prototype') return { rule: 'prototype-constructor', confidence: 0.95 }
  }
  // `a[prototype][x]`: pollutes a class only when `constructor` was reached another way
  if (segs.length > 1 && segs.includes('prototype')) return { rule: 'prototype-constructor', confidence: 0.6 }
  // `__proto__` in an odd spelling (`__PROTO__`, `__proto__ `) that some parsers normalise
  if (lower.indexOf('__proto__') !== -1) return { rule: 'prototype-proto', confidence: 0.7 }
  return null
}

// Structure in a value: a JSON key, a bracket or dot path, or a query-string name.
const protoKey = /["']__proto__["']\s*:|__proto__\s*(?:\[|\.\s*[A-Za-z_$])|\[\s*["']?__proto__["']?\s*\]|(?:^|[?&])__proto__(?:\[|\.|=)/
const constructorPath = /constructor\s*(?:\.\s*prototype\b|\[\s*["']?prototype["']?\s*\])|["']constructor["']\s*:\s*\{\s*["']prototype["']\s*:/

export function analyzePrototypePollution(value: string): PrototypePollutionFinding | null {
  const hasProto = value.indexOf('__proto__') !== -1
  if (!hasProto && value.indexOf('prototype') === -1) return null
  if (hasProto && protoKey.test(value)) return { rule: 'prototype-proto', confidence: 0.9 }
  if (constructorPath.test(value)) {
    // `Foo.constructor.prototype` in a code snippet is JavaScript talk; a bracket path or JSON is a payload
    const structural = /\[\s*["']?prototype|["']constructor["']\s*:/.test(value)
    return { rule: 'prototype-constructor', confidence: structural ? 0.9 : 0.6 }
  }
  if (hasProto) return { rule: 'prototype-proto', confidence: 0.5 }
  return null
}
