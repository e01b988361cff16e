/**
 * A value that is one Java token a deserializer or expression language resolves:
 * - a class of the JDK's dangerous packages (`java.lang.Runtime`, `javax.script.ScriptEngineManager`),
 *   a type for a polymorphic deserializer (Jackson `@class`, XStream, fastjson `@type`);
 * - a dotted chain that names a process class under `java.` or next to a deserialization gadget
 *   (`java.Runtime`, `runtime.InvokerTransformer`);
 * - the same names in base64 (CRS 944300), at any of the three byte alignments a name takes
 *   inside a longer stream: the value is then only the encoded name, which no form field holds.
 * These values carry no trigger character (`java.lang.Runtime` is letters and dots): the
 * analyzer below runs on every reading and leaves at once unless the reading is one token.
 * Prose that mentions a class (`NPE in java.lang.String`) is not one token and stays clean.
 */
import type { CodeFinding } from './types.js'

// Commons-collections and JDK chain classes with no other use (the names java.ts scores too).
const gadgets = [
  'invokertransformer',
  'instantiatetransformer',
  'chainedtransformer',
  'constanttransformer',
  'clonetransformer',
  'instantiatefactory',
  'prototypeclonefactory',
  'prototypeserializationfactory',
  'forclosure',
  'whileclosure',
  'templatesimpl',
  'jdbcrowsetimpl',
  'annotationinvocationhandler',
  'transformingcomparator',
]
const processClasses = ['runtime', 'processbuilder']

// Packages a request has no reason to name a class of: process, files, streams, naming,
// scripting, CORBA, xwork's OGNL context (Struts), commons-collections, xalan, groovy.
const dangerousClass =
  /^(?:(?:java\.(?:lang|io|nio|net|rmi|beans|util\.zip)|javax\.(?:script|naming|management|el)|sun|com\.sun|jdk|org\.omg|org\.apache\.(?:commons\.collections|xalan|bcel)|org\.codehaus\.groovy)(?:\.[A-Za-z_$][\w$]*)+|com\.opensymphony\.xwork2(?:\.[A-Za-z_$][\w$]*)*)$/
const dottedChain = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/

/** A dotted class name or chain that is the whole token. */
export function javaClassToken(text: string): CodeFinding | null {
  if (text.length > 200 || text.indexOf('.') === -1) return null
  const t = text.trim()
  if (!dottedChain.test(t)) return null
  const parts = t.toLowerCase().split('.')
  if (parts.some((p) => gadgets.includes(p))) return { rule: 'java-gadget', confidence: 0.85 }
  if (dangerousClass.test(t)) return { rule: 'java-class-name', confidence: 0.8 }
  // `java.Runtime`, `java.evil.ProcessBuilder`: a process class that ends a chain under java.
  // (`java.runtime.version` is a system property: the class is not last there)
  if ((parts[0] === 'java' || parts[0] === 'javax') && processClasses.includes(parts[parts.length - 1]!)) return { rule: 'java-class-name', confidence: 0.85 }
  return null
}

// The names in the case attackers and CRS write them, base64-encoded at byte offsets 0, 1 and 2,
// keeping only the characters that the name's bytes alone decide (CRS 944300 does the same).
const base64Names = [...gadgets, ...processClasses, 'Runtime', 'ProcessBuilder', 'InvokerTransformer', 'ChainedTransformer', 'TemplatesImpl']

function fragments(name: string): string[] {
  const out: string[] = []
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.from('\0'.repeat(offset) + name, 'latin1').toString('base64')
    const bits = 8 * (offset + name.length)
    out.push(encoded.slice(Math.ceil((8 * offset) / 6), Math.floor(bits / 6)))
  }
  return out
}

// Built once. One alternation of literals: irregexp scans a short token once for all of them.
const base64Name = new RegExp(
  base64Names
    .flatMap(fragments)
    .map((f) => f.replaceAll('+', '\\+'))
    .join('|'),
)
// The stream header: a stream in base64 starts `rO0AB`; a header cut out of a run where the
// stream starts at byte 1 or 2 reads `KztAA` or `Cs7QA` (CRS 944210), alone in the token.
const base64Magic = /^(?:rO0AB|(?:KztAA|Cs7QA)[A-Za-z0-9+/]{0,2}={0,2}$)/

/**
 * Whether a short base64-looking token is a Java process or gadget class name, or a
 * serialization header, in base64. Also what keeps such a token from being judged plain, so it
 * runs on every plain value of 6 to 66 characters: one pass decides most of them (every name
 * and header above holds at least two capitals; ids, words and hex digests mostly do not).
 */
export function javaBase64Token(value: string): boolean {
  const n = value.length
  if (n < 6 || n > 66) return false
  let upper = 0
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i)
    if (c >= 65 && c <= 90) upper++
    else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || (c === 61 && i >= n - 2))) return false
  }
  if (upper < 2) return false
  if (base64Magic.test(value)) return true
  const m = base64Name.exec(value)
  // the name must be (nearly) the whole token: a long blob is judged on its decoded text
  return m !== null && value.length - m[0].length <= 6
}

export function analyzeJavaToken(text: string): CodeFinding | null {
  // runs on every reading: prose (a space inside) and long values leave at once
  const n = text.length
  if (n < 6 || n > 200 || (text.indexOf(' ', 1) !== -1 && text.trim().indexOf(' ') !== -1)) return null
  if (text.indexOf('.') !== -1) return javaClassToken(text)
  return javaBase64Token(text) ? { rule: 'java-deserialization', confidence: 0.85 } : null
}
