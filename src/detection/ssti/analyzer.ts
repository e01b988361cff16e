/**
 * Server-side template injection: a value that, rendered by a template engine,
 * would compute or reach objects instead of printing text. Expressions are cut out by their
 * engine's delimiters (`{{ }}`, `{% %}`, `${ }`, `#{ }`, `*{ }`, `<%= %>`, `@( )`, `[[ ]]`...) and
 * judged by what is inside: arithmetic probes (`7*7`), Python object walks (`__class__`,
 * `__globals__`), Java reflection and EL types (`getClass()`, `T(java.lang.Runtime)`), engine
 * built-ins that run commands (`freemarker.template.utility.Execute`?new(), `{php}`,
 * `$class.inspect`), and template objects that leak configuration (`config`, `self`, `_self`).
 * A plain variable (`{{name}}`, `${amount}`, `${HOME}`) is what templates and shells are full of
 * and is left alone.
 */

export type SstiRule = 'ssti-probe' | 'ssti-object-access' | 'ssti-code-execution' | 'ssti-directive' | 'ssti-ssi'

export interface SstiFinding {
  readonly rule: SstiRule
  readonly confidence: number
}

interface Delimiter {
  readonly open: string
  readonly close: string
  // how much a bare method call inside it means: `${x.trim()}` is everyday JavaScript and Ruby
  readonly call: number
}

const delimiters: readonly Delimiter[] = [
  { open: '{{', close: '}}', call: 0.8 },
  { open: '{%', close: '%}', call: 0.8 },
  { open: '${', close: '}', call: 0.7 },
  { open: '#{', close: '}', call: 0.7 },
  { open: '*{', close: '}', call: 0.8 },
  { open: '@{', close: '}', call: 0.7 },
  { open: '~{', close: '}', call: 0.7 },
  { open: '<%', close: '%>', call: 0.85 },
  { open: '@(', close: ')', call: 0.6 },
  { open: '[[', close: ']]', call: 0.6 },
  { open: '[=', close: ']', call: 0.6 },
  { open: '{$', close: '}', call: 0.7 },
]

// Inside an expression, these reach the runtime: Python dunders, Java reflection, process and
// file access in Python, Ruby, Java, Node and PHP, and engine escape hatches.
const codeExecution = [
  '__class__',
  '__mro__',
  '__subclasses__',
  '__globals__',
  '__builtins__',
  '__import__',
  '__init__',
  '__base__',
  '__bases__',
  '__dict__',
  '__getattribute__',
  '__getitem__',
  '__reduce__',
  '_templatereference__context',
  '.mro(',
  'subclasses(',
  'getclass(',
  'forname(',
  'getclassloader',
  'getruntime',
  'processbuilder',
  'java.lang.',
  'javax.script',
  'scriptenginemanager',
  'getenginebyname',
  'newinstance(',
  't(java.',
  't(org.',
  't (java.',
  'java.io.',
  'org.apache.',
  'freemarker.template.utility',
  '?new(',
  '?api',
  'os.system',
  'os.popen',
  '.popen(',
  'subprocess',
  'popen(',
  'system(',
  'exec(',
  'eval(',
  'passthru(',
  'shell_exec',
  'file.open',
  'file.read',
  'io.popen',
  'kernel.',
  'open3',
  'require(',
  'child_process',
  'process.mainmodule',
  'process.env',
  'global.process',
  'constructor.constructor',
  "['constructor']",
  '"constructor"',
  "'constructor'",
  'registerundefinedfiltercallback',
  'getfilter(',
  '|attr(',
  '|filter(',
  "|map('system",
  'lipsum.',
  'cycler.',
  'joiner.',
  'namespace.',
  'url_for.',
  'get_flashed_messages.',
  'request.application',
  '.read()',
  'file_get_contents',
  'smarty_internal',
  'class.inspect',
  '$class',
  '.getmethod(',
  '.invoke(',
  'runtime.exec',
  'new java',
  'new org.',
  'import os',
  '_self.env',
  'self.module',
  'self.template',
  'self.context',
  'self.attr',
  'getattr(',
  "['os']",
  '["os"]',
  '.getresource',
  '.getdeclared',
  'getstatic(',
  '@java.',
  '@org.',
  'util.os',
]
// Template objects whose mere printing leaks configuration or opens the walks above.
const objects = new Set([
  'config',
  'self',
  '_self',
  'request',
  'settings',
  'app',
  'session',
  'env',
  'environ',
  'dump',
  'lipsum',
  'cycler',
  'joiner',
  'namespace',
  'url_for',
  'get_flashed_messages',
  '_context',
  'smarty',
  '$smarty',
  'pagecontext',
  'servletcontext',
  'facescontext',
  'applicationscope',
  'sessionscope',
])
// Statements that pull in templates, files or modules, or dump state.
const dangerousTags = ['import', 'include', 'extends', 'from', 'debug', 'load', 'embed', 'source', 'php']
// Ordinary template logic: as a request value still odd, but CMS and e-mail template editors send it.
const logicTags = ['for', 'if', 'set', 'with', 'macro', 'call', 'filter', 'block', 'autoescape']

const arithmetic =
  /^[-+(\s]*['"]?\d+(?:\.\d+)?['"]?\s*\)*\s*(?:\*\*?|[-+/%])\s*[-+(]*\s*['"]?\d+(?:\.\d+)?['"]?\s*\)*(?:\s*(?:\*\*?|[-+/%])\s*\(*['"]?\d+['"]?\)*)*\s*$/
const plainVariable = /^\s*[\w$]+(?:\s*(?:\.|\|)\s*[\w$]+|\[\s*(?:\d+|'[\w-]*'|"[\w-]*")\s*\])*\s*(?::-?[\w./-]*)?\s*$/
const call = /[\w$)\]'"]\s*\(/

interface Scored {
  rule: SstiRule
  confidence: number
}

function better(a: Scored | null, b: Scored | null): Scored | null {
  if (a === null) return b
  if (b === null) return a
  return b.confidence > a.confidence ? b : a
}

const maxBody = 4096

/** What one expression body would do when rendered. */
function judge(open: string, body: string, d: Delimiter): Scored | null {
  const b = body.length > maxBody ? body.slice(0, maxBody) : body
  const lower = b.toLowerCase()
  for (const k of codeExecution) if (lower.includes(k)) return { rule: 'ssti-code-execution', confidence: 0.95 }
  // backticks run a shell in Ruby and PHP; elsewhere they are markdown code spans
  if (open === '<%' && lower.includes('`')) return { rule: 'ssti-code-execution', confidence: 0.95 }
  let inner = lower.trim()
  // ERB/JSP `<%= x %>`, `<%- x %>`; Jinja/Twig statements `{% tag ... %}`
  if (open === '<%') inner = inner.replace(/^[=\-#@!]/, '').trim()
  if (open === '{%') {
    const tag = /^-?\s*(\w+)/.exec(inner)?.[1] ?? ''
    if (dangerousTags.includes(tag)) return { rule: 'ssti-directive', confidence: 0.85 }
    if (logicTags.includes(tag)) {
      // `{% for k, v in config.iteritems() %}` walks an object like `{{ config.items() }}` does
      for (const m of inner.matchAll(/(?<![\w$])[\w$]+(?=\s*[.[(|])/g)) if (objects.has(m[0])) return { rule: 'ssti-object-access', confidence: 0.85 }
      // `{% for c in [1,2,3] %}`, `{% if 7*7 == 49 %}`: logic over constants the sender chose is
      // a probe for what renders it; a template's own logic reads its variables
      if (constantProbe(tag, inner)) return { rule: 'ssti-probe', confidence: 0.85 }
      return { rule: 'ssti-directive', confidence: 0.6 }
    }
    inner = inner
      .replace(/^-?\s*\w+/, '')
      .replace(/-$/, '')
      .trim()
  }
  if (inner.length === 0) return null
  if (inner.length <= 80 && arithmetic.test(inner)) return { rule: 'ssti-probe', confidence: 0.9 }
  if (open === '{{' && inner.startsWith('#with')) return { rule: 'ssti-directive', confidence: 0.7 }
  // the first name in the expression: `config.items()`, `self`, `app.request.server.all`
  const headMatch = /^[\s(]*([\w$]+)\s*(.?)/.exec(inner)
  const head = headMatch?.[1]
  // `{{config}}` prints it; `${env:X}` is a Log4j or shell lookup, not a walk into `env`
  const walks = headMatch !== null && (headMatch[2] === '' ? open !== '${' && open !== '#{' : '.[|('.includes(headMatch[2]!))
  if (head !== undefined && objects.has(head) && walks) return { rule: 'ssti-object-access', confidence: 0.85 }
  if (open === '{$' && head === undefined) return null
  if (plainVariable.test(inner)) return null
  if (call.test(inner)) return { rule: 'ssti-object-access', confidence: d.call }
  // anything else printed by ERB/JSP tags is Ruby or Java being run; `<% if x %>` is plain logic
  if (open === '<%') return { rule: 'ssti-probe', confidence: /^\s*=/.test(lower) ? 0.8 : 0.6 }
  return null
}

const literalWords = new Set(['and', 'or', 'not', 'in', 'is', 'true', 'false', 'none', 'null'])

/**
 * Whether a logic statement's expression is made of constants only (numbers, quoted strings,
 * list brackets, operators) with a number or an operator among them: `[1,2,3]`, `7*7 == 49`,
 * `1`. The loop or assignment target (`c in`, `x =`) is set aside first. `{% set title = "Hi" %}`
 * (a string alone) and anything naming a variable are ordinary template logic.
 */
function constantProbe(tag: string, statement: string): boolean {
  let expr = statement
    .replace(/^-?\s*\w+/, '')
    .replace(/-$/, '')
    .trim()
  if (expr.length === 0 || expr.length > 200) return false
  if (tag === 'for') {
    const m = /^[\w\s,()]*?\bin\b/.exec(expr)
    if (m === null) return false
    expr = expr.slice(m[0].length)
  } else if (tag === 'set' || tag === 'with') {
    const eq = expr.indexOf('=')
    if (eq === -1 || expr[eq + 1] === '=') return false
    expr = expr.slice(eq + 1)
  } else if (tag !== 'if') {
    return false
  }
  let signal = false
  for (let i = 0; i < expr.length;) {
    const c = expr[i]!
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ',' || c === '[' || c === ']' || c === '(' || c === ')') {
      i++
    } else if (c >= '0' && c <= '9') {
      while (i < expr.length && ((expr[i]! >= '0' && expr[i]! <= '9') || expr[i] === '.')) i++
      signal = true
    } else if (c === '"' || c === "'") {
      const close = expr.indexOf(c, i + 1)
      if (close === -1) return false
      i = close + 1
    } else if ('+-*/%~<>=!'.includes(c)) {
      i++
      signal = true
    } else if ((c >= 'a' && c <= 'z') || c === '_') {
      let j = i
      while (j < expr.length && ((expr[j]! >= 'a' && expr[j]! <= 'z') || expr[j] === '_')) j++
      if (!literalWords.has(expr.slice(i, j))) return false
      i = j
    } else {
      return false
    }
  }
  return signal
}

// Engine syntax that needs no expression delimiters to be dangerous.
const directives: readonly [string, SstiRule, number][] = [
  ['freemarker.template.utility', 'ssti-code-execution', 0.95],
  ['?new(', 'ssti-code-execution', 0.95],
  ['$class.inspect', 'ssti-code-execution', 0.95],
  ['{php}', 'ssti-code-execution', 0.95],
  ['{/php}', 'ssti-code-execution', 0.95],
  ['{system(', 'ssti-code-execution', 0.95],
  ['{if system(', 'ssti-code-execution', 0.95],
  ['{smarty_internal', 'ssti-code-execution', 0.95],
  ['{$smarty.', 'ssti-object-access', 0.9],
  ['<#assign', 'ssti-directive', 0.85],
  ['[#assign', 'ssti-directive', 0.85],
  ['<#include', 'ssti-directive', 0.85],
  ['<#import', 'ssti-directive', 0.85],
  ['#set($', 'ssti-directive', 0.85],
  ['#set ($', 'ssti-directive', 0.85],
  ['#evaluate(', 'ssti-directive', 0.85],
  ['#foreach($', 'ssti-directive', 0.7],
  ['__${', 'ssti-code-execution', 0.9],
]

export function analyzeSsti(raw: string): SstiFinding | null {
  try {
    return analyze(raw)
  } catch {
    return null
  }
}

// Server-side includes (Apache mod_include, nginx ssi, IIS): `<!--#exec cmd="id" -->` runs a
// command, `#include` reads a file, `#echo`/`#printenv` print the server's variables.
const ssi = /<!--\s*#\s*(exec|include|echo|printenv|config|set|fsize|flastmod|if|elif)\b/

// Every delimiter needs one of `{ < [ @`; the directives without one are listed after them.
const mayHold = /[{<[@?]|#\s*(?:set|evaluate|foreach)|\$class|freemarker/i

function analyze(value: string): SstiFinding | null {
  if (!mayHold.test(value)) return null
  const lower = value.toLowerCase()
  let best: Scored | null = null
  if (lower.indexOf('<!--') !== -1) {
    const m = ssi.exec(lower)
    if (m !== null) best = { rule: 'ssti-ssi', confidence: m[1] === 'exec' || m[1] === 'include' ? 0.95 : 0.85 }
  }
  for (const [needle, rule, confidence] of directives) {
    if (lower.includes(needle)) best = better(best, { rule, confidence })
  }
  for (const d of delimiters) {
    let from = 0
    // the next close after the current open; only ever moves forward, so scanning stays linear
    // even for a value made of thousands of opens and no close
    let close = -2
    while (from < value.length) {
      const at = value.indexOf(d.open, from)
      if (at === -1) break
      const bodyStart = at + d.open.length
      if (close !== -1 && close < bodyStart) close = value.indexOf(d.close, bodyStart)
      // `@(` only counts at a word boundary: `user@(work)` is not Razor
      if (d.open === '@(' && at > 0 && /\w/.test(value[at - 1]!)) {
        from = bodyStart
        continue
      }
      // an unclosed expression is judged on what follows, up to a bound (truncated payloads)
      const end = close === -1 ? Math.min(value.length, bodyStart + maxBody) : close
      const body = value.slice(bodyStart, Math.min(end, bodyStart + maxBody))
      let scored = judge(d.open, body, d)
      if (scored !== null && close === -1)
        scored = { rule: scored.rule, confidence: Math.min(scored.confidence, scored.rule === 'ssti-code-execution' ? 0.9 : 0.7) }
      best = better(best, scored)
      if (best !== null && best.confidence >= 0.95) return best
      from = close === -1 ? value.length : close + d.close.length
    }
  }
  return best
}
