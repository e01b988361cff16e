/**
 * `npm run bench:instances`: two Drawbridge instances sharing one Redis, each under
 * its own wrk, in front of one static nginx upstream. Everything on 127.0.0.1; every wrk run is
 * bounded by its duration. Three phases, same machine, same run:
 * 1. memory: each instance counts a generous rate limit in its own memory (the reference);
 * 2. redis: the same rule counted in Redis: throughput and p99 next to phase 1 (the cost of a
 *    shared counter per request);
 * 3. accuracy: a `key: ip, limit: N/minute` rule counted in Redis, both instances hammered from
 *    one client IP for less than the window: the requests allowed across both, against N.
 * Instances on CPU 0; upstream, Redis and both wrk on CPU 1. Writes bench/results/instances.json.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { cpus } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  benchDir,
  benchRequest,
  cleanup,
  freePort,
  has,
  installCleanup,
  runWrk,
  seconds,
  start,
  startDrawbridge,
  startStaticUpstream,
  stop,
  waitPort,
  type WrkResult,
} from './servers.js'

const root = resolve(fileURLToPath(import.meta.url), '../../..')
const duration = process.env.BENCH_DURATION ?? '10s'
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32)
const warmup = process.env.BENCH_WARMUP ?? '2s'
const limit = Number(process.env.BENCH_LIMIT ?? 5000)
const keepLogs = process.env.BENCH_KEEP_LOGS === '1'
const host = 'api.bench.local'
const path = '/api/items'
const headers = { Host: host, 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) bench', Accept: 'application/json' }
const proxyCpu = '0'
const loadCpu = cpus().length > 1 ? '1' : '0'

installCleanup('bench:instances')

function get(port: number): Promise<number> {
  return new Promise((res) => {
    const req = request({ host: '127.0.0.1', port, path, headers, timeout: 5000 }, (r) => {
      r.resume()
      r.on('end', () => res(r.statusCode ?? 0))
    })
    req.on('error', () => res(0))
    req.end()
  })
}

async function main(): Promise<number> {
  const need = ['nginx', 'wrk', 'taskset', 'redis-server'].filter((b) => !has(b))
  if (need.length > 0) {
    console.error(`bench:instances: missing ${need.join(', ')}. Install with:\n  apt-get update && apt-get install -y nginx wrk redis-server`)
    return 1
  }
  if (seconds(duration) >= 60) throw new Error('bench:instances: BENCH_DURATION must stay under the one-minute window of the accuracy phase')
  const { dir, sub } = benchDir('drawbridge-bench-instances-')
  try {
    // GETs only here: the POST answer is never asked for
    const { port: upPort } = await startStaticUpstream(sub('upstream'), loadCpu, {
      path,
      getBody: '{"id":1,"name":"Widget"}',
      postAnswer: benchRequest.postAnswer,
    })
    const redisPort = await freePort()
    const redis = start('redis', sub('redis'), loadCpu, 'redis-server', [
      '--port',
      String(redisPort),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ])
    await waitPort(redisPort, redis)

    const phase = async (name: string, settings: string): Promise<{ a: WrkResult; b: WrkResult; probes: number }> => {
      const instances = await Promise.all(
        ['a', 'b'].map((i) =>
          startDrawbridge(root, sub(`${name}-${i}`), proxyCpu, { upstreamPort: upPort, trustedHost: host, by: `bench/instances.ts (${name})`, settings }),
        ),
      )
      for (const i of instances) await waitPort(i.port, i.child)
      let probes = 0
      for (const i of instances) {
        const status = await get(i.port)
        probes++
        if (status !== 200) throw new Error(`${name}: instance on ${i.port} answered ${status}, not 200`)
      }
      if (name !== 'accuracy')
        await Promise.all(instances.map((i) => runWrk({ cpu: loadCpu, port: i.port, path, conns: connections, duration: warmup, script: null, headers })))
      const [a, b] = await Promise.all(instances.map((i) => runWrk({ cpu: loadCpu, port: i.port, path, conns: connections, duration, script: null, headers })))
      // drained and gone before the next phase (stop(): expected, not an "exited early")
      await Promise.all(instances.map((i) => stop(i.child)))
      return { a: a!, b: b!, probes }
    }

    const quiet = 'logging:\n  level: warn\n  access_log: false\n'
    // The URL is a secret reference like every connection string; the children inherit the variable.
    process.env.BENCH_REDIS_URL = `redis://127.0.0.1:${redisPort}`
    const redisStore = 'storage:\n  redis:\n    url: { from_env: BENCH_REDIS_URL }\n    key_prefix: "bench:"\n'
    const generous = 'rate_limits:\n  - { name: all, key: ip, limit: 999999999/hour }\n'
    console.log(
      `bench:instances: 2 instances (CPU ${proxyCpu}), wrk -t1 -c${connections} -d${duration} on each (CPU ${loadCpu}), redis-server and nginx upstream on CPU ${loadCpu}`,
    )
    const memory = await phase('memory', quiet + generous)
    const shared = await phase('redis', quiet + generous + redisStore)
    const accuracy = await phase('accuracy', quiet + redisStore + `rate_limits:\n  - { name: login, key: ip, limit: ${limit}/minute }\n`)

    const total = (r: { a: WrkResult; b: WrkResult }) => r.a.rps + r.b.rps
    const allowed = accuracy.a.requests - accuracy.a.non2xx + accuracy.b.requests - accuracy.b.non2xx + accuracy.probes
    const error = (allowed - limit) / limit
    const row = (n: string, r: { a: WrkResult; b: WrkResult }) =>
      `${n.padEnd(10)} ${total(r).toFixed(0).padStart(8)} req/s   p99 ${Math.max(r.a.p99ms, r.b.p99ms).toFixed(2).padStart(6)} ms   non-2xx ${r.a.non2xx + r.b.non2xx}`
    console.log('\nthroughput (both instances together)')
    console.log(row('memory', memory))
    console.log(row('redis', shared))
    console.log(`ratio redis/memory: ${(total(shared) / total(memory)).toFixed(2)}`)
    console.log(`\nlimit accuracy: ${limit}/minute for one client IP over both instances for ${duration}`)
    console.log(
      `  allowed ${allowed} of ${accuracy.a.requests + accuracy.b.requests + accuracy.probes} requests: ${error >= 0 ? '+' : ''}${(error * 100).toFixed(2)}% from the limit (${Math.abs(error) <= 0.02 ? 'within 2%' : 'OUTSIDE 2%'})`,
    )
    const out = join(root, 'bench/results')
    mkdirSync(out, { recursive: true })
    writeFileSync(
      join(out, 'instances.json'),
      JSON.stringify(
        {
          date: new Date().toISOString(),
          duration,
          connections,
          limit,
          memory,
          redis: shared,
          accuracy: { ...accuracy, allowed, error },
          node: process.version,
        },
        null,
        2,
      ),
    )
    return Math.abs(error) <= 0.02 ? 0 : 2
  } finally {
    await cleanup()
    if (keepLogs) console.log(`bench:instances: logs kept in ${dir}`)
    else rmSync(dir, { recursive: true, force: true })
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err)
    void cleanup().then(() => process.exit(1))
  },
)
