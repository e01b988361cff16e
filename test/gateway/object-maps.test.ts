/**
 * V8 keeps one transition table on the root map of plain objects (`{}`), with room for about
 * 1,500 first keys. Code that builds objects keyed by thousands of distinct names at start-up
 * and keeps them (Ajv's name optimiser did, for the config schema) fills it; from then on every
 * object built from `{}` (header maps, node's own nextTick tick objects) gets a map of its own
 * and takes V8's slow runtime path: 17% of the gateway's instructions per proxied GET.
 * This starts the real gateway in a child process with V8's test intrinsics, proxies a few
 * requests, and checks that two objects given the same new key still share one map.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { resolve } from 'node:path'

const dist = resolve(fileURLToPath(import.meta.url), '../../../src')
const url = (p: string) => pathToFileURL(resolve(dist, p)).href

/** Runs `body` after start-up and traffic; it prints one JSON line. */
function probe(body: string): Record<string, boolean> {
  const code = `
import http from 'node:http'
const { createGateway } = await import(${JSON.stringify(url('gateway/index.js'))})
const { loadConfig } = await import(${JSON.stringify(url('config/load.js'))})
const { Logger } = await import(${JSON.stringify(url('observability/logger.js'))})
const up = http.createServer((req, res) => res.end('{"ok":true}')).listen(0, '127.0.0.1')
await new Promise((r) => up.once('listening', r))
const config = loadConfig({ object: {
  upstream: 'http://127.0.0.1:' + up.address().port, listen: '127.0.0.1:0', admin: { listen: '127.0.0.1:0' },
  mode: 'production', workers: 1, storage: { memory: true }, trusted_hosts: ['127.0.0.1'],
  rate_limits: [{ name: 'ip', key: 'ip', limit: '1000/second' }],
} })
const gw = createGateway(config, { logger: new Logger('error', { write: () => {} }) })
const { url } = await gw.listen()
for (let i = 0; i < 50; i++) await (await fetch(url + '/items?q=' + i, { method: i % 2 ? 'GET' : 'POST', body: i % 2 ? undefined : '{"a":' + i + '}', headers: { 'content-type': 'application/json' } })).text()
const sameMap = (key) => { const a = {}; a[key] = 1; const b = {}; b[key] = 1; return %HaveSameMap(a, b) }
${body}
await gw.close(100)
up.close()
`
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, boolean>
}

describe('object shapes after start-up', () => {
  test('the root object map still takes new keys: objects given the same new key share one map', () => {
    const r = probe(`console.log(JSON.stringify({ first: sameMap('fresh_key_1'), second: sameMap('fresh_key_2') }))`)
    assert.deepEqual(r, { first: true, second: true })
  })

  test('the probe sees a full transition table (2,000 live first keys): objects no longer share a map', () => {
    const r = probe(`
globalThis.kept = []
for (let i = 0; i < 2000; i++) { const o = {}; o['filler_' + i] = i; globalThis.kept.push(o) }
console.log(JSON.stringify({ first: sameMap('fresh_key_1'), second: sameMap('fresh_key_2') }))`)
    assert.deepEqual(r, { first: false, second: false })
  })
})
