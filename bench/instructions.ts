/**
 * `npm run bench:instructions`: instructions per request for the bare Node proxy and Drawbridge,
 * counted by valgrind's callgrind. Wall-clock numbers on a shared virtual machine drift by 20%
 * from run to run; instruction counts of the same build stay within a few percent, which is
 * what an A/B of one change needs. Each proxy runs under callgrind with counting off, gets a
 * fixed number of warm-up requests (its JIT settles), then counting goes on for a fixed number
 * of requests and the totals are read back. V8's compiler and code-logging work (background
 * threads under valgrind) are reported apart: they are start-up cost, not per-request cost.
 * Everything listens on 127.0.0.1; the request counts bound every run.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  benchDir,
  benchOrder,
  benchRequest,
  cleanup,
  drawbridgeArgs,
  drawbridgeConfig,
  freePort,
  has,
  installCleanup,
  nodeFlags,
  start,
  startStaticUpstream,
  stop,
  waitPort,
  type Child,
} from './servers.js'

const root = resolve(fileURLToPath(import.meta.url), '../../..')
const warmup = Number(process.env.BENCH_WARMUP_REQUESTS ?? 10_000)
const measured = Number(process.env.BENCH_REQUESTS ?? 2_000)
const connections = 16
const { path, clientHeaders, getBody, postAnswer } = benchRequest

/** V8's compiler, interpreter generation, parser and the code-event logging: not per-request work. */
const startupWork =
  /compiler::|interpreter::|baseline::|maglev::|Parser|Scanner|AstValue|Bytecode|Assembler|LogFile|StringStream|vfprintf|xsputn|SourcePosition|Zone|regexp::|RegExpCompiler|Deoptimizer|CodeGenerator/

/** Sums `callgrind_annotate` self counts: all, and without the start-up work above. */
export function sumAnnotate(text: string): { total: number; startup: number } {
  let total = 0
  let startup = 0
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line)
    if (m === null || line.includes('PROGRAM TOTALS')) continue
    const n = Number(m[1]!.replaceAll(',', ''))
    total += n
    if (startupWork.test(m[2]!)) startup += n
  }
  return { total, startup }
}

/** `count` requests over `connections` keep-alive connections; resolves with the non-200 count. */
function drive(port: number, count: number, body: string | null): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  const headers: Record<string, string> = { ...clientHeaders }
  if (body !== null) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) })
  let sent = 0
  let done = 0
  let bad = 0
  return new Promise((resolveAll) => {
    const finish = () => {
      if (++done === count) {
        agent.destroy()
        resolveAll(bad)
      } else one()
    }
    const one = () => {
      if (sent >= count) return
      sent++
      const req = request({ host: '127.0.0.1', port, path, method: body === null ? 'GET' : 'POST', headers, agent, timeout: 60_000 }, (res) => {
        if (res.statusCode !== 200) bad++
        res.resume()
        res.on('end', finish)
      })
      req.on('timeout', () => req.destroy(new Error('timeout')))
      req.on('error', () => {
        bad++
        finish()
      })
      req.end(body ?? undefined)
    }
    for (let i = 0; i < connections; i++) one()
  })
}

interface Count {
  perRequest: number
  startupPerRequest: number
}

async function measure(name: string, dir: string, args: string[], port: number, body: string | null): Promise<Count> {
  const out = join(dir, `callgrind.${name}.out`)
  // the bench's node flags (servers.ts), which also keep Drawbridge from relaunching itself
  // outside valgrind's view (valgrind follows no child process)
  const child: Child = start(name, dir, '0', 'valgrind', [
    '--tool=callgrind',
    '--instr-atstart=no',
    '--smc-check=all-non-file',
    `--callgrind-out-file=${out}`,
    process.execPath,
    ...nodeFlags,
    ...args,
  ])
  await waitPort(port, child, 120_000)
  const pid = String(child.proc.pid)
  const warmBad = await drive(port, warmup, body)
  if (warmBad > 0) throw new Error(`${name}: ${warmBad} of ${warmup} warm-up requests were not answered 200`)
  execFileSync('callgrind_control', ['-i', 'on', pid], { stdio: 'ignore' })
  const bad = await drive(port, measured, body)
  execFileSync('callgrind_control', ['-d', pid], { stdio: 'ignore' })
  await stop(child)
  if (bad > 0) throw new Error(`${name}: ${bad} of ${measured} requests were not answered 200`)
  const dump = `${out}.1`
  if (!existsSync(dump)) throw new Error(`${name}: callgrind wrote no dump (${dump})`)
  const text = spawnSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', dump], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout
  const { total, startup } = sumAnnotate(text)
  return { perRequest: (total - startup) / measured, startupPerRequest: startup / measured }
}

async function main(): Promise<number> {
  installCleanup('bench:instructions')
  const need = ['valgrind', 'callgrind_control', 'callgrind_annotate', 'nginx', 'taskset'].filter((b) => !has(b))
  if (need.length > 0) {
    console.error(`bench:instructions: missing ${need.join(', ')}. Install with:\n  apt-get update && apt-get install -y valgrind nginx`)
    return 1
  }
  if (!existsSync(join(root, 'dist/src/cli/main.js'))) throw new Error('dist/ is missing: run npm run build')
  const { dir, sub } = benchDir('drawbridge-instructions-')
  const { port: upPort } = await startStaticUpstream(sub('upstream'), '1', { path, getBody, postAnswer })
  const scenarios = [
    { name: 'GET small', body: null as string | null },
    { name: 'POST 1KB JSON', body: benchOrder() as string | null },
  ]
  console.log(`bench:instructions: callgrind, ${warmup} warm-up then ${measured} counted requests per run, ${connections} connections; a few minutes`)
  const bareProxy = (mode: string, port: number) => [join(root, 'dist/bench/bare-node-proxy.js'), String(port), `http://127.0.0.1:${upPort}`, mode]
  const count = (n: number) => Math.round(n).toLocaleString('en')
  for (const s of scenarios) {
    const barePort = await freePort()
    const bare = await measure('bare-node', sub('bare-node'), bareProxy('stream', barePort), barePort, s.body)
    // the floor: the bare proxy doing only the header work every proxied request needs (bare-node-proxy.ts)
    const floorPort = await freePort()
    const floor = await measure('bare-node-headers', sub('bare-node-headers'), bareProxy('headers', floorPort), floorPort, s.body)
    const db = drawbridgeConfig(sub('drawbridge'), {
      upstreamPort: upPort,
      port: await freePort(),
      adminPort: await freePort(),
      trustedHost: benchRequest.host,
      by: 'bench/instructions.ts: production defaults, access log on',
      settings: 'logging:\n  level: info\n  access_log: true\n',
    })
    const drawbridge = await measure('drawbridge', sub('drawbridge'), drawbridgeArgs(root, db.file), db.port, s.body)
    console.log(
      `  ${s.name.padEnd(15)} bare-node ${count(bare.perRequest)}   with the required headers ${count(floor.perRequest)} (ratio ${(bare.perRequest / floor.perRequest).toFixed(3)})` +
        `   drawbridge ${count(drawbridge.perRequest)} (ratio ${(bare.perRequest / drawbridge.perRequest).toFixed(3)})` +
        `   (compiler and logging apart: ${count(bare.startupPerRequest)} / ${count(floor.startupPerRequest)} / ${count(drawbridge.startupPerRequest)})`,
    )
  }
  console.log(
    'instructions per request, without V8 compiler work; each ratio is bare-node / that proxy (like the throughput ratio). ' +
      '"with the required headers": the bare proxy plus the request id, forwarded and security headers every answer needs',
  )
  await cleanup()
  rmSync(dir, { recursive: true, force: true })
  return 0
}

// Run as a script, not when a test imports sumAnnotate
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    async (code) => {
      await cleanup()
      process.exit(code)
    },
    async (e: unknown) => {
      console.error(`bench:instructions: ${e instanceof Error ? e.message : String(e)}`)
      await cleanup()
      process.exit(1)
    },
  )
}
