/**
 * For the engine developer: the benign requests of one family that the WAF stops, judged
 * in-process (inprocess.ts), each with the rule, where it matched and the matched stretch.
 *
 *   node dist/bench/efficacy/fp-report.js --family changelog [--limit 20] [--rule cmdi-separator]
 *     [--paranoia 1] [--all] [--full]
 *
 * --family   a family of the corpus (benign-corpus.ts) or of the synthetic set (`synthetic-search`);
 *            a regular expression over the names works too (`--family 'readme|man'`)
 * --rule     only requests stopped by this rule (the first finding)
 * --all      every finding of each request (the WAF in detect mode), not only the one that stopped it
 * --full     the whole request as JSON after each
 * --list     the families and how many requests each has, then exit
 */
import { caseOf, loadBenignRecords, syntheticCases } from './benign-corpus.js'
import { createInProcessJudge, describeFinding, formEncodedAt } from './inprocess.js'

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i === -1 ? undefined : process.argv[i + 1]
}
const flag = (name: string) => process.argv.includes(name)

const paranoia = Number(arg('--paranoia') ?? process.env['EFFICACY_PARANOIA'] ?? 1)
if (paranoia !== 1 && paranoia !== 2 && paranoia !== 3 && paranoia !== 4) throw new Error('--paranoia must be 1, 2, 3 or 4')
const limit = Number(arg('--limit') ?? 20)
const rule = arg('--rule') ?? null

const records = loadBenignRecords()
const cases = [...records.map(caseOf), ...syntheticCases()]
// the corpus record's shape and source, to say where the text came from
const origin = new Map(records.map((r) => [r.id, `${r.shape}; ${r.source}`]))
if (flag('--list') || arg('--family') === undefined) {
  const counts = new Map<string, number>()
  for (const c of cases) counts.set(c.category, (counts.get(c.category) ?? 0) + 1)
  console.log('families (--family NAME):')
  for (const [k, n] of counts) console.log(`  ${k.padEnd(26)} ${n}`)
  process.exit(flag('--list') ? 0 : 2)
}
const family = new RegExp(`^(?:${arg('--family')})$`)
const chosen = cases.filter((c) => family.test(c.category))
if (chosen.length === 0) {
  console.error(`fp-report: no family matches ${arg('--family')} (--list shows them)`)
  process.exit(2)
}

const judge = createInProcessJudge(paranoia)
const detect = flag('--all') ? createInProcessJudge(paranoia, 'detect') : null

let stopped = 0
let shown = 0
for (const c of chosen) {
  const j = await judge(c)
  if (j.outcome === 'passed') continue
  const first = j.findings[0] ?? null
  if (rule !== null && first?.rule !== rule) continue
  stopped++
  if (shown >= limit) continue
  shown++
  const q = c.request.path.indexOf('?')
  console.log(
    `\n${c.id} ${j.outcome}: ${c.request.method} ${q === -1 ? c.request.path : c.request.path.slice(0, q) + '?…'} (${origin.get(c.id) ?? 'synthetic: benign.ts'})`,
  )
  const findings = detect === null ? j.findings : (await detect(c)).findings
  if (findings.length === 0) console.log("  (no finding: refused by the WAF's own checks, e.g. the body did not parse as its type)")
  for (const f of findings) console.log(`  ${describeFinding(f, { formEncoded: formEncodedAt(c, f.location), paranoia, max: 400, context: 60 })}`)
  if (flag('--full')) console.log('  ' + JSON.stringify(c.request))
}
console.log(`\n${stopped} of ${chosen.length} requests stopped${rule === null ? '' : ` by ${rule}`} at paranoia ${paranoia}; ${shown} shown (--limit ${limit})`)
