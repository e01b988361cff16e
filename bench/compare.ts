/**
 * `npm run bench`: Drawbridge (default protections, access log on) against a plain nginx reverse
 * proxy, a bare Node.js proxy and, when its Debian packages are installed, nginx+ModSecurity+CRS,
 * in one run on this machine. Everything listens on 127.0.0.1 and every wrk run is bounded by -d.
 * Proxies run on CPU 0; the static upstream (nginx) and the load generators (wrk, open-loop.ts) on CPU 1.
 * Prints requests/s and p50/p99 per scenario, the ratios from the same run and the p99 latency
 * each proxy adds at moderate load (an open-loop GET rate of a quarter of the bare Node proxy's
 * throughput, open-loop.ts), and writes bench/results/latest.json.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { cpus } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  benchDir,
  benchOrder,
  benchRequest,
  cleanup,
  freePort,
  has,
  installCleanup,
  modsecConf,
  nginxConf,
  nodeFlags,
  proxyLocation,
  runOpenLoop,
  runWrk,
  seconds,
  start,
  startDrawbridge,
  startStaticUpstream,
  upstreamBlock,
  waitPort,
  type Child,
  type OpenLoopResult,
  type WrkResult as Result,
} from './servers.js'

const root = resolve(fileURLToPath(import.meta.url), '../../..')
const duration = process.env.BENCH_DURATION ?? '5s'
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64)
// Rounds interleave the proxies; each cell reports the median round (a VM's speed drifts over a run).
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3))
const warmup = process.env.BENCH_WARMUP ?? '2s'
// Moderate load: this share of the bare Node proxy's GET throughput (median round), sent on a
// fixed schedule. `wrk -c4` (closed-loop) would keep a one-core proxy 100% busy: full load.
const moderateShare = Number(process.env.BENCH_MODERATE_SHARE ?? 0.25)
const moderateDuration = process.env.BENCH_MODERATE_DURATION ?? '5s'
const moderateWarmup = 1
const keepLogs = process.env.BENCH_KEEP_LOGS === '1'
const { host, path, clientHeaders, getBody, postAnswer } = benchRequest
const proxyCpu = '0'
const loadCpu = cpus().length > 1 ? '1' : '0'

installCleanup('bench')

// ---- helpers ----

interface Probe {
  status: number
  body: string
}

function probe(port: number, method: 'GET' | 'POST', body?: string): Promise<Probe> {
  return new Promise((res) => {
    const headers: Record<string, string> = { ...clientHeaders }
    if (body !== undefined) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) })
    const req = request({ host: '127.0.0.1', port, path, method, headers, timeout: 5000 }, (r) => {
      let text = ''
      r.setEncoding('utf8')
      r.on('data', (c: string) => (text += c))
      r.on('end', () => res({ status: r.statusCode ?? 0, body: text }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', (e) => res({ status: 0, body: String(e) }))
    req.end(body)
  })
}

// ---- wrk ----

const wrk = (port: number, conns: number, dur: string, script: string | null): Promise<Result> =>
  runWrk({ cpu: loadCpu, port, path, conns, duration: dur, script, headers: clientHeaders })

/** The middle item by `key` (the lower middle of an even count): a round's cell, ratio or p99 run. */
function medianBy<T>(xs: readonly T[], key: (x: T) => number): T {
  return [...xs].sort((a, b) => key(a) - key(b))[Math.floor((xs.length - 1) / 2)]!
}

// ---- the run ----

interface Target {
  name: string
  port: number
  child: Child
}

const need = ['nginx', 'wrk', 'taskset'].filter((b) => !has(b))
if (need.length > 0) {
  console.error(`bench: missing ${need.join(', ')}. Install with:\n  apt-get update && apt-get install -y nginx wrk\n(taskset is in util-linux)`)
  process.exit(1)
}

async function main(): Promise<number> {
  if (!existsSync(join(root, 'dist/src/cli/main.js'))) throw new Error('dist/ is missing: run npm run build')
  if (cpus().length < 2) console.warn('bench: WARNING fewer than 2 CPUs: proxies, upstream and wrk share CPU 0')
  const { dir, sub } = benchDir('drawbridge-bench-')

  // a 1 KB JSON order for POST (ASCII only: it goes into a Lua string)
  const postBody = benchOrder()
  const postScript = join(dir, 'post.lua')
  writeFileSync(postScript, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(postBody)}\nwrk.headers["Content-Type"] = "application/json"\n`)

  const { port: upPort } = await startStaticUpstream(sub('upstream'), loadCpu, { path, getBody, postAnswer })

  const targets: Target[] = []
  const skipped: Record<string, string> = {}

  const barePort = await freePort()
  const bareDir = sub('bare-node')
  const bare = start('bare-node', bareDir, proxyCpu, process.execPath, [
    ...nodeFlags,
    join(root, 'dist/bench/bare-node-proxy.js'),
    String(barePort),
    `http://127.0.0.1:${upPort}`,
  ])
  targets.push({ name: 'bare-node', port: barePort, child: bare })

  const db = await startDrawbridge(root, sub('drawbridge'), proxyCpu, {
    upstreamPort: upPort,
    trustedHost: host,
    by: 'bench/compare.ts: production defaults, access log on',
    settings: 'logging:\n  level: info\n  access_log: true\n',
  })
  targets.push({ name: 'drawbridge', port: db.port, child: db.child })

  const ngPort = await freePort()
  const ngDir = sub('nginx')
  const ngConf = nginxConf(ngDir, ngPort, proxyLocation, upstreamBlock(upPort))
  targets.push({ name: 'nginx', port: ngPort, child: start('nginx', ngDir, proxyCpu, 'nginx', ['-p', ngDir, '-c', ngConf]) })

  const msPort = await freePort()
  const msDir = sub('nginx-modsecurity')
  const ms = modsecConf(msDir, msPort, upPort)
  if ('conf' in ms) {
    targets.push({ name: 'nginx+modsecurity+crs', port: msPort, child: start('nginx+modsecurity+crs', msDir, proxyCpu, 'nginx', ['-p', msDir, '-c', ms.conf]) })
  } else {
    skipped['nginx+modsecurity+crs'] = ms.skipped
    console.log(`bench: nginx+modsecurity+crs skipped: ${ms.skipped}`)
  }
  for (const t of targets) await waitPort(t.port, t.child)

  // Every server must answer 200 to both benchmark requests, or the numbers measure refusals
  const warnings: string[] = []
  for (const t of [{ name: 'upstream (direct)', port: upPort }, ...targets]) {
    for (const [method, body] of [
      ['GET', undefined],
      ['POST', postBody],
    ] as const) {
      const r = await probe(t.port, method, body)
      if (r.status !== 200) warnings.push(`${t.name}: ${method} ${path} answered ${r.status}: ${r.body.slice(0, 200)}`)
    }
  }
  const refused = warnings.length > 0
  for (const w of warnings) console.error(`\n!!! bench: WARNING ${w}`)

  const scenarios = [
    { name: 'GET small', script: null as string | null },
    { name: 'POST 1KB JSON', script: postScript as string | null },
  ]
  const perModerate = moderateWarmup + seconds(moderateDuration)
  const perTarget = 2 * seconds(warmup) + scenarios.length * rounds * seconds(duration) + rounds * perModerate
  const estimate = targets.length * perTarget + rounds * perModerate
  console.log(
    `bench: ${targets.map((t) => t.name).join(', ')}; wrk -t1 -c${connections} -d${duration} x ${rounds} round(s); proxies on CPU ${proxyCpu}, upstream and wrk on CPU ${loadCpu}; node ${nodeFlags.join(' ')} for both Node proxies; about ${Math.round(estimate / 10) * 10} s`,
  )

  // Warm-up: JIT, pools, keep-alive connections
  for (const t of targets) for (const s of scenarios) await wrk(t.port, connections, warmup, s.script)

  // With several rounds the proxies interleave (A B C, A B C, ...) and each cell is the median
  // round: a virtual machine's speed drifts, and the ratios must come from the same moments.
  const runs: Record<string, Record<string, Result[]>> = {}
  for (let round = 0; round < rounds; round++) {
    for (const s of scenarios) {
      for (const t of targets) {
        const r = await wrk(t.port, connections, duration, s.script)
        ;((runs[t.name] ??= {})[s.name] ??= []).push(r)
        process.stderr.write(`bench: ${rounds > 1 ? `round ${round + 1}/${rounds} ` : ''}${t.name} ${s.name}: ${r.rps.toFixed(0)} req/s\n`)
      }
    }
  }
  const results: Record<string, Record<string, Result>> = {}
  for (const t of targets) {
    results[t.name] = {}
    for (const s of scenarios) results[t.name]![s.name] = medianBy(runs[t.name]![s.name]!, (r) => r.rps)
  }

  // Moderate load: the p99 each proxy adds over hitting the upstream directly, at the same
  // open-loop rate (a quarter of the bare Node proxy's capacity: every proxy here but
  // nginx+ModSecurity has room to spare). Rounds here too (the run with the median p99 of each):
  // one pause of the virtual machine in a single 5 s run decides a p99.
  const capacity = results['bare-node']?.['GET small']?.rps ?? results['drawbridge']!['GET small']!.rps
  const moderateRate = Math.max(100, Math.round((capacity * moderateShare) / 100) * 100)
  const moderateTargets = targets.filter((t) => t.name !== 'nginx+modsecurity+crs')
  const openLoop = (port: number) =>
    runOpenLoop({ cpu: loadCpu, port, path, rate: moderateRate, secs: seconds(moderateDuration), warmupSecs: moderateWarmup, headers: clientHeaders })
  const moderateRuns: Record<string, OpenLoopResult[]> = {}
  for (let round = 0; round < rounds; round++) {
    ;(moderateRuns['direct'] ??= []).push(await openLoop(upPort))
    for (const t of moderateTargets) (moderateRuns[t.name] ??= []).push(await openLoop(t.port))
  }
  const moderate: Record<string, OpenLoopResult> = {}
  // unanswered requests (null) sort last
  for (const [name, rs] of Object.entries(moderateRuns)) moderate[name] = medianBy(rs, (r) => r.p99ms ?? Infinity)
  const added: Record<string, { p50ms: number; p99ms: number }> = {}
  for (const t of moderateTargets) {
    const diff = (k: 'p50ms' | 'p99ms') => Math.round(((moderate[t.name]![k] ?? Infinity) - (moderate['direct']![k] ?? Infinity)) * 1000) / 1000
    added[t.name] = { p50ms: diff('p50ms'), p99ms: diff('p99ms') }
  }

  // ---- report ----
  const bad = (r: Result) => r.non2xx > 0 || r.socketErrors !== ''
  const flag = (name: string, r: Result) => {
    const parts: string[] = []
    if (r.non2xx > 0) parts.push(`!!! ${r.non2xx} NON-2xx RESPONSES: this row measures refusals, not proxying`)
    if (r.socketErrors) parts.push(`socket errors: ${r.socketErrors}`)
    if (parts.length) warnings.push(`${name}: ${parts.join('; ')}`)
    return parts.length ? '  ' + parts.join('; ') : ''
  }
  const w = Math.max(...targets.map((t) => t.name.length), 8) + 2
  const line = (...cols: [string, number][]) => cols.map(([s, n]) => s.padEnd(n)).join('')
  console.log(`\n${line(['proxy', w], ['scenario', 16], ['req/s', 10], ['p50 ms', 9], ['p99 ms', 9])}`)
  for (const t of targets) {
    for (const s of scenarios) {
      const r = results[t.name]![s.name]!
      console.log(line([t.name, w], [s.name, 16], [r.rps.toFixed(0), 10], [r.p50ms.toFixed(2), 9], [r.p99ms.toFixed(2), 9]) + flag(`${t.name} ${s.name}`, r))
    }
  }

  // Each ratio is the median of the per-round ratios: within a round the proxies ran seconds
  // apart, so a round's ratio is free of the machine's drift between rounds (a ratio of the
  // separate medians could pair a fast round of one proxy with a slow round of the other).
  const ratios: Record<string, Record<string, number>> = {}
  console.log(`\nthroughput ratios (same run${rounds > 1 ? `, median of the ${rounds} rounds' ratios` : ''}):`)
  for (const s of scenarios) {
    const d = runs['drawbridge']![s.name]!
    ratios[s.name] = {}
    for (const ref of targets.filter((t) => t.name !== 'drawbridge')) {
      const r = runs[ref.name]![s.name]!
      ratios[s.name]![`drawbridge/${ref.name}`] = medianBy(
        d.map((x, i) => x.rps / r[i]!.rps),
        (x) => x,
      )
    }
    console.log(
      `  ${s.name.padEnd(16)}${Object.entries(ratios[s.name]!)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join('   ')}`,
    )
  }

  const inMs = (x: number | null) => (x === null ? 'unanswered' : `${x.toFixed(2)} ms`)
  const flagMissing = (name: string, r: OpenLoopResult) => {
    if (r.errors === 0) return ''
    const why = `${name} moderate: ${r.errors} of ${r.sent} requests failed or were not answered`
    warnings.push(why)
    return '  !!! ' + why
  }
  const d0 = moderate['direct']!
  console.log(
    `\nmoderate load (open loop, ${moderateRate} GET/s = ${moderateShare} x bare-node's throughput, ${moderateDuration} after ${moderateWarmup} s uncounted${rounds > 1 ? `, the median-p99 run of ${rounds}` : ''}): direct p50 ${inMs(d0.p50ms)}, p99 ${inMs(d0.p99ms)}` +
      flagMissing('direct', d0),
  )
  for (const t of moderateTargets) {
    const m = moderate[t.name]!
    console.log(
      `  ${t.name.padEnd(w)}p50 ${inMs(m.p50ms)}, p99 ${inMs(m.p99ms)}, p99.9 ${inMs(m.p999ms)}, added p99 ${added[t.name]!.p99ms.toFixed(2)} ms` +
        flagMissing(t.name, m),
    )
  }

  const targetsMet: Record<string, boolean> = {}
  const worst = (ref: string) => Math.min(...scenarios.map((s) => ratios[s.name]![`drawbridge/${ref}`] ?? NaN))
  targetsMet['throughput >= 0.8x bare-node'] = worst('bare-node') >= 0.8
  targetsMet['added p99 < 2 ms at moderate load'] = added['drawbridge']!.p99ms < 2
  if (results['nginx+modsecurity+crs']) targetsMet['throughput >= 10x nginx+modsecurity+crs'] = worst('nginx+modsecurity+crs') >= 10
  console.log('\ntargets:')
  for (const [k, ok] of Object.entries(targetsMet)) console.log(`  ${ok ? 'met ' : 'MISS'}  ${k}`)
  for (const [k, why] of Object.entries(skipped)) console.log(`  skip  ${k}: ${why}`)
  if (Object.values(results).some((byS) => Object.values(byS).some(bad)))
    console.error('\n!!! bench: some rows had non-2xx answers or socket errors; see above')

  const version = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' })
    return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? ''
  }
  const dpkg = (pkg: string) => (has('dpkg-query') ? version('dpkg-query', ['-W', '-f=${Version}', pkg]) : '')
  mkdirSync(join(root, 'bench/results'), { recursive: true })
  const out = {
    date: new Date().toISOString(),
    node: process.version,
    nginx: version('nginx', ['-v']),
    wrk: version('wrk', ['-v']),
    modsecurity: results['nginx+modsecurity+crs']
      ? { libmodsecurity3: dpkg('libmodsecurity3'), crs: dpkg('modsecurity-crs'), paranoia_level: 1, rule_engine: 'On' }
      : { skipped: skipped['nginx+modsecurity+crs'] },
    settings: {
      threads: 1,
      connections,
      duration,
      rounds,
      warmup,
      moderate: { open_loop_rate: moderateRate, share_of_bare_node: moderateShare, duration: moderateDuration, warmup_s: moderateWarmup },
      proxy_cpu: proxyCpu,
      load_cpu: loadCpu,
      cpus: cpus().length,
      node_flags: nodeFlags,
    },
    request: { host, path, headers: clientHeaders, get_answer_bytes: getBody.length, post_body_bytes: postBody.length },
    results,
    rounds: rounds > 1 ? runs : undefined,
    ratios,
    moderate,
    added_ms: added,
    targets: targetsMet,
    warnings,
    logs: keepLogs || warnings.length > 0 ? dir : null,
  }
  writeFileSync(join(root, 'bench/results/latest.json'), JSON.stringify(out, null, 2) + '\n')
  const invalid = refused || Object.values(results).some((byS) => Object.values(byS).some((r) => r.non2xx > 0))
  // The access log alone is ~100 MB a run: kept only when something needs looking at
  if (keepLogs || warnings.length > 0) console.log(`\nlogs in ${dir}; results in bench/results/latest.json`)
  else {
    await cleanup()
    rmSync(dir, { recursive: true, force: true })
    console.log("\nresults in bench/results/latest.json (BENCH_KEEP_LOGS=1 keeps the servers' logs)")
  }
  return invalid ? 2 : 0
}

main().then(
  async (code) => {
    await cleanup()
    process.exit(code)
  },
  async (e: unknown) => {
    console.error(`bench: ${e instanceof Error ? e.message : String(e)}`)
    await cleanup()
    process.exit(1)
  },
)
