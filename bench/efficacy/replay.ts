/**
 * `npm run efficacy:quick`: the same corpora and benign set as `npm run efficacy`, judged by the
 * WAF stage in-process (head check, then the body check where the WAF would buffer the body),
 * without sockets or servers: about 20 s for every case, so the engine can be tuned in a loop.
 * The numbers track the gateway run closely but not exactly (no HTTP parser in front: bytes a
 * server would refuse are judged here); `npm run efficacy` is the measurement of record.
 *
 * Env: EFFICACY_PARANOIA (1-4), EFFICACY_ONLY (a regular expression over "source/category"),
 * EFFICACY_MISSES (a file for the misses as JSON lines; default bench/results/quick-misses.jsonl).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { loadConfig } from '../../src/config/load.js'
import { canonicalPath } from '../../src/net/canonical-path.js'
import type { Transaction } from '../../src/pipeline/transaction.js'
import { createWaf } from '../../src/stages/waf/index.js'
import { benignCases } from './benign.js'
import { corporaAvailable, corporaDir, findRepoRoot, loadCrs, loadNemesida, loadPayloadsAllTheThings, type EfficacyCase } from './corpora.js'
import { add, emptyCounts, fmtPct, isMiss, merge, pct, REPORTED_APART, type Counts, type Verdict } from './judge.js'

const paranoia = Number(process.env['EFFICACY_PARANOIA'] ?? 1)
if (![1, 2, 3, 4].includes(paranoia)) throw new Error('EFFICACY_PARANOIA must be 1, 2, 3 or 4')
const only = process.env['EFFICACY_ONLY'] ? new RegExp(process.env['EFFICACY_ONLY'], 'i') : null
const missesFile = process.env['EFFICACY_MISSES'] ?? join(findRepoRoot(), 'bench/results/quick-misses.jsonl')

const config = loadConfig({ object: { upstream: 'http://127.0.0.1:9', storage: { memory: true }, waf: { paranoia } } })
const waf = createWaf(config, null)
if (waf === null) throw new Error('the WAF is off in the default configuration')

const dir = corporaDir()
const cases: EfficacyCase[] = []
if (corporaAvailable(dir)) for (const load of [loadPayloadsAllTheThings, loadNemesida, loadCrs]) cases.push(...load(dir).cases)
cases.push(...benignCases(2500))

// The verdicts an in-process judgement can reach (nothing is sent, so nothing errs or goes unsent)
type Outcome = Extract<Verdict, 'blocked' | 'refused' | 'passed'>

async function judge(c: EfficacyCase): Promise<{ outcome: Outcome; findings: string[] }> {
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
  let v = await waf!.requestHeaders!(tx)
  const body = c.request.body
  if (v === undefined && body !== undefined && body !== '' && waf!.wantsBody!(tx) === 'whole') v = await waf!.requestBody!(tx, Buffer.from(body, 'utf8'))
  const findings = (tx.wafFindings ?? []).map((f) => `${f.rule}:${f.confidence}`)
  return { outcome: v === undefined ? 'passed' : v.status === 403 ? 'blocked' : 'refused', findings }
}

const started = Date.now()
const stats = new Map<string, Counts>()
const misses: string[] = []
for (const c of cases) {
  const key = `${c.source}/${c.category}`
  if (only !== null && !only.test(key)) continue
  const { outcome, findings } = await judge(c)
  let cnt = stats.get(`${key}\t${c.expect}`)
  if (cnt === undefined) stats.set(`${key}\t${c.expect}`, (cnt = emptyCounts()))
  add(cnt, outcome)
  if (isMiss(c.expect, outcome))
    misses.push(JSON.stringify({ source: c.source, category: c.category, id: c.id, expect: c.expect, outcome, findings, request: c.request }))
}

const stoppedPct = (c: Counts) => pct(c.blocked + c.refused, c)
const total = { attacks: emptyCounts(), benign: emptyCounts(), apart: emptyCounts() }
for (const [k, cnt] of [...stats].sort()) {
  const [key = '', expect = ''] = k.split('\t')
  console.log(`${key.padEnd(40)} ${expect.padEnd(6)} ${String(cnt.cases).padStart(6)} ${fmtPct(stoppedPct(cnt)).padStart(7)} stopped`)
  merge(REPORTED_APART.has(key.split('/')[1] ?? '') ? total.apart : expect === 'block' ? total.attacks : total.benign, cnt)
}
const line = (c: Counts) => `${fmtPct(stoppedPct(c), 2)} of ${c.cases}`
console.log(
  `\nparanoia ${paranoia}: attacks stopped ${line(total.attacks)}; benign (and corpus pass-cases) stopped ${line(total.benign)}; ` +
    `reported apart ${line(total.apart)}; ${((Date.now() - started) / 1000).toFixed(1)} s`,
)
mkdirSync(dirname(missesFile), { recursive: true })
writeFileSync(missesFile, misses.length > 0 ? misses.join('\n') + '\n' : '')
console.log(`${misses.length} misses in ${missesFile}`)
