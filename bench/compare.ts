/**
 * `npm run bench`: Drawbridge (default protections, access log on) against a plain nginx reverse
 * proxy and a bare Node.js proxy, in one run on this machine, all on 127.0.0.1 only.
 * Proxies run on CPU 0; the static upstream (nginx) and the load generator (wrk) on CPU 1.
 * Prints requests/s and p50/p99 per scenario and the ratios from the same run, and writes
 * bench/results/latest.json. Every load loop is bounded by wrk's -d.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, mkdirSync, writeFileSync, openSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { once } from 'node:events'
import { tmpdir, cpus } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'

const root = resolve(fileURLToPath(import.meta.url), '../../..')
const duration = process.env.BENCH_DURATION ?? '5s'
const connections = process.env.BENCH_CONNECTIONS ?? '64'
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const host = 'api.bench.local'
const clientHeaders = [
  `Host: ${host}`,
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Accept: application/json',
  'Accept-Language: en-US,en;q=0.9',
]
const children: ChildProcess[] = []

function need(bin: string): void {
  if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) {
    console.error(`bench: ${bin} not found. Install: apt-get install -y nginx wrk util-linux`)
    process.exit(1)
  }
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

async function waitPort(port: number, ms = 15_000): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => (s.destroy(), r(true)))
      s.once('error', () => r(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`nothing listening on ${port}`)
}

function start(cpu: string, cmd: string, args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a')
  const child = spawn('taskset', ['-c', cpu, cmd, ...args], { stdio: ['ignore', fd, fd] })
  children.push(child)
  return child
}

function nginxConf(dir: string, name: string, port: number, body: string, httpExtra = ''): string {
  const prefix = join(dir, name)
  mkdirSync(prefix, { recursive: true })
  const conf = join(prefix, 'nginx.conf')
  writeFileSync(
    conf,
    `daemon off; master_process on; worker_processes 1; pid ${prefix}/nginx.pid; error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fcgi;
  uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  client_body_buffer_size 64k;
  keepalive_requests 100000;
  ${httpExtra}
  server { listen 127.0.0.1:${port}; ${body} }
}
`,
  )
  return conf
}

interface Result {
  rps: number
  p50ms: number
  p99ms: number
  non2xx: number
  errors: string
}

function ms(v: string, unit: string): number {
  const n = Number(v)
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n
}

function wrk(url: string, conns: string, dur: string, script: string | null): Result {
  const args = ['-c', '1', 'wrk', '-t1', `-c${conns}`, `-d${dur}`, '--latency']
  for (const h of clientHeaders) args.push('-H', h)
  if (script) args.push('-s', script)
  args.push(url)
  const out = spawnSync('taskset', args, { encoding: 'utf8', timeout: 120_000 }).stdout
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0)
  const p50 = /\s50%\s+([\d.]+)(us|ms|s)/.exec(out)
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out)
  return {
    rps,
    p50ms: p50 ? ms(p50[1]!, p50[2]!) : NaN,
    p99ms: p99 ? ms(p99[1]!, p99[2]!) : NaN,
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
    errors: /Socket errors:[^\n]*/.exec(out)?.[0] ?? '',
  }
}

async function main(): Promise<void> {
  for (const b of ['nginx', 'wrk', 'taskset']) need(b)
  if (cpus().length < 2) console.warn('bench: fewer than 2 CPUs; pinning cannot separate servers and load')
  const dir = mkdtempSync(join(tmpdir(), 'drawbridge-bench-'))
  const json100 = JSON.stringify({ id: 1, name: 'Widget', price: 9.99, tags: ['a', 'b'], in_stock: true, updated: '2026-11-23T10:00:00Z' })
  const postScript = join(dir, 'post.lua')
  const body = JSON.stringify({ name: 'Jane O\'Brien', email: 'jane@example.com', note: 'x'.repeat(900), items: [1, 2, 3] })
  writeFileSync(postScript, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`)

  const up = await freePort()
  start('1', 'nginx', ['-p', join(dir, 'upstream'), '-c', nginxConf(dir, 'upstream', up, `location / { default_type application/json; return 200 '${json100}'; }`)], join(dir, 'upstream.log'))
  await waitPort(up)

  const proxies: { name: string; port: number }[] = []
  const nginxPort = await freePort()
  start('0', 'nginx', ['-p', join(dir, 'proxy'), '-c', nginxConf(dir, 'proxy', nginxPort, 'location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; }', `upstream backend { server 127.0.0.1:${up}; keepalive 64; }`)], join(dir, 'proxy.log'))
  proxies.push({ name: 'nginx', port: nginxPort })

  const barePort = await freePort()
  start('0', process.execPath, [join(root, 'dist/bench/bare-node-proxy.js'), String(barePort), `http://127.0.0.1:${up}`], join(dir, 'bare.log'))
  proxies.push({ name: 'bare-node', port: barePort })

  const dbPort = await freePort()
  const adminPort = await freePort()
  const cfg = join(dir, 'drawbridge.yaml')
  writeFileSync(cfg, `upstream: http://127.0.0.1:${up}\nlisten: 127.0.0.1:${dbPort}\nmode: production\nworkers: 1\ntrusted_hosts: [${host}]\nadmin: { listen: 127.0.0.1:${adminPort} }\n`)
  start('0', process.execPath, [join(root, 'bin/drawbridge.js'), 'start', '--config', cfg], join(dir, 'drawbridge.log'))
  proxies.push({ name: 'drawbridge', port: dbPort })
  for (const p of proxies) await waitPort(p.port)

  // Rounds interleave the proxies (A B C, A B C, ...) and each cell reports the median round:
  // on a shared or virtual machine the speed drifts, and the ratios must come from the same moments.
  const results: Record<string, Record<string, Result>> = {}
  const scenarios = [
    { name: 'GET small', script: null as string | null },
    { name: 'POST 1KB JSON', script: postScript },
  ]
  for (const p of proxies) {
    wrk(`http://127.0.0.1:${p.port}/api/items`, connections, '3s', null) // warm-up (JIT, pools)
    wrk(`http://127.0.0.1:${p.port}/api/items`, connections, '2s', postScript)
    results[p.name] = {}
  }
  for (const s of scenarios) {
    const runs: Record<string, Result[]> = {}
    for (let round = 0; round < rounds; round++) {
      for (const p of proxies) {
        const r = wrk(`http://127.0.0.1:${p.port}/api/items`, connections, duration, s.script)
        ;(runs[p.name] ??= []).push(r)
        process.stderr.write(`bench: round ${round + 1}/${rounds} ${p.name} ${s.name}: ${r.rps.toFixed(0)} req/s\n`)
      }
    }
    for (const p of proxies) {
      const sorted = runs[p.name]!.sort((x, y) => x.rps - y.rps)
      results[p.name]![s.name] = sorted[Math.floor(sorted.length / 2)]!
    }
  }
  // Moderate load: one connection, one request at a time; added latency = proxy p99 - direct p99.
  const moderate: Record<string, Result> = {}
  moderate['direct'] = wrk(`http://127.0.0.1:${up}/api/items`, '1', '5s', null)
  for (const p of proxies) moderate[p.name] = wrk(`http://127.0.0.1:${p.port}/api/items`, '1', '5s', null)

  const pad = (s: string, n: number) => s.padEnd(n)
  console.log(`\n${pad('proxy', 12)}${pad('scenario', 16)}${pad('req/s', 10)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}`)
  for (const [name, byScenario] of Object.entries(results)) {
    for (const [s, r] of Object.entries(byScenario)) {
      const warn = r.non2xx > 0 ? `  WARNING: ${r.non2xx} non-2xx responses` : ''
      console.log(`${pad(name, 12)}${pad(s, 16)}${pad(r.rps.toFixed(0), 10)}${pad(r.p50ms.toFixed(2), 9)}${pad(r.p99ms.toFixed(2), 9)}${warn}${r.errors ? '  ' + r.errors : ''}`)
    }
  }
  const ratios: Record<string, Record<string, number>> = {}
  console.log('\nratios (same run):')
  for (const s of scenarios) {
    const d = results['drawbridge']![s.name]!.rps
    ratios[s.name] = { 'drawbridge/bare-node': d / results['bare-node']![s.name]!.rps, 'drawbridge/nginx': d / results['nginx']![s.name]!.rps }
    console.log(`  ${pad(s.name, 16)} drawbridge/bare-node ${ratios[s.name]!['drawbridge/bare-node']!.toFixed(2)}   drawbridge/nginx ${ratios[s.name]!['drawbridge/nginx']!.toFixed(2)}`)
  }
  console.log(`\nmoderate load (wrk -c1: one request at a time, GET): p99 direct ${moderate['direct']!.p99ms.toFixed(2)} ms`)
  const added: Record<string, number> = {}
  for (const p of proxies) {
    added[p.name] = moderate[p.name]!.p99ms - moderate['direct']!.p99ms
    console.log(`  ${pad(p.name, 12)} p99 ${moderate[p.name]!.p99ms.toFixed(2)} ms, added ${added[p.name]!.toFixed(2)} ms`)
  }
  const nginxVersion = spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim()
  mkdirSync(join(root, 'bench/results'), { recursive: true })
  writeFileSync(
    join(root, 'bench/results/latest.json'),
    JSON.stringify({ date: new Date().toISOString(), node: process.version, nginx: nginxVersion, wrk: { threads: 1, connections, duration, rounds }, results, ratios, moderate, added_p99_ms: added }, null, 2),
  )
  console.log(`\nlogs in ${dir}; results in bench/results/latest.json`)
}

function cleanup(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM')
}
process.on('SIGINT', () => (cleanup(), process.exit(130)))
process.on('SIGTERM', () => (cleanup(), process.exit(143)))
main().then(
  () => (cleanup(), setTimeout(() => process.exit(0), 300)),
  (e) => (console.error(e), cleanup(), setTimeout(() => process.exit(1), 300)),
)
