/**
 * A mutation-fuzz round: valid requests of every kind (GET, HEAD, JSON, form, multipart, chunked,
 * preflight, bearer, API key, cookie session with CSRF, WebSocket upgrade, login, refresh,
 * pipelined, absolute-form, Expect) mutated by Debian's zzuf (`zzuf -r 0.01 -s SEED`, bit flips
 * at a 1% rate, some rounds at 0.4% or on chosen bytes only) and sent on raw sockets to a gateway in front of Starlette/uvicorn and
 * Flask/gunicorn (see zzufArgs for which bytes each seed may touch). Drawbridge never answers a 500 of its own or DRAWBRIDGE_ERR_INTERNAL, never logs
 * a fault, keeps answering, and the app behind it stays alive. About 250 mutations per server,
 * bounded at 20 s each; DRAWBRIDGE_FUZZ_SEEDS sets how many seeds per request (default 12).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { skipReason, type PythonServer } from '../helpers/python-apps.js'
import { request } from '../helpers/http.js'
import { assertNoInternalError, assertServing, bearer, browserHeaders, converse, rawBytes, useTargets, userPassword, type Target } from './support.js'

const ZZUF = '/usr/bin/zzuf'
const zzufSkipReason = 'zzuf fuzz round skipped: /usr/bin/zzuf is missing (apt-get install -y zzuf); with CI=true this is a failure instead'
const servers: PythonServer[] = ['uvicorn', 'gunicorn']
const ORIGIN = 'https://app.example.com'
const BUDGET_MS = 20_000
const CONCURRENCY = 6
const seedsPerRequest = (() => {
  const n = Number(process.env.DRAWBRIDGE_FUZZ_SEEDS ?? 12)
  return Number.isInteger(n) && n > 0 && n <= 1000 ? n : 12
})()

const targets = useTargets(servers, { cors: { allow_origins: [ORIGIN], allow_credentials: true } })

/**
 * zzuf's arguments for a seed. A 1% bit-flip rate over a whole request almost always breaks its
 * request line, so only a third of the seeds do that (the parser); another third flip 0.4% of
 * the bits after the request line, line ends kept (header handling, auth, CORS, CSRF); the last
 * third flip 1% only in the request target and the body (canonical paths, query and body
 * parsers, the WAF).
 */
function zzufArgs(input: Buffer, seed: number): string[] {
  const seedArg = ['-s', String(seed)]
  const lineEnd = input.indexOf('\r\n')
  const headEnd = input.indexOf('\r\n\r\n') + 4
  const firstSpace = input.indexOf(' ')
  const secondSpace = input.indexOf(' ', firstSpace + 1)
  switch (seed % 3) {
    case 0:
      return ['-r', '0.01', ...seedArg]
    case 1:
      return ['-r', '0.004', ...seedArg, '-b', `${lineEnd + 2}-`, '-P', '\r\n']
    default:
      return ['-r', '0.01', ...seedArg, '-b', `${firstSpace + 1}-${secondSpace},${headEnd}-`, '-P', '\r\n']
  }
}

/** Mutates `input` with zzuf (bit flips at 1%); the seed makes it reproducible. */
function zzuf(input: Buffer, seed: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(ZZUF, zzufArgs(input, seed), { stdio: ['pipe', 'pipe', 'ignore'] })
    const out: Buffer[] = []
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.once('error', reject)
    child.once('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(out))
    })
    child.stdin.end(input)
  })
}

interface Material {
  apiKey: string
  cookie: string
  csrf: string
  refresh: string
}

async function material(tg: Target): Promise<Material> {
  const alice = await tg.gw.identity.stores.users.byUsername('alice')
  assert.ok(alice !== null && alice !== undefined)
  const { secret } = await tg.gw.identity.apiKeys.create(alice.id, { name: 'fuzz', scopes: ['reports:read'], expiresAt: null })
  const api = await request(`${tg.gw.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: userPassword }),
  })
  const browser = await request(`${tg.gw.url}/auth/login`, {
    method: 'POST',
    headers: { ...browserHeaders, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: userPassword }),
  })
  const raw = browser.headers['set-cookie']
  const cookies = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((c) => c.split(';')[0]!)
  const csrf = cookies.find((c) => c.startsWith('__Host-drawbridge-csrf=')) ?? ''
  return { apiKey: secret, cookie: cookies.join('; '), csrf: decodeURIComponent(csrf.slice(csrf.indexOf('=') + 1)), refresh: String(api.json().refresh_token) }
}

/** Valid requests of every kind the gateway handles. */
function corpus(tg: Target, m: Material): Buffer[] {
  const json = (v: unknown) => JSON.stringify(v)
  const boundary = '----drawbridgefuzz'
  const multipart = `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nquarterly report\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="notes.txt"\r\nContent-Type: text/plain\r\n\r\nhello, world\r\n--${boundary}--\r\n`
  const browser: [string, string][] = [...Object.entries(browserHeaders), ['Cookie', m.cookie], ['X-CSRF-Token', m.csrf]]
  return [
    rawBytes({
      target: '/public/a?x=1&y=two&tags=a&tags=b',
      headers: [
        ['Accept', 'application/json'],
        ['Accept-Language', 'en-GB,en;q=0.8'],
      ],
    }),
    rawBytes({ method: 'HEAD', target: '/public/head' }),
    rawBytes({ target: '/items/3?q=paper', headers: [bearer(tg.userToken)] }),
    rawBytes({ target: '/items/4', headers: [['X-API-Key', m.apiKey]] }),
    rawBytes({
      method: 'POST',
      target: '/public/submit',
      headers: [['Content-Type', 'application/json']],
      body: json({ name: "Bob's order", items: [1, 2, 3], nested: { ok: true } }),
    }),
    rawBytes({
      method: 'POST',
      target: '/public/form',
      headers: [['Content-Type', 'application/x-www-form-urlencoded']],
      body: 'name=Alice+Smith&comment=Looks+good%21&n=3',
    }),
    rawBytes({ method: 'POST', target: '/public/upload', headers: [['Content-Type', `multipart/form-data; boundary=${boundary}`]], body: multipart }),
    rawBytes({
      method: 'PUT',
      target: '/items/3',
      headers: [bearer(tg.userToken), ['Content-Type', 'application/json']],
      body: json({ name: 'stapler', price: 3.5 }),
    }),
    rawBytes({ method: 'DELETE', target: '/items/3', headers: [bearer(tg.userToken)] }),
    rawBytes({ method: 'PATCH', target: '/public/patch', headers: [['Content-Type', 'application/merge-patch+json']], body: json({ note: null }) }),
    rawBytes({
      method: 'OPTIONS',
      target: '/items/3',
      headers: [
        ['Origin', ORIGIN],
        ['Access-Control-Request-Method', 'PUT'],
        ['Access-Control-Request-Headers', 'content-type, authorization'],
      ],
    }),
    rawBytes({
      method: 'POST',
      target: '/public/chunked',
      headers: [
        ['Content-Type', 'application/json'],
        ['Transfer-Encoding', 'chunked'],
      ],
      body: '7\r\n{"a":1}\r\n0\r\n\r\n',
    }),
    rawBytes({ method: 'POST', target: '/items/5', headers: [...browser, ['Content-Type', 'application/json']], body: json({ name: 'from the browser' }) }),
    rawBytes({
      target: '/ws',
      headers: [
        ['Connection', 'Upgrade'],
        ['Upgrade', 'websocket'],
        ['Sec-WebSocket-Version', '13'],
        ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
        ['Origin', 'http://localhost'],
      ],
    }),
    rawBytes({
      method: 'POST',
      target: '/auth/login',
      headers: [['Content-Type', 'application/json']],
      body: json({ username: 'alice', password: 'not the password at all' }),
    }),
    rawBytes({
      method: 'POST',
      target: '/auth/refresh',
      headers: [['Content-Type', 'application/x-www-form-urlencoded']],
      body: `grant_type=refresh_token&refresh_token=${m.refresh}`,
    }),
    rawBytes({ target: '/auth/me', headers: [bearer(tg.userToken)] }),
    rawBytes({ target: 'http://localhost/public/absolute?x=1' }),
    Buffer.concat([rawBytes({ target: '/public/one' }), rawBytes({ target: '/public/two' })]),
    rawBytes({
      method: 'POST',
      target: '/public/expect',
      headers: [
        ['Content-Type', 'application/json'],
        ['Expect', '100-continue'],
      ],
      body: json({ a: 'b' }),
    }),
    rawBytes({ target: '/admin/panel', headers: [bearer(tg.adminToken), ['Cookie', 'theme=dark; lang=en']] }),
    rawBytes({
      target: '/reports/2026/q3?format=csv&from=2026-07-01',
      headers: [bearer(tg.userToken), ['If-None-Match', '"abc"'], ['Cache-Control', 'no-cache']],
    }),
  ]
}

async function fuzzRound(t: { diagnostic(msg: string): void }, tg: Target): Promise<void> {
  const m = await material(tg)
  const inputs = corpus(tg, m)
  const jobs: { base: number; seed: number }[] = []
  for (let seed = 1; seed <= seedsPerRequest; seed++) for (let base = 0; base < inputs.length; base++) jobs.push({ base, seed })
  const deadline = Date.now() + BUDGET_MS
  const failures: string[] = []
  const tally = new Map<number, number>()
  let done = 0
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < jobs.length && Date.now() < deadline) {
      const job = jobs[next++]!
      const mutated = await zzuf(inputs[job.base]!, job.seed)
      const c = await converse(tg.gw.url, mutated, { timeoutMs: 1500, idleMs: 100 })
      done++
      for (const r of c.responses) {
        tally.set(r.status, (tally.get(r.status) ?? 0) + 1)
        try {
          assertNoInternalError(r, `request ${job.base}, zzuf seed ${job.seed}`)
        } catch (err) {
          failures.push(`${(err as Error).message}\n  input: ${JSON.stringify(mutated.toString('latin1').slice(0, 400))}`)
        }
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  t.diagnostic(
    `${tg.server}: ${done} mutated requests; answers by status: ${[...tally]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ')}`,
  )
  assert.deepEqual(failures, [], `${tg.server}: Drawbridge answered errors of its own`)
  assert.ok(done >= Math.min(50, jobs.length), `${tg.server}: only ${done} mutated requests ran within the budget`)
  // the gateway still answers, the app behind it is alive, and no fault was logged
  await assertServing(tg)
  const direct = await fetch(`${tg.app.url}/__log`, { signal: AbortSignal.timeout(3000) })
  assert.equal(direct.status, 200, `${tg.server} itself stopped answering`)
  await direct.arrayBuffer()
  const faults = tg.gw.logs().filter((l) => l.level === 'error')
  assert.deepEqual(
    faults.map((l) => l.msg),
    [],
    `${tg.server}: the gateway logged faults while fuzzed`,
  )
}

describe('zzuf mutation round', { concurrency: true }, () => {
  for (const server of servers) {
    test(`${server}: mutated requests of every kind never get a 500 or an internal error from Drawbridge`, async (t) => {
      if (!existsSync(ZZUF)) {
        if (process.env.CI === 'true') assert.fail(zzufSkipReason)
        return t.skip(zzufSkipReason)
      }
      const tg = targets.get(server)
      if (tg === null) return t.skip(skipReason(server))
      await fuzzRound(t, tg)
    })
  }
})
