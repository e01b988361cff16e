/**
 * Route policies hold for the handler the app actually runs: real Starlette (uvicorn) and Flask
 * (gunicorn) behind the real gateway. Neither app resolves dot segments, both decode %XX before
 * routing and route case-sensitively, Flask runs GET views for HEAD, and the Flask fixture
 * honours X-HTTP-Method-Override on POST like common middlewares do. Each attack is shown
 * refused and the legitimate request next to it passing.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { fastApiSkipReason, startFastApi } from '../helpers/fastapi.js'
import { startAuthGateway, type AuthGateway } from '../helpers/auth.js'
import { closeAgent, rawRequest, request, type RawResponse } from '../helpers/http.js'
import { freePort } from '../helpers/net.js'

const PYTHON = '/usr/bin/python3'
const password = 'correct horse battery staple 2026'
const adminPassword = 'an admin pass phrase 2026'

const policies = {
  default_policy: 'authenticated',
  policies: [
    { match: { path: '/health' }, access: 'public' },
    { match: { path: '/pages/public' }, access: 'public' },
    { match: { path: '/admin' }, roles: ['admin'] },
    { match: { path: '/reports', methods: ['GET'] }, roles: ['admin'] },
    { match: { path: '/items/*', methods: ['DELETE'] }, roles: ['admin'] },
  ],
}

interface Upstream {
  url: string
  close(): Promise<void>
}

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir)
  return dir
}

function pythonHas(modules: string): Promise<boolean> {
  return new Promise((resolve) => execFile(PYTHON, ['-c', `import ${modules}`], { timeout: 15_000 }, (err) => resolve(err === null)))
}

/** test/fixtures/flask_app.py under gunicorn; null when Flask or gunicorn is missing. */
async function startFlask(): Promise<Upstream | null> {
  if (!(await pythonHas('flask, gunicorn'))) {
    if (process.env.CI === 'true') throw new Error(`${PYTHON} cannot import flask and gunicorn`)
    return null
  }
  const port = await freePort()
  const child: ChildProcess = spawn(
    PYTHON,
    ['-m', 'gunicorn', '--chdir', path.join(repoRoot(), 'test', 'fixtures'), '-b', `127.0.0.1:${port}`, '-w', '1', 'flask_app:app'],
    {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: 'ignore',
    },
  )
  const url = `http://127.0.0.1:${port}`
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  }
  // Bounded start-up: 150 polls of 100 ms.
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${url}/health`)).status === 200) return { url, close }
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  await close()
  throw new Error('gunicorn did not start within 15 s')
}

function raw(gw: AuthGateway, method: string, target: string, token: string | null = null, extra = ''): Promise<RawResponse> {
  const auth = token === null ? '' : `Authorization: Bearer ${token}\r\n`
  return rawRequest(gw.url, `${method} ${target} HTTP/1.1\r\nHost: localhost\r\n${auth}${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`)
}

async function login(gw: AuthGateway, username: string, pw: string): Promise<string> {
  const r = await request(`${gw.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: pw }),
  })
  assert.equal(r.status, 200, r.text)
  return r.json().access_token as string
}

function handler(r: RawResponse): string | undefined {
  try {
    return (JSON.parse(r.body) as { handler?: string }).handler
  } catch {
    return undefined
  }
}

function policySuite(name: string, start: () => Promise<Upstream | null>, skipReason: string): void {
  describe(`policies hold for the route ${name} picks`, () => {
    let app: Upstream | null = null
    let gw: AuthGateway
    let alice: string
    let root: string
    before(async () => {
      app = await start()
      if (app === null) return
      gw = await startAuthGateway({ upstream: app.url }, policies)
      assert.equal((await gw.identity.register('alice', null, password, ['user'])).ok, true)
      assert.equal((await gw.identity.register('root', null, adminPassword, ['admin'])).ok, true)
      alice = await login(gw, 'alice', password)
      root = await login(gw, 'root', adminPassword)
    })
    after(async () => {
      await gw?.close()
      await app?.close()
    })

    test('dot segments in any spelling are refused, not judged as the path they resolve to (anonymous /admin/../health ran the admin handler)', async (t) => {
      if (app === null) return t.skip(skipReason)
      for (const target of [
        '/admin/../health',
        '/admin/%2e%2e/health',
        '/admin/.%2e/health',
        '/admin/%2E./health',
        '/admin%2f..%2fhealth',
        '/admin/x/..;/',
        '/health/..;/admin',
      ]) {
        const r = await raw(gw, 'GET', target)
        assert.equal(r.status, 400, target)
        assert.equal(JSON.parse(r.body).code, 'DRAWBRIDGE_ERR_BAD_REQUEST', target)
      }
      // A plain user's `/admin/..` was judged as `/` (any signed-in user).
      for (const target of ['/admin/..', '/admin/%2E%2E', '/admin/./x']) assert.equal((await raw(gw, 'GET', target, alice)).status, 400, target)
      const health = await raw(gw, 'GET', '/health')
      assert.equal(health.status, 200)
      assert.equal(handler(health), 'health')
      assert.equal((await raw(gw, 'GET', '/admin/x')).status, 401)
      assert.equal((await raw(gw, 'GET', '/admin/x', alice)).status, 403)
      const admin = await raw(gw, 'GET', '/admin/x', root)
      assert.equal(admin.status, 200)
      assert.equal(handler(admin), 'admin')
    })

    test('separators one server reads and another does not (;, \\, encoded / and \\, //) are refused (anonymous /pages/public;x ran /pages/{name})', async (t) => {
      if (app === null) return t.skip(skipReason)
      for (const target of [
        '/pages/public;x',
        '/pages/public\\x',
        '/pages/public%5cx',
        '/pages/public%3bx',
        '/pages/public%2fx',
        '//admin/x',
        '/admin//x',
        '/pages/%252e%252e',
      ]) {
        assert.equal((await raw(gw, 'GET', target)).status, 400, target)
      }
      const pub = await raw(gw, 'GET', '/pages/public')
      assert.equal(pub.status, 200)
      assert.equal(handler(pub), 'page')
      // Escapes of ordinary characters read the same everywhere: decoded and judged.
      assert.equal((await raw(gw, 'GET', '/pages/%70ublic')).status, 200)
      assert.equal((await raw(gw, 'GET', '/%61dmin/x', alice)).status, 403)
    })

    test('a public policy does not open other spellings of its path by case (anonymous /pages/PUBLIC ran /pages/{name})', async (t) => {
      if (app === null) return t.skip(skipReason)
      for (const target of ['/pages/PUBLIC', '/pages/Public', '/PAGES/public', '/pages/%50ublic', '/HEALTH']) {
        assert.equal((await raw(gw, 'GET', target)).status, 401, target)
      }
      assert.equal((await raw(gw, 'GET', '/pages/PUBLIC', alice)).status, 200)
      // Restrictive policies still match any case.
      assert.equal((await raw(gw, 'GET', '/ADMIN/x', alice)).status, 403)
      assert.equal((await raw(gw, 'GET', '/pages/public')).status, 200)
    })

    test('a policy on GET covers HEAD (a plain user got the admin-only GET view through HEAD)', async (t) => {
      if (app === null) return t.skip(skipReason)
      assert.equal((await raw(gw, 'HEAD', '/reports', alice)).status, 403)
      assert.equal((await raw(gw, 'GET', '/reports', alice)).status, 403)
      assert.notEqual((await raw(gw, 'HEAD', '/reports', root)).status, 403)
    })
  })
}

// The shared HTTP client is closed once, after every suite.
after(() => closeAgent())

policySuite('Starlette', startFastApi, fastApiSkipReason)
policySuite('Flask on gunicorn', startFlask, 'Flask tests skipped: /usr/bin/python3 cannot import flask and gunicorn')

describe('method overrides against an app that honours them (Flask on gunicorn)', () => {
  let app: Upstream | null = null
  let plain: AuthGateway
  let alice: string
  before(async () => {
    app = await startFlask()
    if (app === null) return
    plain = await startAuthGateway({ upstream: app.url }, policies)
    assert.equal((await plain.identity.register('alice', null, password, ['user'])).ok, true)
    alice = await login(plain, 'alice', password)
  })
  after(async () => {
    await plain?.close()
    await app?.close()
  })

  test('by default the override never reaches the app (POST + X-HTTP-Method-Override: DELETE ran the admin-only DELETE view)', async (t) => {
    if (app === null) return t.skip('Flask tests skipped')
    for (const name of ['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override']) {
      const r = await raw(plain, 'POST', '/items/1', alice, `${name}: DELETE\r\n`)
      assert.equal(r.status, 200, name)
      assert.equal(handler(r), 'update', name)
    }
    assert.equal((await raw(plain, 'DELETE', '/items/1', alice)).status, 403)
  })

  test('with limits.method_override the POST is judged as the method it names', async (t) => {
    if (app === null) return t.skip('Flask tests skipped')
    const honoured = await startAuthGateway({ upstream: app.url, limits: { method_override: true } }, policies)
    try {
      assert.equal((await honoured.identity.register('alice', null, password, ['user'])).ok, true)
      assert.equal((await honoured.identity.register('root', null, adminPassword, ['admin'])).ok, true)
      const user = await login(honoured, 'alice', password)
      const root = await login(honoured, 'root', adminPassword)
      assert.equal((await raw(honoured, 'POST', '/items/1', user, 'X-HTTP-Method-Override: DELETE\r\n')).status, 403)
      const update = await raw(honoured, 'POST', '/items/1', user)
      assert.equal(update.status, 200)
      assert.equal(handler(update), 'update')
      const del = await raw(honoured, 'POST', '/items/1', root, 'X-HTTP-Method-Override: DELETE\r\n')
      assert.equal(del.status, 200)
      assert.equal(handler(del), 'delete')
    } finally {
      await honoured.close()
    }
  })
})
