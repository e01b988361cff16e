// Prints what `npm run efficacy` would replay: counts per source × category ×
// expectation, and what the loaders skipped and why.
// Run: node dist/bench/efficacy/summary.js
import { allBenignCases } from './benign-corpus.js'
import type { EfficacyCase, SkippedCase } from './corpora.js'
import { corporaAvailable, corporaDir, loadCrs, loadNemesida, loadPayloadsAllTheThings } from './corpora.js'

function tally<T>(xs: readonly T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>()
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1)
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

function main(): void {
  const dir = corporaDir()
  const cases: EfficacyCase[] = []
  const skipped: SkippedCase[] = []
  const started = performance.now()
  if (corporaAvailable(dir)) {
    for (const load of [loadPayloadsAllTheThings, loadNemesida, loadCrs]) {
      const r = load(dir)
      cases.push(...r.cases)
      skipped.push(...r.skipped)
    }
  } else {
    console.log(`corpora not found at ${dir}: attack sets left out`)
  }
  cases.push(...allBenignCases())
  const ms = performance.now() - started

  console.log(`corpora: ${dir}`)
  console.log(`loaded ${cases.length} cases in ${ms.toFixed(0)} ms (heap ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MiB)\n`)
  console.log('source'.padEnd(22) + 'category'.padEnd(26) + 'expect'.padEnd(8) + 'count'.padStart(8))
  for (const [k, n] of tally(cases, (c) => `${c.source}\t${c.category}\t${c.expect}`)) {
    const [source = '', category = '', expect = ''] = k.split('\t')
    console.log(source.padEnd(22) + category.padEnd(26) + expect.padEnd(8) + String(n).padStart(8))
  }
  console.log('\ntotals')
  for (const [k, n] of tally(cases, (c) => `${c.source}\t${c.expect}`)) {
    const [source = '', expect = ''] = k.split('\t')
    console.log('  ' + source.padEnd(22) + expect.padEnd(8) + String(n).padStart(8))
  }
  console.log(`\nskipped: ${skipped.length}`)
  for (const [k, n] of tally(skipped, (s) => `${s.source}\t${s.reason}`)) {
    const [source = '', reason = ''] = k.split('\t')
    console.log('  ' + source.padEnd(12) + String(n).padStart(6) + '  ' + reason)
  }
}

main()
