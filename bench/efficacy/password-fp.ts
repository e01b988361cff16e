/**
 * How many random passwords the WAF blocks: printable ASCII (0x21-0x7e), 12 to 31 characters,
 * as a password manager makes them, each sent alone as a JSON body field (`{"password": ...}`,
 * then `{"comment": ...}`) through the WAF stage in-process. A fixed seed: the same passwords on
 * every run.
 *
 *   node dist/bench/efficacy/password-fp.js [--count 100000] [--seed 0x9a55] [--paranoia 1] [--fields password,comment]
 */
import type { EfficacyCase } from './corpora.js'
import { createInProcessJudge, describeFinding, topRules, newFamilyRow, addToFamily } from './inprocess.js'
import { Gen, randomPassword } from './rng.js'

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i === -1 ? undefined : process.argv[i + 1]
}

const count = Number(arg('--count') ?? 100_000)
const seed = Number(arg('--seed') ?? 0x9a55)
const paranoia = Number(arg('--paranoia') ?? process.env['EFFICACY_PARANOIA'] ?? 1)
if (paranoia !== 1 && paranoia !== 2 && paranoia !== 3 && paranoia !== 4) throw new Error('--paranoia must be 1, 2, 3 or 4')
const fields = (arg('--fields') ?? 'password,comment').split(',')

const judge = createInProcessJudge(paranoia)
const started = Date.now()
for (const field of fields) {
  // the same passwords for every field
  const g = new Gen(seed)
  const row = newFamilyRow(field)
  const examples: string[] = []
  for (let i = 0; i < count; i++) {
    const pw = randomPassword(g)
    const c: EfficacyCase = {
      source: 'benign',
      category: `password-as-${field}`,
      expect: 'pass',
      id: `${field}:${i}`,
      request: {
        method: 'POST',
        path: '/api/auth/login',
        headers: { host: 'api.example.com', 'content-type': 'application/json' },
        body: JSON.stringify({ [field]: pw }),
      },
    }
    const j = await judge(c)
    addToFamily(row, c, j.outcome === 'passed' ? null : j.outcome, j.findings[0] ?? null)
    if (j.outcome !== 'passed' && examples.length < 12)
      examples.push(
        `${JSON.stringify(pw)}  ${j.findings[0] === undefined ? j.outcome : describeFinding(j.findings[0], { formEncoded: false, paranoia, max: 120, context: 10 })}`,
      )
  }
  console.log(
    `\n"${field}": ${row.blocked} of ${count} blocked (${((100 * row.blocked) / count).toFixed(3)}%), ${row.refused} refused; by rule: ${topRules(row, 20)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  )
  for (const e of examples) console.log(`  ${e}`)
}
console.log(`\nparanoia ${paranoia}, seed 0x${seed.toString(16)}, ${count} passwords per field; ${((Date.now() - started) / 1000).toFixed(1)} s`)
