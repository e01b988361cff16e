/**
 * Java code injection and unsafe deserialization: what a payload must contain to reach a
 * process or new code, whatever wraps it (OGNL, EL, a JSP written through Spring4Shell, XStream
 * or Jackson types, a serialized stream).
 * - a serialized object stream: its magic bytes raw, in hex or at the start of base64;
 * - `Runtime.getRuntime().exec(...)` / `new ProcessBuilder(...)`: blocked when fed by the request
 *   (`request.getParameter`), reached by reflection (`Class.forName("java.lang.Runtime")`,
 *   `getMethod("exec")`) or by a script engine; on its own (a snippet in a ticket) it is only
 *   suspicious;
 * - gadget classes of deserialization chains (commons-collections transformers, `TemplatesImpl`,
 *   `JdbcRowSetImpl`) next to a process class;
 * - `class.module.classLoader...` / `class.classLoader...` bean paths (Spring4Shell, Struts).
 */
import type { CodeFinding } from './types.js'
import { javaClassToken } from './java-token.js'

// Commons-collections, xalan, rowset and other classes whose only use in a request is a chain.
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
  'badattributevalueexpexception',
  'lazymap',
  'transformedmap',
  'transformingcomparator',
  'xmldecoder',
  'eventhandler',
  'beancomparator',
  'mozilla.javascript',
  'groovy.util.expando',
  'methodclosure',
  'convertedclosure',
  'classpathxmlapplicationcontext',
]
const processClasses = ['runtime', 'processbuilder', 'processimpl', 'unixprocess']
// built once: these run on every value with a trigger character
const qualifiedProcessClasses = processClasses.map((p) => 'java.lang.' + p)
const dottedGadgets = gadgets.map((g) => '.' + g)
// What feeds an exec from the request, or reaches it indirectly.
const requestSources = ['request.getparameter', 'getparameter(', 'getheader(', 'getquerystring(', 'getinputstream(', 'request.get']
const reflection = ['forname(', 'getmethod(', 'getdeclaredmethod(', 'getconstructor(', 'getdeclaredconstructor(', '.invoke(', 'newinstance(', 'getclass()']

const isWord = (c: number) => (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95
/** `word` in `lower` as a whole identifier (not inside `runtimeconfig` or `myruntime`). */
function hasWord(lower: string, word: string): boolean {
  for (let at = lower.indexOf(word); at !== -1; at = lower.indexOf(word, at + 1)) {
    if ((at === 0 || !isWord(lower.charCodeAt(at - 1))) && !isWord(lower.charCodeAt(at + word.length))) return true
  }
  return false
}

const base64Char = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 45 || c === 95

/** A Java serialization stream header (0xACED0005), raw, hex or base64. */
function serialized(text: string): number {
  // raw bytes read as Latin-1 (the NUL may have been dropped by decoding)
  if (text.indexOf('\u00ac\u00ed\u0000\u0005') !== -1 || text.indexOf('\u00ac\u00ed\u0005') !== -1) return 0.9
  // base64 of a stream starts `rO0ABX` (the magic, then a TC_ type code 0x70-0x7e), at the start
  // of a base64 run: random tokens would need six exact characters there
  for (let at = text.indexOf('rO0ABX'); at !== -1; at = text.indexOf('rO0ABX', at + 1)) {
    if (at === 0 || !base64Char(text.charCodeAt(at - 1))) return 0.9
  }
  const lower = text.toLowerCase()
  for (let at = lower.indexOf('aced00057'); at !== -1; at = lower.indexOf('aced00057', at + 1)) {
    if (at === 0 || !/[0-9a-f]/.test(lower[at - 1]!) || lower.startsWith('0x', at - 2)) return 0.9
  }
  return 0
}

/** Whether `at` lies inside an expression opened by `%{`, `${` or `#{` (OGNL, EL, Spring). */
function inExpression(lower: string, at: number): boolean {
  if (at <= 0) return false
  const open = lower.lastIndexOf('{', at)
  if (open < 1 || '%$#'.indexOf(lower[open - 1]!) === -1) return false
  return lower.lastIndexOf('}', at) < open
}

export function analyzeJava(text: string): CodeFinding | null {
  const magic = serialized(text)
  if (magic > 0) return { rule: 'java-deserialization', confidence: magic }
  const lower = text.toLowerCase()
  if (lower.indexOf('classloader') !== -1 && /\bclass\.(?:module\.)?classloader\./.test(lower)) {
    return { rule: 'java-class-loader', confidence: 0.85 }
  }
  const process = processClasses.some((p, i) => hasWord(lower, p) || lower.includes(qualifiedProcessClasses[i]!))
  const gadget = gadgets.some((g, i) => hasWord(lower, g) || lower.includes(dottedGadgets[i]!))
  if (gadget && process) return { rule: 'java-gadget', confidence: 0.9 }
  const exec = lower.indexOf('getruntime') !== -1 && lower.indexOf('exec(') !== -1
  const builder = lower.indexOf('processbuilder') !== -1 && (lower.indexOf('.start(') !== -1 || lower.indexOf('new processbuilder(') !== -1)
  const engine = lower.indexOf('scriptengine') !== -1 && lower.indexOf('eval(') !== -1
  if (exec || builder || engine) {
    if (requestSources.some((r) => lower.includes(r))) return { rule: 'java-process-execution', confidence: 0.95 }
    if (reflection.some((r) => lower.includes(r))) return { rule: 'java-reflection', confidence: 0.9 }
    // OGNL `@java.lang.Runtime@getRuntime()`, EL `T(java.lang.Runtime)`, `%{...}`, `${...}`
    if (/@java\.lang\.runtime@|t\s*\(\s*java\.lang\./.test(lower) || inExpression(lower, lower.indexOf('getruntime')))
      return { rule: 'java-process-execution', confidence: 0.9 }
    return { rule: 'java-process-execution', confidence: 0.75 }
  }
  // reflection that names a process class: `Class.forName("java.lang.Runtime")`, `getMethod("exec")`
  if (
    process &&
    reflection.some((r) => lower.includes(r)) &&
    /forname\s*\(\s*["']java\.lang\.(?:runtime|processbuilder)|getmethod\s*\(\s*["'](?:exec|getruntime|start)["']/.test(lower)
  ) {
    return { rule: 'java-reflection', confidence: 0.9 }
  }
  // a chain class as a token (`...functors.ChainedTransformer`) rather than named in a sentence
  if (gadget) return { rule: 'java-gadget', confidence: !/\s/.test(text) && specificGadgets.some((g) => lower.includes(g)) ? 0.85 : 0.7 }
  return javaClassToken(text)
}

// Chain classes with no other use and no English reading (unlike `EventHandler`, `LazyMap`)
const specificGadgets = [
  'invokertransformer',
  'instantiatetransformer',
  'chainedtransformer',
  'clonetransformer',
  'instantiatefactory',
  'prototypeclonefactory',
  'prototypeserializationfactory',
  'forclosure',
  'whileclosure',
  'templatesimpl',
  'jdbcrowsetimpl',
  'annotationinvocationhandler',
  'badattributevalueexpexception',
  'transformingcomparator',
]

/** `class.module.classLoader.resources...` (Spring4Shell), `class.classLoader...` (Struts 1). */
export function analyzeJavaName(name: string): CodeFinding | null {
  const named = javaClassToken(name)
  if (named !== null) return named
  if (name.length < 16) return null
  const lower = name.toLowerCase()
  if (lower.indexOf('classloader') === -1) return null
  return /(?:^|[.[])class(?:\.module)?(?:\.|\[["']?)classloader\b/.test(lower) ? { rule: 'java-class-loader', confidence: 0.95 } : null
}
