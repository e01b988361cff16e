import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { fastApiSkipReason, startFastApi } from './fastapi.js'
import type { FastApiHandle } from './fastapi.js'

let app: FastApiHandle | null = null

before(async () => {
  app = await startFastApi()
})

after(async () => {
  await app?.close()
})

async function count(url: string): Promise<number> {
  const res = await fetch(`${url}/__count`)
  const body = (await res.json()) as { count: number }
  return body.count
}

test('GET /items/3?q=x answers with the typed path parameter and the query', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  const res = await fetch(`${app.url}/items/3?q=x`)
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { item_id: 3, q: 'x' })
})

test('/__count counts handled requests but not itself', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  const start = await count(app.url)
  assert.equal(await count(app.url), start, '/__count must not count itself')
  const res = await fetch(`${app.url}/items/1`)
  await res.arrayBuffer()
  const notFound = await fetch(`${app.url}/no-such-route`)
  await notFound.arrayBuffer()
  assert.equal(notFound.status, 404)
  assert.equal(await count(app.url), start + 2)
})

test('/traceback leaks a real Python traceback, /crash a plain 500', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  const leak = await fetch(`${app.url}/traceback`)
  assert.equal(leak.status, 500)
  assert.match(leak.headers.get('content-type') ?? '', /^text\/plain/)
  assert.match(await leak.text(), /Traceback \(most recent call last\)/)

  const crash = await fetch(`${app.url}/crash`)
  assert.equal(crash.status, 500)
  assert.equal(await crash.text(), 'Internal Server Error')
})

test('POST /items validates the pydantic body', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  const ok = await fetch(`${app.url}/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'lamp', price: 9.5 }),
  })
  assert.equal(ok.status, 200)
  assert.deepEqual(await ok.json(), { name: 'lamp', price: 9.5 })

  const bad = await fetch(`${app.url}/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"name": ',
  })
  assert.equal(bad.status, 422)
  await bad.arrayBuffer()
})

test('GET /cookies sets two cookies', async (t) => {
  if (app === null) return t.skip(fastApiSkipReason)
  const res = await fetch(`${app.url}/cookies`)
  await res.arrayBuffer()
  const cookies = res.headers.getSetCookie()
  assert.equal(cookies.length, 2)
  assert.ok(cookies.some((c) => c.startsWith('session=abc')))
  assert.ok(cookies.some((c) => c.startsWith('prefs=dark') && /samesite=strict/i.test(c)))
})
