/**
 * `npm run efficacy:quick`: the same corpora and benign sets as `npm run efficacy`, judged by the
 * WAF stage in-process (inprocess.ts), without sockets or servers: about 20 s for every case, so
 * the engine can be tuned in a loop. The numbers track the gateway run closely but not exactly
 * (no HTTP parser in front: bytes a server would refuse are judged here); `npm run efficacy` is
 * the measurement of record. The benign sets are reported per family too: requests, blocked,
 * and the rules that blocked them (fp-report.js lists the requests).
 *
 * Env: EFFICACY_PARANOIA (1-4), EFFICACY_ONLY (a regular expression over "source/category"),
 * EFFICACY_MISSES (a file for the misses as JSON lines; default bench/results/quick-misses.jsonl).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { allBenignCases } from './benign-corpus.js'
import { corporaAvailable, corporaDir, findRepoRoot, loadCrs, loadNemesida, loadPayloadsAllTheThings, type EfficacyCase } from './corpora.js'
import { createInProcessJudge, addToFamily, newFamilyRow, printFamilies, type FamilyRow } from './inprocess.js'
import { add, emptyCounts, fmtPct, isMiss, merge, pct, REPORTED_APART, type Counts } from './judge.js'

const paranoia = Number(process.env['EFFICACY_PARANOIA'] ?? 1)
if (paranoia !== 1 && paranoia !== 2 && paranoia !== 3 && paranoia !== 4) throw new Error('EFFICACY_PARANOIA must be 1, 2, 3 or 4')
const only = process.env['EFFICACY_ONLY'] ? new RegExp(process.env['EFFICACY_ONLY'], 'i') : null
const missesFile = process.env['EFFICACY_MISSES'] ?? join(findRepoRoot(), 'bench/results/quick-misses.jsonl')

const judge = createInProcessJudge(paranoia)

const dir = corporaDir()
const cases: EfficacyCase[] = []
if (corporaAvailable(dir)) for (const load of [loadPayloadsAllTheThings, loadNemesida, loadCrs]) cases.push(...load(dir).cases)
cases.push(...allBenignCases())

const started = Date.now()
const stats = new Map<string, Counts>()
const families = new Map<string, FamilyRow>()
const misses: string[] = []
for (const c of cases) {
  const key = `${c.source}/${c.category}`
  if (only !== null && !only.test(key)) continue
  const { outcome, findings } = await judge(c)
  let cnt = stats.get(`${key}\t${c.expect}`)
  if (cnt === undefined) stats.set(`${key}\t${c.expect}`, (cnt = emptyCounts()))
  add(cnt, outcome)
  if (c.source === 'benign') {
    let row = families.get(c.category)
    if (row === undefined) families.set(c.category, (row = newFamilyRow(c.category)))
    addToFamily(row, c, outcome === 'passed' ? null : outcome, findings[0] ?? null)
  }
  if (isMiss(c.expect, outcome))
    misses.push(
      JSON.stringify({
        source: c.source,
        category: c.category,
        id: c.id,
        expect: c.expect,
        outcome,
        findings: findings.map((f) => `${f.rule}:${f.confidence}`),
        request: c.request,
      }),
    )
}

const stoppedPct = (c: Counts) => pct(c.blocked + c.refused, c)
const total = { attacks: emptyCounts(), benign: emptyCounts(), apart: emptyCounts() }
for (const [k, cnt] of [...stats].sort()) {
  const [key = '', expect = ''] = k.split('\t')
  if (!key.startsWith('benign/'))
    console.log(`${key.padEnd(40)} ${expect.padEnd(6)} ${String(cnt.cases).padStart(6)} ${fmtPct(stoppedPct(cnt)).padStart(7)} stopped`)
  merge(REPORTED_APART.has(key.split('/')[1] ?? '') ? total.apart : expect === 'block' ? total.attacks : total.benign, cnt)
}
if (families.size > 0) printFamilies([...families.values()], { title: `benign families, paranoia ${paranoia} (in-process)`, paranoia })
const line = (c: Counts) => `${fmtPct(stoppedPct(c), 2)} of ${c.cases}`
console.log(
  `\nparanoia ${paranoia}: attacks stopped ${line(total.attacks)}; benign (and corpus pass-cases) stopped ${line(total.benign)}; ` +
    `reported apart ${line(total.apart)}; ${((Date.now() - started) / 1000).toFixed(1)} s`,
)
mkdirSync(dirname(missesFile), { recursive: true })
writeFileSync(missesFile, misses.length > 0 ? misses.join('\n') + '\n' : '')
console.log(`${misses.length} misses in ${missesFile}`)
