import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'undici'
import { startDemoApi } from '../../examples/demo-api/server.js'

type DemoApi = Awaited<ReturnType<typeof startDemoApi>>

let api: DemoApi

before(async () => {
  api = await startDemoApi({ port: 0 })
})

after(async () => {
  await api.close()
})

test('listens on 127.0.0.1 and marks every response', async () => {
  assert.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.ok(api.port > 0)
  const res = await fetch(`${api.url}/health`)
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { status: 'ok' })
  assert.equal(res.headers.get('server'), 'demo-api/0.1')
  assert.equal(res.headers.get('x-powered-by'), 'node')
})

test('GET /users is injectable: a tautology returns every user', async () => {
  const one = await fetch(`${api.url}/users?name=alice`)
  assert.equal(one.status, 200)
  const alice = (await one.json()) as { name: string }[]
  assert.equal(alice.length, 1)
  assert.equal(alice[0]?.name, 'alice')

  const all = await fetch(`${api.url}/users?name=${encodeURIComponent("' OR '1'='1")}`)
  assert.equal(all.status, 200)
  const users = (await all.json()) as { name: string; role: string }[]
  assert.ok(users.length >= 3)
  assert.ok(users.some((u) => u.role === 'admin'))
})

test('GET /users leaks the SQL error with a stack trace', async () => {
  const res = await fetch(`${api.url}/users?name=${encodeURIComponent("'")}`)
  assert.equal(res.status, 500)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/)
  const body = await res.text()
  assert.match(body, /SqliteError/)
  assert.match(body, /\n\s+at /)
})

test('GET /files serves demo files but never reads outside the folder', async () => {
  const ok = await fetch(`${api.url}/files?name=readme.txt`)
  assert.equal(ok.status, 200)
  assert.match(await ok.text(), /Demo API download folder/)

  const res = await fetch(`${api.url}/files?name=${encodeURIComponent('../../etc/passwd')}`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  const text = await res.text()
  assert.doesNotMatch(text, /root:/)
  const body = JSON.parse(text) as { would_read: string; note: string }
  assert.match(body.would_read, /etc[/\\]passwd$/)
  assert.match(body.note, /naive app/)

  const missing = await fetch(`${api.url}/files?name=nope.txt`)
  assert.equal(missing.status, 404)
  await missing.arrayBuffer()
})

test('GET /ping shows the command without running it', async () => {
  const host = '127.0.0.1; cat /etc/passwd'
  const res = await fetch(`${api.url}/ping?host=${encodeURIComponent(host)}`)
  assert.equal(res.status, 200)
  const body = (await res.json()) as { command: string }
  assert.equal(body.command, `ping -c 1 ${host}`)
})

test('POST /login sets weak cookies on success and 401s on failure', async () => {
  const res = await request(`${api.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: 'alice-password' }),
  })
  assert.equal(res.statusCode, 200)
  const token = (await res.body.json()) as { access_token: string; token_type: string }
  assert.match(token.access_token, /^[0-9a-f]{32}$/)
  assert.equal(token.token_type, 'bearer')
  const setCookie = res.headers['set-cookie']
  const cookies = Array.isArray(setCookie) ? setCookie : [setCookie ?? '']
  assert.ok(cookies.some((c) => /^session=[0-9a-f]+; Path=\/$/.test(c)))
  assert.ok(cookies.includes('theme=light; Path=/'))

  const form = await fetch(`${api.url}/login`, {
    method: 'POST',
    body: new URLSearchParams({ username: 'admin', password: 'admin123' }),
  })
  assert.equal(form.status, 200)
  await form.arrayBuffer()

  const bad = await fetch(`${api.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: 'wrong' }),
  })
  assert.equal(bad.status, 401)
  assert.deepEqual(await bad.json(), { detail: 'Incorrect username or password' })
})

test('GET /openapi.json is an OpenAPI 3.1 document listing the endpoints', async () => {
  const res = await fetch(`${api.url}/openapi.json`)
  assert.equal(res.status, 200)
  const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> }
  assert.equal(doc.openapi, '3.1.0')
  const expected = ['/users', '/comments', '/comments/page', '/files', '/ping', '/login', '/health']
  for (const p of [...expected, '/debug/crash', '/debug/headers', '/docs', '/redoc']) {
    assert.ok(p in doc.paths, `missing ${p}`)
  }
})

test('GET /debug/crash returns a stack trace', async () => {
  const res = await fetch(`${api.url}/debug/crash`)
  assert.equal(res.status, 500)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/)
  assert.match(await res.text(), /^Error: .*\n\s+at handler \(/)
})

test('comments are stored and rendered unescaped; bad bodies are rejected', async () => {
  const payload = '<script>alert(1)</script>'
  const created = await fetch(`${api.url}/comments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: payload }),
  })
  assert.equal(created.status, 201)
  await created.arrayBuffer()

  const list = (await (await fetch(`${api.url}/comments`)).json()) as { text: string }[]
  assert.ok(list.some((c) => c.text === payload))
  const page = await fetch(`${api.url}/comments/page`)
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
  assert.ok((await page.text()).includes(payload))

  const malformed = await fetch(`${api.url}/comments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"text": ',
  })
  assert.equal(malformed.status, 422)
  const detail = (await malformed.json()) as { detail: { type: string }[] }
  assert.equal(detail.detail[0]?.type, 'json_invalid')

  const tooBig = await fetch(`${api.url}/comments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'x'.repeat(70 * 1024) }),
  })
  assert.equal(tooBig.status, 413)
  await tooBig.arrayBuffer()
})

test('unknown routes are 404 and the server still answers afterwards', async () => {
  const res = await fetch(`${api.url}/nope`)
  assert.equal(res.status, 404)
  assert.deepEqual(await res.json(), { detail: 'Not Found' })
  const health = await fetch(`${api.url}/health`)
  assert.equal(health.status, 200)
  await health.arrayBuffer()
})
