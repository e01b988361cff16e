/**
 * The WAF stage judging efficacy cases in-process, as the gateway would (head check, then the
 * body check where the WAF would buffer the body), without sockets: what `efficacy:quick`,
 * fp-report.js and the rule attribution of `npm run efficacy` use. The numbers track the gateway
 * run closely but not exactly: no HTTP parser in front, so bytes a server would refuse are
 * judged here.
 */
import { loadConfig } from '../../src/config/load.js'
import type { WafMode } from '../../src/config/types.js'
import { createEngine, type Engine, type Finding, type Paranoia } from '../../src/detection/engine.js'
import { canonicalPath } from '../../src/net/canonical-path.js'
import type { Transaction } from '../../src/pipeline/transaction.js'
import { createWaf } from '../../src/stages/waf/index.js'
import type { EfficacyCase } from './corpora.js'
import type { Verdict } from './judge.js'

/** The verdicts an in-process judgement can reach (nothing is sent, so nothing errs or goes unsent) */
export type Outcome = Extract<Verdict, 'blocked' | 'refused' | 'passed'>

export interface Judgement {
  readonly outcome: Outcome
  /** What the WAF recorded: in block mode, the finding that stopped the request */
  readonly findings: readonly Finding[]
}

export type InProcessJudge = (c: EfficacyCase) => Promise<Judgement>

/** `detect` mode records every finding (up to the engine's cap) and never blocks. */
export function createInProcessJudge(paranoia: Paranoia, mode: WafMode = 'block'): InProcessJudge {
  const config = loadConfig({ object: { upstream: 'http://127.0.0.1:9', storage: { memory: true }, waf: { paranoia, mode } } })
  const waf = createWaf(config, null)
  if (waf === null) throw new Error('the WAF is off in the default configuration')
  return async (c) => {
    const url = c.request.path
    const qi = url.indexOf('?')
    const path = qi === -1 ? url : url.slice(0, qi)
    const canonical = canonicalPath(path)
    if (canonical === null) return { outcome: 'refused', findings: [] }
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(c.request.headers)) headers[k.toLowerCase()] = v
    // Only what the WAF stage reads from a transaction
    const tx = {
      path,
      query: qi === -1 ? '' : url.slice(qi + 1),
      canonicalPath: canonical,
      method: c.request.method,
      req: { headers },
      wafFindings: null,
      wafScore: 0,
      wafBlocked: false,
    } as unknown as Transaction
    let v = await waf.requestHeaders!(tx)
    const body = c.request.body
    if (v === undefined && body !== undefined && body !== '' && waf.wantsBody!(tx) === 'whole') v = await waf.requestBody!(tx, Buffer.from(body, 'utf8'))
    return { outcome: v === undefined ? 'passed' : v.status === 403 ? 'blocked' : 'refused', findings: tx.wafFindings ?? [] }
  }
}

// ---------------------------------------------------------------- per-family false positives

export interface FamilyRow {
  readonly family: string
  requests: number
  blocked: number
  refused: number
  /** rule id -> requests it stopped (the first finding of each) */
  readonly rules: Map<string, number>
  /** rule id -> the first request it stopped, and its finding */
  readonly examples: Map<string, { readonly id: string; readonly finding: Finding | null; readonly formEncoded: boolean }>
}

export function newFamilyRow(family: string): FamilyRow {
  return { family, requests: 0, blocked: 0, refused: 0, rules: new Map(), examples: new Map() }
}

/** Whether the engine read an input of this request form-encoded (`+` as a space). */
export function formEncodedAt(c: EfficacyCase, location: string): boolean {
  if (location === 'query') return true
  return location === 'body' && /^application\/x-www-form-urlencoded/i.test(c.request.headers['content-type'] ?? '')
}

const engines = new Map<Paranoia, Engine>()

/**
 * The shortest stretch of a finding's value that still makes the same rule fire on its own (the
 * engine has no match offsets): cut from the start, then from the end, halving the step. The
 * value itself when the finding is on a name or the rule needs more than one input.
 */
export function narrowMatch(f: Finding, formEncoded: boolean, paranoia: Paranoia): { start: number; end: number } {
  const value = f.matched
  let engine = engines.get(paranoia)
  if (engine === undefined) engines.set(paranoia, (engine = createEngine({ paranoia })))
  const e = engine
  const fires = (s: string) =>
    e.inspect([{ location: f.location, name: f.name, value: s, formEncoded }], null, false).findings.some((x) => x.rule === f.rule && x.part === 'value')
  if (f.part !== 'value' || !fires(value)) return { start: 0, end: value.length }
  let start = 0
  let end = value.length
  for (let step = Math.floor(value.length / 2); step >= 1; step = Math.floor(step / 2))
    while (end - (start + step) > 0 && fires(value.slice(start + step, end))) start += step
  for (let step = Math.floor((end - start) / 2); step >= 1; step = Math.floor(step / 2))
    while (end - step - start > 0 && fires(value.slice(start, end - step))) end -= step
  return { start, end }
}

/** A finding as one line: rule, where, and the matched stretch with some context, cut to `max`. */
export function describeFinding(f: Finding, opts: { formEncoded: boolean; paranoia: Paranoia; max?: number; context?: number }): string {
  const max = opts.max ?? 160
  const ctx = opts.context ?? 30
  const { start, end } = narrowMatch(f, opts.formEncoded, opts.paranoia)
  const v = f.matched
  let shown =
    (start > ctx ? '…' : '') +
    v.slice(Math.max(0, start - ctx), start) +
    '[[' +
    v.slice(start, end) +
    ']]' +
    v.slice(end, end + ctx) +
    (end + ctx < v.length ? '…' : '')
  shown = shown.replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\t/g, '\\t')
  if (shown.length > max) shown = shown.slice(0, max) + '…'
  const where = `${f.location}${f.name === '' ? '' : ':' + f.name}${f.part === 'name' ? ' (name)' : ''}${f.transforms.length > 0 ? ' [' + f.transforms.join(',') + ']' : ''}`
  return `${f.rule} (${f.confidence}) at ${where}: ${shown}`
}

/**
 * Adds a verdict to its family. The rule credited with a stop is the first finding's (a request
 * stopped without one was refused by the WAF's own checks: a bad Content-Type, a malformed body).
 * An error (no answer from the app, none from the proxy: gateway runs only) counts as refused.
 */
export function addToFamily(row: FamilyRow, c: EfficacyCase, stopped: 'blocked' | 'refused' | 'error' | null, finding: Finding | null): void {
  row.requests++
  if (stopped === null) return
  if (stopped === 'blocked') row.blocked++
  else row.refused++
  const rule = finding?.rule ?? (stopped === 'error' ? '(error)' : `(${stopped}, no finding)`)
  row.rules.set(rule, (row.rules.get(rule) ?? 0) + 1)
  if (!row.examples.has(rule)) row.examples.set(rule, { id: c.id, finding, formEncoded: finding === null ? false : formEncodedAt(c, finding.location) })
}

/** One request a rule stopped in a family, described (see describeFinding). */
export function exampleOf(row: FamilyRow, rule: string, paranoia: Paranoia, max = 140): string {
  const e = row.examples.get(rule)
  if (e === undefined) return ''
  return e.finding === null ? e.id : `${e.id}: ${describeFinding(e.finding, { formEncoded: e.formEncoded, paranoia, max })}`
}

const pctOf = (n: number, d: number) => (d === 0 ? '-' : `${((100 * n) / d).toFixed(2)}%`)

export function topRules(row: FamilyRow, n: number): Array<[string, number]> {
  return [...row.rules].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n)
}

/**
 * The per-family table: requests, blocked, blocked %, refused, and the rules that stopped the
 * most (rule id x count); the totals of the corpus and of the synthetic set; then the corpus's
 * top rules, each with one request it stopped.
 */
export function printFamilies(
  rows: readonly FamilyRow[],
  opts: { title: string; paranoia: Paranoia; topN?: number; topOverall?: number; syntheticPrefix?: string },
): { corpus: FamilyRow; synthetic: FamilyRow } {
  const topN = opts.topN ?? 3
  const prefix = opts.syntheticPrefix ?? 'synthetic-'
  console.log(`\n== ${opts.title} ==`)
  console.log(
    'family'.padEnd(26) + 'requests'.padStart(9) + 'blocked'.padStart(9) + 'blocked %'.padStart(11) + 'refused'.padStart(9) + '  top rules (requests stopped)',
  )
  const total = { corpus: newFamilyRow('corpus (total)'), synthetic: newFamilyRow('synthetic (total)') }
  const line = (r: FamilyRow, n: number) =>
    r.family.padEnd(26) +
    String(r.requests).padStart(9) +
    String(r.blocked).padStart(9) +
    pctOf(r.blocked, r.requests).padStart(11) +
    String(r.refused).padStart(9) +
    '  ' +
    topRules(r, n)
      .map(([k, c]) => `${k} ${c}`)
      .join(', ')
  for (const r of rows) {
    console.log(line(r, topN))
    const t = r.family.startsWith(prefix) ? total.synthetic : total.corpus
    t.requests += r.requests
    t.blocked += r.blocked
    t.refused += r.refused
    for (const [k, n] of r.rules) t.rules.set(k, (t.rules.get(k) ?? 0) + n)
    for (const [k, e] of r.examples) if (!t.examples.has(k)) t.examples.set(k, e)
  }
  for (const t of [total.corpus, total.synthetic]) if (t.requests > 0) console.log(line(t, topN + 2))
  const top = topRules(total.corpus, opts.topOverall ?? 10)
  if (top.length > 0) {
    console.log(`\ntop rules over the corpus (requests stopped; one example each, the matched stretch in [[ ]]):`)
    for (const [rule, n] of top) console.log(`  ${String(n).padStart(5)}  ${exampleOf(total.corpus, rule, opts.paranoia, 170)}`)
  }
  return total
}

/** Family rows as plain JSON, for efficacy.json. */
export function familiesJson(rows: readonly FamilyRow[], paranoia: Paranoia, topN = 10): unknown[] {
  return rows.map((r) => ({
    family: r.family,
    requests: r.requests,
    blocked: r.blocked,
    refused: r.refused,
    blocked_pct: r.requests === 0 ? null : (100 * r.blocked) / r.requests,
    top_rules: topRules(r, topN).map(([rule, count]) => ({ rule, count, example: exampleOf(r, rule, paranoia) })),
  }))
}
