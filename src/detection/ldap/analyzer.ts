/**
 * LDAP filter injection (RFC 4515 syntax). A value pasted into a filter such as
 * `(&(uid=VALUE)(pw=…))` escapes it by closing the assertion and opening another: `*)(uid=*))(|(uid=*`,
 * `admin*)((|userPassword=*)`, `*)(&`, `)(cn=*`, often with a NUL to cut off the rest of the
 * filter. What counts is a close-then-open of parentheses, a filter composition `(|(`/`(&(` or an
 * attribute assertion; a bare `*` (a search wildcard), "John (Jr.)" and `(a=b)` in maths stay low.
 */

export type LdapRule = 'ldap-breakout' | 'ldap-composition' | 'ldap-wildcard'

export interface LdapFinding {
  readonly rule: LdapRule
  readonly confidence: number
}

// Matched against the value with whitespace removed: servers differ on spaces around parentheses,
// and patterns without `\s*` runs cannot backtrack on a long run of blanks.
// An attribute description (RFC 4512 descr or OID, with options) followed by a filter-type operator.
const attr = '[A-Za-z][\\w.;-]{0,63}[~<>:]?='

// `)(uid=`, `)((|userPassword=`, `)(cn=`: the value closed one assertion and wrote the next.
const closeOpen = new RegExp(`\\)\\({1,3}[|&!]?\\(?${attr}`)
// `*)(&`, `*)(|`, `)(|(`: the value closed the assertion and opened a composition.
const closeCompose = /\)\([|&!](?:\(|$)/
// `(|(mail=*))`, `(&(objectClass=*)`: a filter composition written into a value.
const compose = new RegExp(`\\([|&!]\\(${attr}`)
// `*))` closes two levels after a wildcard; `*()|&'` probes for filter syntax errors.
const wildcardClose = /\*\)\)/
const wildcardProbe = /\*\(\)[|&]/
// NUL in any spelling the reading may still carry: truncates the filter in C-based servers.
const nul = /%00|\\x00|\\u0000|\\0|\u0000/
// `(uid=*)`: a presence assertion.
const presence = new RegExp(`\\(${attr}\\*\\)`)
const simple = new RegExp(`^\\(${attr}[^()]{0,200}\\)$`)

export function analyzeLdap(raw: string): LdapFinding | null {
  if (raw.indexOf('(') === -1 && raw.indexOf(')') === -1) return null
  const value = raw.replace(/\s+/g, '')
  if (value.indexOf(')') !== -1) {
    if (closeOpen.test(value)) return { rule: 'ldap-breakout', confidence: 0.95 }
    if (closeCompose.test(value)) return { rule: 'ldap-breakout', confidence: 0.9 }
    if (compose.test(value)) return { rule: 'ldap-composition', confidence: 0.9 }
    if (wildcardClose.test(value)) return { rule: 'ldap-breakout', confidence: nul.test(value) ? 0.9 : 0.85 }
    if (wildcardProbe.test(value)) return { rule: 'ldap-wildcard', confidence: 0.85 }
  }
  if (compose.test(value)) return { rule: 'ldap-composition', confidence: 0.9 }
  if (presence.test(value)) return { rule: 'ldap-wildcard', confidence: 0.8 }
  // `(a=b)` alone is a filter or a formula: suspicious only
  if (simple.test(value)) return { rule: 'ldap-composition', confidence: 0.5 }
  return null
}
