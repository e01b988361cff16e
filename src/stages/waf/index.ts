/**
 * The `waf` stage: the request head (path, query, headers, cookies) is inspected before any
 * body byte is read; the body, where inspection is on, is buffered by the pipeline up to the
 * route's limit and inspected (the requestBody step) before any of it is forwarded.
 * A block is 403 `{"error":"blocked"}` with the request id: the client never learns which rule
 * fired; the finding goes to the security events (the logging phase).
 */
import type { Config, RouteConfig, WafExclusion } from '../../config/types.js'
import type { BodyWant, Stage, Verdict } from '../../pipeline/types.js'
import { verdict } from '../../pipeline/types.js'
import type { Transaction } from '../../pipeline/transaction.js'
import { compilePathMatcher } from '../../net/path-matcher.js'
import { casedPath } from '../../net/canonical-path.js'
import { createEngine, type Engine, type ExclusionTest, type Finding } from '../../detection/engine.js'
import type { Category } from '../../detection/analyzers.js'
import type { InputLocation } from '../../detection/types.js'
import { InputCollector, addCookies, addHeaders, addPath, addUrlEncoded, type InputLimits, type LimitHit } from './inputs.js'
import { addBody, badContentType, bodyKind, mayBeJson } from './body.js'

const blocked = verdict('waf', 403, 'DRAWBRIDGE_ERR_BLOCKED', 'attack')
const overLimit = verdict('waf', 403, 'DRAWBRIDGE_ERR_BLOCKED', 'inspection limit')
const malformed = verdict('waf', 400, 'DRAWBRIDGE_ERR_MALFORMED_BODY', 'malformed body')
const badType = verdict('waf', 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'bad content-type')
const badCharset = verdict('waf', 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'unsupported charset')

interface CompiledExclusion {
  readonly path: ((canonical: string) => boolean) | null
  readonly methods: ReadonlySet<string> | null
  readonly location: InputLocation | null
  readonly name: ((name: string) => boolean) | null
  readonly rules: ReadonlySet<string>
}

function compileName(pattern: string): (name: string) => boolean {
  if (pattern.indexOf('*') === -1) return (n) => n === pattern
  const re = new RegExp(
    '^' +
      pattern
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
  )
  return (n) => re.test(n)
}

function compileExclusions(list: readonly WafExclusion[]): CompiledExclusion[] {
  return list.map((e) => ({
    // An exclusion loosens the WAF: it matches only the case it is written in (a case-sensitive
    // app routes `/Search` to another handler than `/search`).
    path: e.path === undefined ? null : compilePathMatcher(e.path, true),
    methods: e.methods === undefined ? null : new Set(e.methods),
    location: e.location ?? null,
    name: e.name === undefined ? null : compileName(e.name),
    rules: new Set(e.rules),
  }))
}

function exclusionTest(list: readonly CompiledExclusion[], tx: Transaction): ExclusionTest | null {
  let cased: string | null | undefined
  const pathMatches = (m: (path: string) => boolean): boolean => {
    cased ??= casedPath(tx.path, tx.canonicalPath)
    return cased !== null && m(cased)
  }
  const applicable = list.filter((e) => (e.path === null || pathMatches(e.path)) && (e.methods === null || e.methods.has(tx.method)))
  if (applicable.length === 0) return null
  return (location: InputLocation, name: string, rule: string, category: Category) => {
    for (const e of applicable) {
      if (e.location !== null && e.location !== location) continue
      if (e.name !== null && !e.name(name)) continue
      if (e.rules.has('*') || e.rules.has(rule) || e.rules.has(category)) return true
    }
    return false
  }
}

/** The WAF for one route, or null where it is off. */
export function createWaf(config: Config, route: RouteConfig | null): Stage | null {
  const w = config.waf
  const enabled = route?.waf?.enabled ?? w.enabled
  if (!enabled) return null
  const mode = route?.waf?.mode ?? w.mode
  const paranoia = route?.waf?.paranoia ?? w.paranoia
  const inspectBody = route?.waf?.inspect_body ?? w.inspect_body
  const engine: Engine = createEngine({ paranoia, threshold: w.threshold })
  const limits: InputLimits = { maxInputs: w.limits.max_inputs, maxBytes: w.limits.max_bytes, maxDepth: w.limits.max_depth }
  const blockOnLimit = w.limits.on_exceed === 'block'
  const exclusions = compileExclusions(w.exclusions)
  const stopAtFirst = mode === 'block'

  /** Records the outcome on the transaction; a verdict when the request must stop. */
  function judge(tx: Transaction, c: InputCollector, phase: InputLocation): Verdict | undefined {
    const exclude = exclusions.length === 0 ? null : exclusionTest(exclusions, tx)
    let result = engine.inspect(c.inputs, exclude, stopAtFirst)
    if (c.duplicateKey !== null) {
      const f = duplicateFinding(c.duplicateKey)
      if (exclude === null || !exclude(f.location, f.name, f.rule, f.category))
        result = { findings: [f, ...result.findings], score: Math.max(f.confidence, result.score) }
    }
    if (c.hit !== null) {
      const finding = limitFinding(c.hit, phase)
      note(tx, [finding], 1)
      if (blockOnLimit) {
        tx.wafBlocked = true
        return overLimit
      }
    }
    if (result.findings.length === 0) return undefined
    note(tx, result.findings, result.score)
    if (mode === 'block') {
      tx.wafBlocked = true
      return blocked
    }
    return undefined
  }

  /** A body that was judged without being parsed passes only as an attack found (and blocked or logged). */
  function judgeBody(tx: Transaction, c: InputCollector): Verdict | undefined {
    const v = judge(tx, c, 'body')
    return v === undefined && c.unparsed ? malformed : v
  }

  return {
    id: 'waf',
    requestHeaders(tx: Transaction): Verdict | undefined {
      // A body whose declared type we cannot classify as the app will is refused before it is
      // read (body.ts): odd bytes in Content-Type, or a charset we do not read alike.
      const contentType = tx.req.headers['content-type']
      if (inspectBody && contentType !== undefined && bodyKind(contentType) === 'refused') return badContentType(contentType) ? badType : badCharset
      const c = new InputCollector(limits)
      addPath(c, tx.path)
      addUrlEncoded(c, 'query', tx.query)
      addHeaders(c, tx.req.headers)
      addCookies(c, tx.req.headers.cookie)
      return judge(tx, c, 'header')
    },
    /**
     * Every body is inspected but one of a binary type, which is inspected only if its first
     * bytes may be JSON (mayBeJson): apps that parse JSON whatever the type says would read one.
     */
    wantsBody(tx: Transaction): BodyWant {
      if (!inspectBody) return 'none'
      return bodyKind(tx.req.headers['content-type']) === 'binary' ? 'first-chunk' : 'whole'
    },
    bodyAfterFirstChunk(_tx: Transaction, chunk: Buffer): boolean {
      return mayBeJson(chunk)
    },
    /** A promise only for multipart bodies (read by busboy); every other kind is judged now. */
    requestBody(tx: Transaction, body: Buffer): Verdict | undefined | Promise<Verdict | undefined> {
      const c = new InputCollector(limits)
      const contentType = tx.req.headers['content-type']
      const ok = addBody(c, bodyKind(contentType), contentType, body)
      if (ok === true) return judgeBody(tx, c)
      if (ok === false) return malformed
      return ok.then((parsed) => (parsed ? judgeBody(tx, c) : malformed))
    },
  }
}

function limitFinding(hit: LimitHit, location: InputLocation): Finding {
  return { category: 'limits', rule: `waf-limit-${hit}`, confidence: 1, location, name: '', part: 'value', matched: '', transforms: [] }
}

// Two parsers, two readings of one body (json-duplicates.ts): refused at every paranoia level.
function duplicateFinding(key: string): Finding {
  return {
    category: 'parser-differential',
    rule: 'json-duplicate-key',
    confidence: 0.9,
    location: 'body',
    name: key,
    part: 'name',
    matched: key,
    transforms: [],
  }
}

function note(tx: Transaction, findings: readonly Finding[], score: number): void {
  tx.wafFindings = tx.wafFindings === null ? [...findings] : [...tx.wafFindings, ...findings]
  if (score > tx.wafScore) tx.wafScore = score
}
