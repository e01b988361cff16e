/**
 * Shared by the benchmarks (`compare.ts`) and the efficacy run (`efficacy/run.ts`): child
 * processes in their own process groups with cleanup on every exit path, loopback ports, and the
 * nginx / nginx+ModSecurity+CRS configurations built from Debian's packages.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { once } from 'node:events'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'
import { gcFlag } from '../src/cli/relaunch.js'

export const modsecPaths = {
  module: '/usr/lib/nginx/modules/ngx_http_modsecurity_module.so',
  recommended: ['/etc/nginx/modsecurity.conf', '/usr/share/nginx/docs/modsecurity/modsecurity.conf'],
  unicode: ['/etc/nginx/unicode.mapping', '/usr/share/nginx/docs/modsecurity/unicode.mapping'],
  crsSetup: '/etc/modsecurity/crs/crs-setup.conf',
  crsBefore: '/etc/modsecurity/crs/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf',
  crsRules: '/usr/share/modsecurity-crs/rules',
  crsAfter: '/etc/modsecurity/crs/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf',
}

// ---- child processes: each in its own process group, so cleanup reaches nginx workers too ----

export interface Child {
  name: string
  proc: ChildProcess
  log: string
  exited: boolean
}
const children: Child[] = []
let stopping = false
// Prefix of this module's messages: the script that uses it ('bench', 'efficacy')
let label = 'bench'

/** Stops every child on exit, on a throw that skips the async cleanup, and on SIGINT/TERM/HUP. */
export function installCleanup(name: string): void {
  label = name
  // Last resort when the process exits without the async cleanup (a throw, process.exit)
  process.on('exit', () => {
    stopping = true
    for (const c of children) signalGroup(c, 'SIGKILL')
  })
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      console.error(`\n${label}: ${sig}, stopping children`)
      void cleanup().then(() => process.exit(sig === 'SIGINT' ? 130 : 143))
    })
  }
}

/** Starts `cmd` in `dir`, pinned to `cpu` with taskset when one is given; output goes to dir/stdout.log. */
export function start(name: string, dir: string, cpu: string | null, cmd: string, args: string[]): Child {
  const log = join(dir, 'stdout.log')
  const fd = openSync(log, 'a')
  const [file, argv] = cpu === null ? [cmd, args] : ['taskset', ['-c', cpu, cmd, ...args]]
  const proc = spawn(file, argv, { cwd: dir, stdio: ['ignore', fd, fd], detached: true })
  const child: Child = { name, proc, log, exited: false }
  proc.on('exit', (code, signal) => {
    child.exited = true
    if (!stopping) console.error(`${label}: ${name} exited early (${signal ?? code}); log: ${log}\n${tail(log)}`)
  })
  children.push(child)
  return child
}

function signalGroup(c: Child, sig: NodeJS.Signals): void {
  if (c.exited || c.proc.pid === undefined) return
  try {
    process.kill(-c.proc.pid, sig)
  } catch {
    // already gone
  }
}

/** Stops one child (and its process group) before the end of the run. */
export async function stop(c: Child): Promise<void> {
  if (c.exited) return
  // Expected from here on: not an "exited early"
  c.proc.removeAllListeners('exit')
  c.proc.once('exit', () => (c.exited = true))
  signalGroup(c, 'SIGTERM')
  const until = Date.now() + 5000
  while (!c.exited && Date.now() < until) await sleep(50)
  signalGroup(c, 'SIGKILL')
}

export async function cleanup(): Promise<void> {
  stopping = true
  for (const c of children) signalGroup(c, 'SIGTERM')
  const until = Date.now() + 5000
  while (children.some((c) => !c.exited) && Date.now() < until) await sleep(50)
  for (const c of children) signalGroup(c, 'SIGKILL')
}

// ---- helpers ----

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export function tail(file: string, lines = 10): string {
  try {
    return readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((l) => '    ' + l.slice(0, 300))
      .join('\n')
  } catch {
    return ''
  }
}

export function has(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0
}

export async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

export async function waitPort(port: number, child: Child, ms = 15_000): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until && !child.exited) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => (s.destroy(), r(true)))
      s.once('error', () => r(false))
    })
    if (ok) return
    await sleep(100)
  }
  throw new Error(`${child.name} is not listening on 127.0.0.1:${port}; log: ${child.log}\n${tail(child.log)}`)
}

// ---- nginx configurations ----

export function nginxConf(prefix: string, port: number, server: string, http = '', main = ''): string {
  const conf = join(prefix, 'nginx.conf')
  writeFileSync(
    conf,
    `${main}
daemon off;
master_process on;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  keepalive_requests 1000000;
  ${http}
  server {
    listen 127.0.0.1:${port};
    ${server}
  }
}
`,
  )
  return conf
}

export const proxyLocation = 'location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; }'
export const upstreamBlock = (port: number) => `upstream backend { server 127.0.0.1:${port}; keepalive 64; }`

/**
 * nginx + ModSecurity v3 + OWASP CRS from Debian's packages, or why it cannot run here.
 * `paranoia` sets CRS 3.x's `tx.paranoia_level` (CRS 4 renamed it `tx.blocking_paranoia_level`);
 * the executing level follows it.
 */
export function modsecConf(prefix: string, port: number, upstreamPort: number, paranoia = 1): { conf: string } | { skipped: string } {
  const install = 'apt-get install -y libnginx-mod-http-modsecurity modsecurity-crs'
  const recommended = modsecPaths.recommended.find(existsSync)
  const unicode = modsecPaths.unicode.find(existsSync)
  if (!existsSync(modsecPaths.module) || !recommended || !unicode) return { skipped: `ModSecurity nginx module not installed (${install})` }
  if (!existsSync(modsecPaths.crsSetup) || !existsSync(modsecPaths.crsRules)) return { skipped: `OWASP CRS not installed (${install})` }
  // Debian's recommended file with the engine blocking, and every path and lookup kept local
  const base = readFileSync(recommended, 'utf8')
    .replace(/^SecRuleEngine .*$/m, 'SecRuleEngine On')
    .replace(/^SecAuditLog .*$/m, `SecAuditLog ${prefix}/modsec_audit.log`)
    .replace(/^SecTmpDir .*$/m, `SecTmpDir ${prefix}/`)
    .replace(/^SecDataDir .*$/m, `SecDataDir ${prefix}/`)
    .replace(/^SecUnicodeMapFile \S+/m, `SecUnicodeMapFile ${unicode}`)
    .replace(/^SecStatusEngine .*$/m, 'SecStatusEngine Off')
  writeFileSync(join(prefix, 'modsecurity.conf'), base)
  // libmodsecurity 3.0 has no IncludeOptional: the CRS load file is spelled out
  const rules = [
    `Include ${prefix}/modsecurity.conf`,
    `Include ${modsecPaths.crsSetup}`,
    `SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=${paranoia}"`,
    // the methods a JSON API uses, as Drawbridge's runs allow them: PUT/PATCH/DELETE are not attacks
    `SecAction "id:900200,phase:1,nolog,pass,t:none,setvar:'tx.allowed_methods=GET HEAD POST OPTIONS PUT PATCH DELETE'"`,
    existsSync(modsecPaths.crsBefore) ? `Include ${modsecPaths.crsBefore}` : '',
    `Include ${modsecPaths.crsRules}/*.conf`,
    existsSync(modsecPaths.crsAfter) ? `Include ${modsecPaths.crsAfter}` : '',
  ]
  writeFileSync(join(prefix, 'main.conf'), rules.filter(Boolean).join('\n') + '\n')
  const conf = nginxConf(
    prefix,
    port,
    `modsecurity on;\n    modsecurity_rules_file ${prefix}/main.conf;\n    ${proxyLocation}`,
    upstreamBlock(upstreamPort),
    `load_module ${modsecPaths.module};`,
  )
  const test = spawnSync('nginx', ['-t', '-q', '-p', prefix, '-c', conf], { encoding: 'utf8', timeout: 60_000 })
  if (test.status !== 0) return { skipped: `nginx -t failed: ${(test.stderr || test.stdout).trim().split('\n').pop()}` }
  return { conf }
}

/** A fresh temporary folder for a benchmark's servers, and a maker of its sub-folders. */
export function benchDir(prefix: string): { dir: string; sub: (name: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return {
    dir,
    sub: (name) => {
      const d = join(dir, name)
      mkdirSync(d, { recursive: true })
      return d
    },
  }
}

/** What the load benchmarks send and the static upstream answers (client headers as a real browser sends them). */
export const benchRequest = Object.freeze({
  host: 'api.bench.local',
  path: '/api/items',
  clientHeaders: Object.freeze({
    Host: 'api.bench.local',
    'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    Accept: 'application/json',
    'Accept-Language': 'en-US,en;q=0.9',
  }),
  // ~100 bytes for GET; a small JSON answer for POST (ASCII only: nginx config strings)
  getBody: JSON.stringify({ id: 1, name: 'Widget', price: 9.99, tags: ['tools', 'home'], in_stock: true, updated: '2026-11-23T10:00:00Z' }),
  postAnswer: JSON.stringify({ ok: true, id: 4242, status: 'created' }),
})

/** The benchmarks' static upstream (nginx): reads and discards a POST body, answers small JSON. */
export async function startStaticUpstream(
  dir: string,
  cpu: string | null,
  o: { path: string; getBody: string; postAnswer: string },
): Promise<{ port: number; child: Child }> {
  const port = await freePort()
  const conf = nginxConf(
    dir,
    port,
    `client_body_buffer_size 64k;
    location = ${o.path} {
      default_type application/json;
      if ($request_method = POST) { return 200 '${o.postAnswer}'; }
      return 200 '${o.getBody}';
    }
    location / { return 404; }`,
  )
  const child = start('upstream', dir, cpu, 'nginx', ['-p', dir, '-c', conf])
  await waitPort(port, child)
  return { port, child }
}

// ---- Drawbridge and the payload shared by the load and engine benchmarks ----

/** The ~1 KB JSON order `npm run bench` POSTs and `npm run bench:engine` times (ASCII only: it goes into a Lua string). */
export function benchOrder(): string {
  const order = {
    customer: { id: 'c-81234', name: 'Jane Doe', email: 'jane.doe@example.com', locale: 'en-US' },
    shipping: { street: '742 Evergreen Terrace', city: 'Springfield', zip: '49007', country: 'US' },
    items: Array.from({ length: 6 }, (_, i) => ({ sku: `SKU-${1000 + i}`, name: `Item number ${i + 1}`, qty: i + 1, price: 12.5 + i })),
    note: '',
  }
  order.note = 'Please leave the parcel at the front door. '.repeat(30).slice(0, Math.max(0, 1024 - JSON.stringify(order).length))
  return JSON.stringify(order)
}

/** Writes a Drawbridge config for the benchmarks (production mode, one worker) into `dir`. */
export function drawbridgeConfig(
  dir: string,
  o: { upstreamPort: number; port: number; adminPort: number; trustedHost: string; settings: string; by: string },
): { file: string; port: number } {
  const file = join(dir, 'drawbridge.yaml')
  writeFileSync(
    file,
    `# generated by ${o.by}\nmode: production\nupstream: http://127.0.0.1:${o.upstreamPort}\nlisten: 127.0.0.1:${o.port}\nworkers: 1\n` +
      `trusted_hosts: [${o.trustedHost}]\nadmin:\n  listen: 127.0.0.1:${o.adminPort}\n${o.settings}`,
  )
  return { file, port: o.port }
}

/**
 * Node flags for both Node proxies (bare-node and Drawbridge). They run pinned to one core, where
 * `drawbridge start` relaunches itself under --single-threaded-gc (src/cli/relaunch.ts): both get
 * it here directly, so they run alike (and Drawbridge without the relaunching parent). More from
 * BENCH_NODE_FLAGS, to measure a runtime setting on equal terms.
 */
export const nodeFlags: string[] = [...new Set([gcFlag, ...(process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '')])]

/**
 * Drawbridge from this build (bin/drawbridge.js, one worker) in `dir`, in front of the upstream
 * on `upstreamPort`, with `settings` (YAML lines) after the listeners; returns its port.
 */
export async function startDrawbridge(
  root: string,
  dir: string,
  cpu: string | null,
  o: { upstreamPort: number; trustedHost: string; settings: string; by: string },
): Promise<{ child: Child; port: number }> {
  const { file, port } = drawbridgeConfig(dir, { ...o, port: await freePort(), adminPort: await freePort() })
  return { child: start('drawbridge', dir, cpu, process.execPath, [...nodeFlags, ...drawbridgeArgs(root, file)]), port }
}

/** `bin/drawbridge.js start` of this build with a config file, one worker (after node's own flags). */
export function drawbridgeArgs(root: string, configFile: string): string[] {
  return [join(root, 'bin/drawbridge.js'), 'start', '--config', configFile, '--workers', '1']
}

// ---- wrk ----

export function seconds(d: string): number {
  const m = /^(\d+)(s|m|h)?$/.exec(d)
  if (!m) throw new Error(`bench: durations are whole seconds, minutes or hours for wrk (got ${d})`)
  return Number(m[1]) * (m[2] === 'm' ? 60 : m[2] === 'h' ? 3600 : 1)
}

export interface WrkResult {
  rps: number
  requests: number
  p50ms: number
  p99ms: number
  non2xx: number
  socketErrors: string
}

function toMs(v: string, unit: string): number {
  const n = Number(v)
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n
}

/** `taskset ARGS` to its end, its output collected; killed 30 s past the `secs` it should take. */
async function runPinned(args: string[], secs: number): Promise<{ out: string; err: string }> {
  const proc = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  proc.stdout.on('data', (c: Buffer) => (out += c))
  proc.stderr.on('data', (c: Buffer) => (err += c))
  const kill = setTimeout(() => proc.kill('SIGKILL'), (secs + 30) * 1000)
  await once(proc, 'close')
  clearTimeout(kill)
  return { out, err }
}

/** One wrk run pinned to `cpu`, bounded by its duration (and killed 30 s past it). */
export async function runWrk(o: {
  cpu: string
  port: number
  path: string
  conns: number
  duration: string
  script: string | null
  headers: Record<string, string>
}): Promise<WrkResult> {
  const args = ['-c', o.cpu, 'wrk', '-t1', `-c${o.conns}`, `-d${o.duration}`, '--latency']
  for (const [k, v] of Object.entries(o.headers)) args.push('-H', `${k}: ${v}`)
  if (o.script) args.push('-s', o.script)
  args.push(`http://127.0.0.1:${o.port}${o.path}`)
  const { out, err } = await runPinned(args, seconds(o.duration))
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out)
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out)
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0)
  if (!rps) throw new Error(`wrk failed against port ${o.port}:\n${out}${err}`)
  return {
    rps,
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    p50ms: p50 ? toMs(p50[1]!, p50[2]!) : NaN,
    p99ms: p99 ? toMs(p99[1]!, p99[2]!) : NaN,
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
    socketErrors: /Socket errors:\s*([^\n]*)/.exec(out)?.[1]?.trim() ?? '',
  }
}

// ---- open-loop load (moderate-load latency) ----

export interface OpenLoopResult {
  /** Requests a second, sent on schedule (open-loop.ts). */
  rate: number
  sent: number
  ok: number
  errors: number
  /** Latencies in ms; null when some request was never answered. */
  p50ms: number | null
  p99ms: number | null
  p999ms: number | null
  maxms: number | null
}

/**
 * One open-loop run (open-loop.ts) pinned to `cpu`: `rate` GETs a second for `secs` seconds after
 * `warmupSecs` uncounted, bounded (the generator stops 5 s past its last send; killed 30 s past it).
 */
export async function runOpenLoop(o: {
  cpu: string
  port: number
  path: string
  rate: number
  secs: number
  warmupSecs: number
  headers: Record<string, string>
}): Promise<OpenLoopResult> {
  const script = fileURLToPath(new URL('./open-loop.js', import.meta.url))
  const args = ['-c', o.cpu, process.execPath, script, String(o.port), String(o.rate), String(o.secs), o.path, JSON.stringify(o.headers), String(o.warmupSecs)]
  const { out, err } = await runPinned(args, o.secs + o.warmupSecs)
  try {
    return { rate: o.rate, ...(JSON.parse(out) as Omit<OpenLoopResult, 'rate'>) }
  } catch {
    throw new Error(`open-loop load failed against port ${o.port}:\n${out}${err}`)
  }
}
