/**
 * Duplicate JSON keys: a parser differential (CVE-2017-12635: CouchDB's Erlang parser
 * kept the first `roles`, its JavaScript validation the last). Judged through the WAF stage.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { loadConfig } from '../../src/config/load.js'
import { createWaf } from '../../src/stages/waf/index.js'
import type { Transaction } from '../../src/pipeline/transaction.js'

const waf = createWaf(loadConfig({ object: { upstream: 'http://127.0.0.1:9', storage: { memory: true } } }), null)!

async function rules(body: string): Promise<{ status: number | null; rules: string[] }> {
  const tx = {
    path: '/api/users',
    query: '',
    canonicalPath: '/api/users',
    method: 'POST',
    req: { headers: { 'content-type': 'application/json' } },
    wafFindings: null,
    wafScore: 0,
    wafBlocked: false,
  } as unknown as Transaction
  const v = await waf.requestBody!(tx, Buffer.from(body, 'utf8'))
  return { status: v?.status ?? null, rules: (tx.wafFindings ?? []).map((f) => f.rule) }
}

test('a key repeated with another value in one object is blocked', async () => {
  for (const body of [
    '{"type":"user","name":"eve","roles":[],"roles":["_admin"],"password":"x"}',
    '{"user":{"role":"reader","role":"admin"}}',
    '{"a" : 1 ,\n "a"\t: 2}',
    '[{"id":1},{"id":2,"owner":"me","owner":"you"}]',
    '{"k\\u0065y":1,"key":2}',
    '{"x":"a\\"b:","x":"c"}',
    '{"note":":)","n":1,"n":2}',
  ]) {
    const r = await rules(body)
    assert.equal(r.status, 403, body)
    assert.deepEqual(r.rules, ['json-duplicate-key'], body)
  }
})

test('the same key in different objects, a key repeated with the same value, and colons in strings pass', async () => {
  for (const body of [
    '{"items":[{"id":1,"name":"a"},{"id":2,"name":"b"}],"id":3}',
    '{"a":{"a":{"a":1}}}',
    '{"role":"admin","role":"admin"}',
    '{"url":"https://example.com:8443/a","time":"12:30","ipv6":"::1","quote":"say \\"hi\\": ok"}',
    '{"k\\\\":1,"k":2}',
    '"just a string: here"',
    '[]',
  ]) {
    const r = await rules(body)
    assert.equal(r.status, null, body)
    assert.deepEqual(r.rules, [], body)
  }
})

test('the duplicate check stays linear on adversarial bodies', async () => {
  const many = '{' + Array.from({ length: 20_000 }, (_, i) => `"k${i}":":${i}"`).join(',') + ',"k0":"other"}'
  const deep = '{"a":'.repeat(30) + '":"' + '}'.repeat(30)
  for (const body of [many, deep]) {
    const t = performance.now()
    await rules(body)
    assert.ok(performance.now() - t < 500, `${performance.now() - t} ms`)
  }
})
