/**
 * Detection engine micro-benchmark: the WAF's own cost per request, without HTTP.
 * Targets: under 20 µs for a typical benign request with 10 parameters (path, query, headers,
 * cookies); under 1 ms for a 64 KB JSON body. Also times an attack (block mode stops at the first
 * finding), the 1 KB JSON body of `npm run bench` and a long adversarial value (linear
 * time).
 * Usage: npm run bench:engine   (node dist/bench/engine.js [SECONDS_PER_CASE=1])
 */
import type { IncomingHttpHeaders } from 'node:http'
import { loadConfig } from '../src/config/load.js'
import { createWaf } from '../src/stages/waf/index.js'
import { benchOrder } from './servers.js'
import type { Transaction } from '../src/pipeline/transaction.js'

const seconds = Number(process.argv[2] ?? 1)
const config = loadConfig({ object: { upstream: 'http://127.0.0.1:9', storage: { memory: true } } })
const waf = createWaf(config, null)!

const browserHeaders: IncomingHttpHeaders = {
  host: 'api.example.com',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  accept: 'application/json, text/plain, */*',
  'accept-language': 'en-GB,en;q=0.9',
  'accept-encoding': 'gzip, deflate, br',
  referer: 'https://app.example.com/orders?page=2',
  origin: 'https://app.example.com',
  cookie: 'session=3f9a1c7e5b2d4a6f8e0c1b3d5f7a9c2e; theme=dark; lang=en-GB',
  authorization: 'Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl',
}

/** Just what the stage reads from a transaction. */
function fakeTx(path: string, query: string, headers: IncomingHttpHeaders, method = 'GET'): Transaction {
  return {
    path,
    query,
    canonicalPath: path,
    method,
    req: { headers },
    wafFindings: null,
    wafScore: 0,
    wafBlocked: false,
  } as unknown as Transaction
}

const typical = fakeTx(
  '/api/v1/orders/8123/items',
  'page=2&per_page=50&sort=-created_at&status=shipped&q=blue+wool+scarf&from=2026-01-01&to=2026-11-23&currency=EUR&include=customer%2Citems&locale=en-GB',
  browserHeaders,
)
const attack = fakeTx('/api/v1/users', 'id=1%27%20UNION%20SELECT%20username%2Cpassword%20FROM%20users--&page=1', browserHeaders)

// ~64 KB of realistic JSON: orders with customers, addresses, line items and free-text notes
const orders = []
for (let i = 0; orders.length < 1000 && JSON.stringify(orders).length < 64 * 1024 - 700; i++) {
  orders.push({
    id: `ord_${100000 + i}`,
    customer: { name: ["Siobhán O'Brien", 'Jean-Luc Picard', 'Zoë Ng'][i % 3], email: `user${i}@example.com` },
    address: { street: `${i + 1} Main Street, Apt. #${i % 40}`, city: 'Dublin', zip: 'D02 X285' },
    items: [{ sku: `SKU-${i}`, qty: (i % 4) + 1, price: 12.5 + i }],
    note: i % 5 === 0 ? 'Please leave it at the door (side entrance) - thanks! 1 + 1 = 2; select a plan & drop-down menu' : '',
  })
}
const bigBody = Buffer.from(JSON.stringify({ orders }))
// The 1 KB order `npm run bench` POSTs (compare.ts): the WAF's share of that request's cost
const smallBody = Buffer.from(benchOrder())
const bodyTx = fakeTx('/api/v1/orders/import', '', { ...browserHeaders, 'content-type': 'application/json' }, 'POST')
const adversarial = fakeTx('/api/search', 'q=' + "'".repeat(1) + '%28'.repeat(20_000), browserHeaders)

async function time(name: string, target: number | null, fn: () => unknown): Promise<void> {
  const rounds: number[] = []
  for (let r = 0; r < 5; r++) {
    let n = 0
    const end = performance.now() + (seconds * 1000) / 5
    const start = performance.now()
    while (performance.now() < end) {
      const p = fn()
      if (p instanceof Promise) await p
      n++
    }
    rounds.push(((performance.now() - start) * 1000) / n)
  }
  rounds.sort((a, b) => a - b)
  const us = rounds[2]!
  const verdict = target === null ? '' : us <= target ? `  met (< ${target} µs)` : `  MISS (target < ${target} µs)`
  console.log(`${name.padEnd(52)} ${us.toFixed(1).padStart(9)} µs${verdict}`)
}

console.log(`detection engine, median of 5 rounds (${seconds} s per case); Node ${process.version}`)
if (waf.requestHeaders!(typical) !== undefined) throw new Error('the typical request was blocked: fix the engine before timing it')
if (waf.requestHeaders!(attack) === undefined) throw new Error('the attack was not blocked')
if ((await waf.requestBody!(bodyTx, bigBody)) !== undefined) throw new Error('the 64 KB body was blocked')
if ((await waf.requestBody!(bodyTx, smallBody)) !== undefined) throw new Error('the 1 KB body was blocked')
/** The stage records findings on the transaction: start each iteration from a fresh one. */
function reset(tx: Transaction): Transaction {
  tx.wafFindings = null
  tx.wafScore = 0
  tx.wafBlocked = false
  return tx
}
await time('typical GET, 10 query params, 9 headers, 3 cookies', 20, () => waf.requestHeaders!(reset(typical)))
await time('SQL injection in the query (blocked)', null, () => waf.requestHeaders!(reset(attack)))
await time(`JSON body ${(smallBody.length / 1024).toFixed(0)} KB (npm run bench's POST)`, null, () => waf.requestBody!(reset(bodyTx), smallBody))
await time(`JSON body ${(bigBody.length / 1024).toFixed(0)} KB (${orders.length} orders)`, 1000, () => waf.requestBody!(reset(bodyTx), bigBody))
await time('adversarial query value, 60 KB of %28', null, () => waf.requestHeaders!(reset(adversarial)))
