/**
 * Random printable passwords through the detection engine, as a JSON body field: how many does
 * it block? `node dist/bench/passwords.js [count] [field]` (defaults 100000, password).
 * Passwords are what a password manager makes: 12-31 characters drawn uniformly from the 95
 * printable ASCII characters, from a fixed seed, so runs compare.
 */
import { createEngine } from '../src/detection/engine.js'

const count = Number(process.argv[2] ?? 100_000)
const field = process.argv[3] ?? 'password'

function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function randomPassword(next: () => number): string {
  const n = 12 + Math.floor(next() * 20)
  let s = ''
  for (let i = 0; i < n; i++) s += String.fromCharCode(32 + Math.floor(next() * 95))
  return s
}

const engine = createEngine({ paranoia: 1 })
const next = prng(20261208)
const rules = new Map<string, number>()
const examples = new Map<string, string>()
let blocked = 0
const t0 = performance.now()
for (let i = 0; i < count; i++) {
  const pw = randomPassword(next)
  const r = engine.inspect([{ location: 'body', name: field, value: pw, formEncoded: false }], null, true)
  if (r.findings.length === 0) continue
  blocked++
  const rule = r.findings[0]!.rule
  rules.set(rule, (rules.get(rule) ?? 0) + 1)
  if (!examples.has(rule)) examples.set(rule, pw)
}
const ms = performance.now() - t0
console.log(
  `${blocked} of ${count} random passwords blocked in body field "${field}" (${((blocked / count) * 100).toFixed(3)}%), ${((ms * 1000) / count).toFixed(2)} µs each`,
)
for (const [rule, n] of [...rules].sort((a, b) => b[1] - a[1]))
  console.log(`  ${rule.padEnd(32)} ${String(n).padStart(6)}  e.g. ${JSON.stringify(examples.get(rule))}`)
