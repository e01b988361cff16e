/**
 * `npm run efficacy`: replays the attack corpora (PayloadsAllTheThings, nemesida waf-bypass, the
 * CRS regression tests) and the benign sets (the real-text corpus of benign-corpus.ts and the
 * generated set of benign.ts) through the real Drawbridge gateway, and,
 * when Debian's packages are installed, through nginx+ModSecurity+CRS at paranoia 1 and 2, all in
 * front of the same static upstream. Prints detection and false-positive rates per source and
 * category, the benign sets per family with the rules that stopped them (attributed in-process:
 * the gateway's answer does not say), and writes bench/results/efficacy.json and
 * bench/results/efficacy-misses.jsonl.
 * Everything listens on 127.0.0.1; every request has a timeout and every replay a time bound.
 */
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { Pool, errors as undiciErrors } from 'undici'
import { allBenignCases } from './benign-corpus.js'
import {
  corporaAvailable,
  corporaDir,
  findRepoRoot,
  loadCrs,
  loadNemesida,
  loadPayloadsAllTheThings,
  type EfficacyCase,
  type EfficacyRequest,
  type EfficacySource,
} from './corpora.js'
import { addToFamily, createInProcessJudge, familiesJson, newFamilyRow, printFamilies, type FamilyRow } from './inprocess.js'
import {
  add,
  classify,
  emptyCounts,
  fmtPct,
  isMiss,
  judged,
  merge,
  pct,
  REPORTED_APART,
  sample,
  unsendableReason,
  UPSTREAM_MARK,
  withHost,
  type Counts,
  type ProxyKind,
  type Verdict,
} from './judge.js'
import { benchDir, cleanup, freePort, has, installCleanup, modsecConf, start, startDrawbridge, stop, waitPort, type Child } from '../servers.js'

const root = findRepoRoot()
const env = (name: string, def: number, min: number, max: number): number => {
  const raw = process.env[name]
  const n = raw === undefined || raw === '' ? def : Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`efficacy: ${name} must be an integer from ${min} to ${max} (got ${raw})`)
    process.exit(2)
  }
  return n
}
const paranoia = env('EFFICACY_PARANOIA', 1, 1, 4)
// ModSecurity answers a few hundred requests/s here: its runs take every n-th case per category
const modsecSample = env('EFFICACY_SAMPLE', 4, 1, 100_000)
// Development only: sample the Drawbridge run too
const drawbridgeSample = env('EFFICACY_DRAWBRIDGE_SAMPLE', 1, 1, 100_000)
const concurrency = env('EFFICACY_CONCURRENCY', 16, 1, 256)
const modsecConcurrency = env('EFFICACY_MODSEC_CONCURRENCY', 6, 1, 256)
const requestTimeoutMs = env('EFFICACY_REQUEST_TIMEOUT_MS', 10_000, 100, 120_000)
const drawbridgeBudgetS = env('EFFICACY_DRAWBRIDGE_BUDGET', 300, 1, 3600)
const modsecBudgetS = env('EFFICACY_MODSEC_BUDGET', 150, 1, 3600)
const skipModsec = process.env['EFFICACY_MODSEC'] === '0'
const keepLogs = process.env['EFFICACY_KEEP_LOGS'] === '1'
// Development only: a regular expression over "source/category" (`^benign/` for the benign sets)
const only = process.env['EFFICACY_ONLY'] ? new RegExp(process.env['EFFICACY_ONLY'], 'i') : null
const trustedHost = 'api.example.com'
const targets = { attacksStopped: 97, benignBlocked: 0.5 }

installCleanup('efficacy')

// ---- the static upstream: 200 {} to everything, marked so a proxy's own 200 cannot pass for it ----

async function startUpstream(): Promise<{ port: number; close: () => Promise<void> }> {
  // Lenient and roomy: whatever a proxy forwards must reach the app, or "passed" is undercounted
  const server = createServer({ insecureHTTPParser: true, maxHeaderSize: 1 << 20 }, (req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', [UPSTREAM_MARK]: '1', 'content-length': '2' }).end('{}'))
    req.on('error', () => res.destroy())
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

// ---- replay ----

interface Outcome {
  verdict: Verdict
  status: number
  code: string | null
  raw: boolean
  reason?: string
}

const codeOf = (body: string): string | null => /"code":"([A-Z_]+)"/.exec(body)?.[1] ?? null

/**
 * The request exactly as the corpus holds it, over a fresh socket: for what undici refuses
 * (bytes above U+00FF in the target, Expect/Upgrade/Keep-Alive headers...). Latin-1 where
 * every character fits in a byte, UTF-8 otherwise (what a tool on the wire would send).
 */
function sendRaw(port: number, r: EfficacyRequest): Promise<{ status: number; headers: string; body: string } | { failed: string }> {
  const enc = (s: string) => Buffer.from(s, /[^\x00-\xff]/.test(s) ? 'utf8' : 'latin1')
  const body = r.body === undefined ? null : Buffer.from(r.body, 'utf8')
  const parts: Buffer[] = [enc(`${r.method} ${r.path} HTTP/1.1\r\n`)]
  for (const [k, v] of Object.entries(r.headers)) parts.push(enc(`${k}: ${v}\r\n`))
  if (body !== null) parts.push(Buffer.from(`content-length: ${body.length}\r\n`))
  parts.push(Buffer.from('connection: close\r\n\r\n'))
  if (body !== null) parts.push(body)
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    const s = connect(port, '127.0.0.1')
    const done = (failed: string | null) => {
      clearTimeout(timer)
      s.destroy()
      const text = Buffer.concat(chunks).toString('latin1')
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text)
      const end = text.indexOf('\r\n\r\n')
      if (m === null) return resolve({ failed: failed ?? 'no HTTP answer' })
      resolve({ status: Number(m[1]), headers: end === -1 ? text : text.slice(0, end), body: end === -1 ? '' : text.slice(end + 4) })
    }
    const timer = setTimeout(() => done('timeout'), requestTimeoutMs)
    s.on('data', (c: Buffer) => chunks.push(c))
    s.on('end', () => done(null))
    s.on('error', (e) => done(e.message))
    // write, not end: node:http servers (Drawbridge's included) abort a request whose client
    // half-closes before the answer; `connection: close` ends the exchange after it instead
    s.on('connect', () => s.write(Buffer.concat(parts)))
  })
}

// Headers undici refuses to send (it owns the framing), and bytes it rejects in a target or value
const undiciRefused = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect', 'te', 'proxy-connection'])
function needsRaw(r: EfficacyRequest): boolean {
  if (/[^\x21-\x7e]/.test(r.path)) return true
  for (const [k, v] of Object.entries(r.headers)) if (undiciRefused.has(k.toLowerCase()) || /[^\t\x20-\x7e]/.test(v)) return true
  return false
}

async function sendRawOutcome(port: number, kind: ProxyKind, r: EfficacyRequest): Promise<Outcome> {
  const a = await sendRaw(port, r)
  if ('failed' in a) return { verdict: 'error', status: 0, code: null, raw: true, reason: a.failed }
  const fromUpstream = new RegExp(`^${UPSTREAM_MARK}:`, 'im').test(a.headers)
  return {
    verdict: classify(kind, { status: a.status, fromUpstream, body: a.body, head: r.method === 'HEAD' }),
    status: a.status,
    code: codeOf(a.body),
    raw: true,
  }
}

async function sendOne(pool: Pool, port: number, kind: ProxyKind, c: EfficacyCase): Promise<Outcome> {
  const why = unsendableReason(c.request)
  if (why !== null) return { verdict: 'unsendable', status: 0, code: null, raw: false, reason: why }
  const r = c.request
  // Checked up front, not by catching undici's refusal: a refused request can leave undici's
  // pool (7.x) stuck, and every later request then waits out its timeout (the old "stall")
  if (needsRaw(r)) return sendRawOutcome(port, kind, r)
  try {
    const res = await pool.request({
      method: r.method,
      path: r.path,
      headers: r.headers,
      body: r.body ?? null,
      headersTimeout: requestTimeoutMs,
      bodyTimeout: requestTimeoutMs,
      signal: AbortSignal.timeout(requestTimeoutMs),
    })
    const text = await res.body.text()
    const fromUpstream = res.headers[UPSTREAM_MARK] !== undefined
    return {
      verdict: classify(kind, { status: res.statusCode, fromUpstream, body: text, head: r.method === 'HEAD' }),
      status: res.statusCode,
      code: codeOf(text),
      raw: false,
    }
  } catch (e) {
    // anything else undici validates away goes out as raw bytes too
    if (e instanceof undiciErrors.InvalidArgumentError || e instanceof undiciErrors.NotSupportedError) return sendRawOutcome(port, kind, r)
    return { verdict: 'error', status: 0, code: null, raw: false, reason: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }
  }
}

// Belt and braces over undici's own timeouts: one stuck request must not hold the run
function hardBound(p: Promise<Outcome>): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<Outcome>((r) => {
    timer = setTimeout(() => r({ verdict: 'error', status: 0, code: null, raw: false, reason: 'no answer within the hard bound' }), requestTimeoutMs + 2000)
  })
  return Promise.race([p, bound]).finally(() => clearTimeout(timer))
}

async function replay(
  name: string,
  kind: ProxyKind,
  port: number,
  cases: readonly EfficacyCase[],
  conns: number,
  budgetS: number,
): Promise<{ outcomes: Outcome[]; seconds: number }> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: conns, pipelining: 1, connect: { timeout: 5000 }, keepAliveTimeout: 30_000 })
  const outcomes: Outcome[] = new Array(cases.length)
  const started = Date.now()
  const deadline = started + budgetS * 1000
  let next = 0
  let done = 0
  let reported = 0
  await Promise.all(
    Array.from({ length: conns }, async () => {
      while (next < cases.length && Date.now() < deadline) {
        const i = next++
        outcomes[i] = await hardBound(sendOne(pool, port, kind, cases[i]!))
        done++
        if (done * 10 >= (reported + 1) * cases.length) {
          reported = Math.floor((done * 10) / cases.length)
          process.stderr.write(`efficacy: ${name}: ${done}/${cases.length} (${((done * 1000) / (Date.now() - started)).toFixed(0)} req/s)\n`)
        }
      }
    }),
  )
  // destroy, not close: close would wait on a request stuck past its hard bound
  await pool.destroy()
  let notRun = 0
  for (let i = 0; i < cases.length; i++) {
    if (outcomes[i] === undefined) {
      outcomes[i] = { verdict: 'not-run', status: 0, code: null, raw: false }
      notRun++
    }
  }
  if (notRun > 0) console.error(`efficacy: ${name}: time bound of ${budgetS} s hit, ${notRun} cases not run`)
  return { outcomes, seconds: (Date.now() - started) / 1000 }
}

// ---- tables ----

type CountsBy = Map<string, Counts>

function countBy(cases: readonly EfficacyCase[], outcomes: readonly Outcome[]): CountsBy {
  const m: CountsBy = new Map()
  cases.forEach((c, i) => {
    const k = `${c.source}\t${c.category}\t${c.expect}`
    let cnt = m.get(k)
    if (cnt === undefined) m.set(k, (cnt = emptyCounts()))
    add(cnt, outcomes[i]!.verdict)
  })
  return m
}

function sum(by: CountsBy | undefined, pick: (source: string, category: string, expect: string) => boolean): Counts {
  const out = emptyCounts()
  for (const [k, c] of by ?? []) {
    const [s = '', cat = '', e = ''] = k.split('\t')
    if (pick(s, cat, e)) merge(out, c)
  }
  return out
}

interface Run {
  name: string
  kind: ProxyKind
  paranoia: number
  sampled: number
  cases: EfficacyCase[]
  outcomes: Outcome[]
  seconds: number
  by: CountsBy
}

const blockedPct = (c: Counts) => pct(c.blocked, c)
const stoppedPct = (c: Counts) => pct(c.blocked + c.refused, c)

function printTables(all: readonly EfficacyCase[], db: Run, ms: readonly Run[]): void {
  const sources: EfficacySource[] = ['payloadsallthethings', 'nemesida', 'crs', 'benign']
  const head = [
    'category',
    24,
    'expect',
    7,
    'cases',
    7,
    'unsent',
    7,
    'DB blocked',
    11,
    'DB stopped',
    11,
    ...ms.flatMap((r) => [`MS PL${r.paranoia} blk`, 12] as const),
  ] as const
  const line = (cols: readonly (string | number)[]) => {
    let s = ''
    for (let i = 0; i < cols.length; i += 2) s += i === 0 ? String(cols[i]).padEnd(Number(cols[i + 1])) : String(cols[i]).padStart(Number(cols[i + 1]))
    return s
  }
  const row = (label: string, expect: string, pick: (s: string, cat: string, e: string) => boolean) => {
    const d = sum(db.by, pick)
    if (d.cases === 0) return null
    const cols: (string | number)[] = [label, 24, expect, 7, d.cases, 7, d.unsendable, 7, fmtPct(blockedPct(d)), 11, fmtPct(stoppedPct(d)), 11]
    for (const r of ms) cols.push(fmtPct(blockedPct(sum(r.by, pick))), 12)
    return line(cols)
  }
  for (const source of sources) {
    const cats = [...new Set(all.filter((c) => c.source === source).map((c) => `${c.category}\t${c.expect}`))].sort()
    if (cats.length === 0) continue
    console.log(`\n== ${source} ==`)
    console.log(line(head))
    for (const k of cats) {
      const [cat = '', e = ''] = k.split('\t')
      const r = row(cat + (REPORTED_APART.has(cat) ? ' (apart)' : ''), e, (s, c2, e2) => s === source && c2 === cat && e2 === e)
      if (r !== null) console.log(r)
    }
    const attacks = row('attacks (total)', 'block', (s, c2, e2) => s === source && e2 === 'block' && !REPORTED_APART.has(c2))
    if (attacks !== null) console.log(attacks)
  }
}

// ---- the benign families ----

/**
 * Per family of the benign sets: requests, blocked and refused as the gateway answered. The
 * gateway does not say which rule fired (the client never learns it), so each stopped request is
 * judged again in-process by the same WAF (inprocess.ts) and its first finding credited.
 */
async function benignFamilies(cases: readonly EfficacyCase[], outcomes: readonly Outcome[]): Promise<FamilyRow[]> {
  const judge = createInProcessJudge(paranoia as 1 | 2 | 3 | 4)
  const rows = new Map<string, FamilyRow>()
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!
    const v = outcomes[i]!.verdict
    if (c.source !== 'benign' || v === 'unsendable' || v === 'not-run') continue
    let row = rows.get(c.category)
    if (row === undefined) rows.set(c.category, (row = newFamilyRow(c.category)))
    if (v === 'passed') addToFamily(row, c, null, null)
    else addToFamily(row, c, v, v === 'error' ? null : ((await judge(c)).findings[0] ?? null))
  }
  const list = [...rows.values()]
  if (list.length > 0)
    printFamilies(list, { title: `benign families: Drawbridge, paranoia ${paranoia} (rules attributed in-process)`, paranoia: paranoia as 1 | 2 | 3 | 4 })
  return list
}

// ---- the run ----

function version(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? ''
}

async function main(): Promise<number> {
  const t0 = Date.now()
  if (!existsSync(join(root, 'dist/src/cli/main.js'))) throw new Error('dist/ is missing: run npm run build')
  const { dir, sub } = benchDir('drawbridge-efficacy-')

  // ---- cases ----
  const corpora = corporaDir()
  const loaded: EfficacyCase[] = []
  let loaderSkipped = 0
  if (corporaAvailable(corpora)) {
    for (const load of [loadPayloadsAllTheThings, loadNemesida, loadCrs]) {
      const r = load(corpora)
      loaded.push(...r.cases)
      loaderSkipped += r.skipped.length
    }
  } else {
    console.log(`efficacy: corpora not found at ${corpora} (EFFICACY_CORPORA_DIR): benign cases only`)
  }
  loaded.push(...allBenignCases())
  const hosted = withHost(only === null ? loaded : loaded.filter((c) => only.test(`${c.source}/${c.category}`)), trustedHost)
  const all = sample(hosted.cases, drawbridgeSample)
  const msCases = sample(all, modsecSample)
  console.log(
    `efficacy: ${hosted.cases.length} cases (${loaderSkipped} skipped by the loaders, see summary.js); Host rewritten to ${trustedHost} on ${hosted.rewritten}: ${Object.entries(
      hosted.byHost,
    )
      .sort((a, b) => b[1] - a[1])
      .map(([h, n]) => `${h} ${n}`)
      .join(', ')}`,
  )
  if (only !== null) console.log(`efficacy: EFFICACY_ONLY=${only.source}: ${hosted.cases.length} of ${loaded.length} cases: development numbers`)
  if (drawbridgeSample > 1)
    console.log(
      `efficacy: EFFICACY_DRAWBRIDGE_SAMPLE=${drawbridgeSample}: every ${drawbridgeSample}th case per category only (${all.length}): development numbers`,
    )

  // ---- servers ----
  const upstream = await startUpstream()
  const { child: db, port: dbPort } = await startDrawbridge(root, sub('drawbridge'), null, {
    upstreamPort: upstream.port,
    trustedHost,
    by: `bench/efficacy/run.ts: production defaults, the WAF at paranoia ${paranoia}`,
    settings:
      'storage:\n  memory: true\nlogging:\n  level: warn\n  access_log: false\n' +
      `limits:\n  allowed_methods: [GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS]\nwaf:\n  paranoia: ${paranoia}\n`,
  })
  try {
    await waitPort(dbPort, db)
  } catch (e) {
    console.error(`efficacy: the gateway did not start: ${e instanceof Error ? e.message : String(e)}`)
    await upstream.close()
    return 1
  }

  const runs: Run[] = []
  const dbRun = await replay('drawbridge', 'drawbridge', dbPort, all, concurrency, drawbridgeBudgetS)
  runs.push({ name: 'drawbridge', kind: 'drawbridge', paranoia, sampled: drawbridgeSample, cases: all, ...dbRun, by: countBy(all, dbRun.outcomes) })
  await stop(db)

  const skipped: Record<string, string> = {}
  const msVersions = { libmodsecurity3: '', crs: '' }
  if (skipModsec) skipped['nginx+modsecurity+crs'] = 'EFFICACY_MODSEC=0'
  else if (!has('nginx')) skipped['nginx+modsecurity+crs'] = 'nginx not installed (apt-get install -y nginx libnginx-mod-http-modsecurity modsecurity-crs)'
  else {
    if (has('dpkg-query')) {
      msVersions.libmodsecurity3 = version('dpkg-query', ['-W', '-f=${Version}', 'libmodsecurity3'])
      msVersions.crs = version('dpkg-query', ['-W', '-f=${Version}', 'modsecurity-crs'])
    }
    if (modsecSample > 1)
      console.log(
        `efficacy: ModSecurity runs sampled: every ${modsecSample}th case per source and category (${msCases.length} of ${all.length}; EFFICACY_SAMPLE)`,
      )
    for (const pl of [1, 2]) {
      const name = `modsecurity-pl${pl}`
      const msPort = await freePort()
      const msDir = sub(name)
      const ms = modsecConf(msDir, msPort, upstream.port, pl)
      if ('skipped' in ms) {
        skipped['nginx+modsecurity+crs'] = ms.skipped
        break
      }
      const child: Child = start(name, msDir, null, 'nginx', ['-p', msDir, '-c', ms.conf])
      try {
        await waitPort(msPort, child, 60_000)
      } catch (e) {
        skipped[name] = e instanceof Error ? e.message : String(e)
        await stop(child)
        continue
      }
      const r = await replay(name, 'modsecurity', msPort, msCases, modsecConcurrency, modsecBudgetS)
      runs.push({ name, kind: 'modsecurity', paranoia: pl, sampled: modsecSample, cases: msCases, ...r, by: countBy(msCases, r.outcomes) })
      await stop(child)
    }
  }
  for (const [k, why] of Object.entries(skipped)) console.log(`efficacy: ${k} skipped: ${why}`)
  await upstream.close()

  // ---- report ----
  const dbr = runs[0]!
  const msRuns = runs.slice(1)
  printTables(all, dbr, msRuns)

  // The benign sets per family: the gateway's verdicts, the rules credited in-process
  const families = await benignFamilies(all, dbr.outcomes)

  const attackPick = (_s: string, cat: string, e: string) => e === 'block' && !REPORTED_APART.has(cat)
  const apartPick = (_s: string, cat: string, e: string) => e === 'block' && REPORTED_APART.has(cat)
  const benignPick = (s: string, _c: string, e: string) => s === 'benign' && e === 'pass'
  const fpPick = (s: string, _c: string, e: string) => s !== 'benign' && e === 'pass'
  const totals = runs.map((r) => {
    const attacks = sum(r.by, attackPick)
    const apart = sum(r.by, apartPick)
    const benign = sum(r.by, benignPick)
    const corpusPass = sum(r.by, fpPick)
    const rawSent = r.outcomes.filter((o) => o.raw).length
    return { name: r.name, paranoia: r.paranoia, sampled: r.sampled, seconds: Math.round(r.seconds), rawSent, attacks, openRedirect: apart, benign, corpusPass }
  })
  console.log('\n== totals ==')
  const w = 20
  for (const t of totals) {
    const a = t.attacks
    const b = t.benign
    console.log(
      `${(t.name + (t.sampled > 1 ? ` (1/${t.sampled})` : '')).padEnd(w)}` +
        `attacks stopped ${fmtPct(stoppedPct(a), 2)} (blocked ${fmtPct(blockedPct(a), 2)}, refused ${fmtPct(pct(a.refused, a), 2)}) of ${judged(a)}; ` +
        `open redirect stopped ${fmtPct(stoppedPct(t.openRedirect))} of ${judged(t.openRedirect)}; ` +
        `benign blocked ${fmtPct(pct(judged(b) - b.passed, b), 2)} (${judged(b) - b.passed} of ${judged(b)}); ` +
        `corpus pass-cases stopped ${judged(t.corpusPass) - t.corpusPass.passed} of ${judged(t.corpusPass)}; ` +
        `unsendable ${a.unsendable + t.openRedirect.unsendable + b.unsendable + t.corpusPass.unsendable}, errors ${a.error + b.error + t.openRedirect.error}, not run ${a['not-run'] + b['not-run']}, sent raw ${t.rawSent}; ${t.seconds} s`,
    )
  }

  const d = totals[0]!
  const attacksStopped = stoppedPct(d.attacks)
  const benignBlocked = pct(judged(d.benign) - d.benign.passed, d.benign)
  const met = {
    [`attack payloads stopped >= ${targets.attacksStopped}%`]: attacksStopped !== null && attacksStopped >= targets.attacksStopped,
    [`benign blocked <= ${targets.benignBlocked}%`]: benignBlocked !== null && benignBlocked <= targets.benignBlocked,
  }
  console.log(`\ntargets (Drawbridge, paranoia ${paranoia}):`)
  for (const [k, ok] of Object.entries(met)) console.log(`  ${ok ? 'met ' : 'MISS'}  ${k}`)

  // Benign answers other than the app's are the false positives: each one listed
  const fps = all.map((c, i) => ({ c, o: dbr.outcomes[i]! })).filter(({ c, o }) => c.expect === 'pass' && isMiss('pass', o.verdict))
  if (fps.length > 0) {
    // a few per category: the families table above has the counts, fp-report.js the details
    console.log(
      `\nDrawbridge false positives (${fps.length}; at most 3 per category; node dist/bench/efficacy/fp-report.js --family NAME for the rules and matches):`,
    )
    const shown = new Map<string, number>()
    let listed = 0
    for (const { c, o } of fps) {
      const k = `${c.source}/${c.category}`
      if ((shown.get(k) ?? 0) >= 3) continue
      shown.set(k, (shown.get(k) ?? 0) + 1)
      listed++
      console.log(`  ${c.source} ${c.category} ${c.id}: ${o.status} ${o.code ?? o.reason ?? ''}`)
    }
    if (fps.length > listed) console.log(`  ... ${fps.length - listed} more in bench/results/efficacy-misses.jsonl`)
  }
  const unsent = all.map((c, i) => ({ c, o: dbr.outcomes[i]! })).filter(({ o }) => o.verdict === 'unsendable')
  if (unsent.length > 0) {
    console.log(`\nunsendable (never sent, not counted; ${unsent.length}):`)
    const why = new Map<string, number>()
    for (const { o } of unsent) why.set(o.reason ?? '', (why.get(o.reason ?? '') ?? 0) + 1)
    for (const [k, n] of why) console.log(`  ${String(n).padStart(5)}  ${k}`)
  }

  // ---- files ----
  const resultsDir = join(root, 'bench/results')
  mkdirSync(resultsDir, { recursive: true })
  const misses = all
    .map((c, i) => ({ c, o: dbr.outcomes[i]! }))
    .filter(({ c, o }) => isMiss(c.expect, o.verdict))
    .map(({ c, o }) =>
      JSON.stringify({
        source: c.source,
        category: c.category,
        id: c.id,
        expect: c.expect,
        verdict: o.verdict,
        status: o.status,
        code: o.code,
        reason: o.reason,
        request: c.request,
      }),
    )
  writeFileSync(join(resultsDir, 'efficacy-misses.jsonl'), misses.length > 0 ? misses.join('\n') + '\n' : '')
  const table = (r: Run) => Object.fromEntries([...r.by].map(([k, c]) => [k.replace(/\t/g, '/'), c]))
  const seconds = Math.round((Date.now() - t0) / 1000)
  const out = {
    date: new Date().toISOString(),
    node: process.version,
    nginx: has('nginx') ? version('nginx', ['-v']) : null,
    modsecurity:
      msRuns.length > 0 ? { ...msVersions, rule_engine: 'On', sample_every: modsecSample, paranoia_levels: msRuns.map((r) => r.paranoia) } : { skipped },
    settings: {
      paranoia,
      concurrency,
      modsec_concurrency: modsecConcurrency,
      request_timeout_ms: requestTimeoutMs,
      drawbridge_sample_every: drawbridgeSample,
      only: only?.source ?? null,
      trusted_host: trustedHost,
    },
    cases: {
      total: hosted.cases.length,
      replayed: all.length,
      modsecurity: msCases.length,
      loader_skipped: loaderSkipped,
      host_rewritten: hosted.rewritten,
      host_rewritten_from: hosted.byHost,
    },
    totals: totals.map((t) => ({
      ...t,
      attacks_stopped_pct: stoppedPct(t.attacks),
      attacks_blocked_pct: blockedPct(t.attacks),
      open_redirect_stopped_pct: stoppedPct(t.openRedirect),
      benign_blocked_pct: pct(judged(t.benign) - t.benign.passed, t.benign),
    })),
    targets: met,
    by_category: Object.fromEntries(runs.map((r) => [r.name, table(r)])),
    benign_families: familiesJson(families, paranoia as 1 | 2 | 3 | 4),
    misses: misses.length,
    seconds,
  }
  writeFileSync(join(resultsDir, 'efficacy.json'), JSON.stringify(out, null, 2) + '\n')
  console.log(`\nresults in bench/results/efficacy.json; ${misses.length} Drawbridge misses in bench/results/efficacy-misses.jsonl; ${seconds} s`)
  if (keepLogs) console.log(`logs in ${dir}`)
  else {
    await cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
  return 0
}

main().then(
  async (code) => {
    await cleanup()
    process.exit(code)
  },
  async (e: unknown) => {
    console.error(`efficacy: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    await cleanup()
    // A bug in the runner, not a measurement
    process.exit(1)
  },
)
