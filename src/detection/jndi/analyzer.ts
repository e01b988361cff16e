/**
 * Log4Shell and other Log4j lookup abuse: a value that Log4j 2 would interpolate
 * when logging it. Instead of matching the endless spellings (`${${lower:j}ndi:...}`,
 * `${${::-j}${::-n}${::-d}${::-i}:...}`, `${j${k8s:k5:-ND}i:...}`), the lookup syntax is resolved the
 * way Log4j's StrSubstitutor does it: innermost `${...}` first, then `name:-default` splits,
 * then the prefix (case-insensitive) picks the lookup; `lower`, `upper` and `date` return text,
 * unknown lookups fall back to their default. Whatever resolves to a `jndi:` lookup is the attack.
 * One pass with a stack, nesting bounded, so the work is linear in the input.
 */

export type JndiRule = 'jndi-lookup' | 'jndi-unclosed' | 'log4j-info-lookup' | 'log4j-case-lookup' | 'log4j-obfuscation'

export interface JndiFinding {
  readonly rule: JndiRule
  readonly confidence: number
}

// Real payloads nest a handful of levels; beyond this `${` is kept as text.
const maxDepth = 64

// Lookups that read the environment: on their own they leak nothing unless the log is readable,
// but inside a JNDI or DNS name they carry secrets out.
const infoLookups = new Set([
  'env',
  'sys',
  'java',
  'main',
  'ctx',
  'bundle',
  'docker',
  'k8s',
  'kubernetes',
  'spring',
  'web',
  'log4j',
  'map',
  'sd',
  'event',
  'marker',
  'jvmrunargs',
  'hostname',
  'base64',
  'script',
])
const jndiProtocols = /^\s*(?:ldaps?|ldapi|rmi|dns|iiop|iiopname|corba|corbaname|corbaloc|nds|nis|https?):/i
const secretName = /secret|passw|token|key|credential|aws_|auth/i

interface Resolution {
  readonly text: string
  readonly jndi: string[]
  readonly info: string[]
  cases: number
  /** Lookups with no name that only yield their default, a character or two: `${::-j}`. */
  spelled: number
}

function evaluate(inner: string, r: Resolution): string {
  const dflt = inner.indexOf(':-')
  const name = dflt === -1 ? inner : inner.slice(0, dflt)
  const fallback = dflt === -1 ? null : inner.slice(dflt + 2)
  const colon = name.indexOf(':')
  const prefix = colon === -1 ? '' : name.slice(0, colon).trim().toLowerCase()
  const key = colon === -1 ? name : name.slice(colon + 1)
  switch (prefix) {
    case 'jndi':
      r.jndi.push(key)
      return ''
    case 'lower':
      r.cases++
      return key.toLowerCase().slice(0, key.length + 8)
    case 'upper':
      r.cases++
      return key.toUpperCase().slice(0, key.length + 8)
    case 'date': {
      // SimpleDateFormat: quoted text is printed as is (`${date:'j'}` is "j")
      r.cases++
      let out = ''
      let quoted = false
      for (const c of key) {
        if (c === "'") quoted = !quoted
        else if (quoted) out += c
      }
      return out
    }
    default:
      if (infoLookups.has(prefix)) {
        r.info.push(name)
        return fallback ?? ''
      }
      // `${::-j}`, `${:-n}`: nothing to look up, a letter as the default: written only to spell
      // a word no filter may see
      if (fallback !== null && fallback.length <= 2 && /^[\s:]*$/.test(name)) r.spelled++
      // unknown lookup or plain property: Log4j uses the default, else leaves the text alone
      return fallback ?? '${' + inner + '}'
  }
}

/** Resolve Log4j lookups in `value`: the text Log4j would log, and the lookups it would run. */
export function resolveLookups(value: string): Resolution {
  const r: Resolution = { text: '', jndi: [], info: [], cases: 0, spelled: 0 }
  const stack: string[] = ['']
  let run = 0
  // Each lookup re-reads what its children produced, so deep nesting costs depth x length; a
  // budget proportional to the input keeps the whole resolution linear. Once it is spent,
  // lookups are left as text (the `${jndi:` text check below still sees them).
  let budget = 4 * value.length + 65_536
  const flush = (to: number) => {
    if (to > run) stack[stack.length - 1] += value.slice(run, to)
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c === 36 && value.charCodeAt(i + 1) === 123 && stack.length <= maxDepth) {
      flush(i)
      stack.push('')
      i++
      run = i + 1
    } else if (c === 125 && stack.length > 1) {
      flush(i)
      const inner = stack.pop()!
      budget -= inner.length
      stack[stack.length - 1] += budget >= 0 ? evaluate(inner, r) : '${' + inner + '}'
      run = i + 1
    }
  }
  flush(value.length)
  // unclosed lookups stay as text
  while (stack.length > 1) {
    const inner = stack.pop()!
    stack[stack.length - 1] += '${' + inner
  }
  return { ...r, text: stack[0]! }
}

export function analyzeJndi(raw: string): JndiFinding | null {
  if (raw.indexOf('${') === -1) return null
  try {
    return analyze(raw)
  } catch {
    return null
  }
}

function analyze(value: string): JndiFinding | null {
  const r = resolveLookups(value)
  if (r.jndi.length > 0) {
    const known = r.jndi.some((k) => jndiProtocols.test(k))
    return { rule: 'jndi-lookup', confidence: known ? 0.98 : 0.9 }
  }
  // `${jndi:ldap://x` cut short (header length limits, truncated logs): no use outside an attack
  if (r.text.toLowerCase().includes('${jndi:')) return { rule: 'jndi-unclosed', confidence: 0.85 }
  // three letters or more spelled one lookup each (`${${::-j}${::-n}${::-d}${::-i}:…` cut short or mangled)
  if (r.spelled >= 3) return { rule: 'log4j-obfuscation', confidence: 0.85 }
  if (r.info.length > 0) {
    // `${env:X}` is also the syntax of Serverless, Spring and shell configs: suspicious only
    const sensitive = r.info.some((n) => secretName.test(n)) || r.cases > 0
    return { rule: 'log4j-info-lookup', confidence: sensitive ? 0.7 : 0.6 }
  }
  if (r.cases > 0) return { rule: 'log4j-case-lookup', confidence: 0.6 }
  return null
}
