/**
 * Auth on PostgreSQL through the real gateway: the same flows as on SQLite, then the
 * database stopped under it: /readyz not ready, requests that need the store get 503 JSON with
 * the request id (never 401, never 500), routes that need no store still pass, and everything
 * works again once the database is back, without restarting the gateway.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { request, type TestResponse } from '../helpers/http.js'
import { startAuthGateway, type AuthGateway } from '../helpers/auth.js'
import { postgresSkipReason, startPostgres } from '../helpers/postgres.js'
import { freePort } from '../helpers/net.js'

const password = 'correct horse battery staple'
const server = await startPostgres()
after(() => server?.close())

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

function assertStoreUnavailable(r: TestResponse): void {
  assert.equal(r.status, 503)
  assert.equal(r.json().code, 'DRAWBRIDGE_ERR_STORE_UNAVAILABLE')
  assert.equal(r.json().request_id, r.headers['x-request-id'])
  assert.ok(Number(r.headers['retry-after']) > 0)
}

if (server === null) {
  test('auth on postgres', { skip: postgresSkipReason }, () => {})
} else {
  describe('auth on postgres', () => {
    let up: TestUpstream
    let gw: AuthGateway

    before(async () => {
      up = await startUpstream()
      const url = await server.freshDatabase()
      gw = await startAuthGateway(
        { upstream: up.url, storage: { postgres: { url: { from_env: 'DATABASE_URL' }, connect_timeout: '1s' } } },
        { registration: 'on', policies: [{ match: { path: '/public' }, access: 'public' }], revocation_check: true },
        undefined,
        { DATABASE_URL: url },
      )
    })
    after(async () => {
      await server.start()
      await gw.close()
      await up.close()
    })

    test('register, login, refresh and a protected route work; /readyz reports postgres', async () => {
      assert.equal((await request(`${gw.url}/auth/register`, json({ username: 'alice', password }))).status, 201)
      const login = await request(`${gw.url}/auth/login`, json({ username: 'alice', password }))
      assert.equal(login.status, 200)
      const refreshed = await request(`${gw.url}/auth/refresh`, json({ refresh_token: login.json().refresh_token }))
      assert.equal(refreshed.status, 200)
      const orders = await request(`${gw.url}/orders`, { headers: { authorization: `Bearer ${refreshed.json().access_token}` } })
      assert.equal(orders.status, 200)
      const ready = await request(`${gw.adminUrl}/readyz`)
      assert.equal(ready.status, 200)
      assert.equal(ready.json().checks.postgres.ok, true)
    })

    test('database down: not ready, 503 for what needs it, public routes pass; back up: works again', async () => {
      const login = await request(`${gw.url}/auth/login`, json({ username: 'alice', password }))
      assert.equal(login.status, 200)
      const token = login.json().access_token as string
      await server.stop()
      await new Promise((r) => setTimeout(r, 1100)) // readiness is cached for 1 s
      const ready = await request(`${gw.adminUrl}/readyz`)
      assert.equal(ready.status, 503)
      assert.equal(ready.json().checks.postgres.ok, false)
      // A right password is not "invalid credentials" and a wrong one is not judged either.
      assertStoreUnavailable(await request(`${gw.url}/auth/login`, json({ username: 'alice', password })))
      assertStoreUnavailable(await request(`${gw.url}/auth/login`, json({ username: 'alice', password: 'wrong password here' })))
      assertStoreUnavailable(await request(`${gw.url}/auth/refresh`, json({ refresh_token: login.json().refresh_token })))
      // revocation_check needs the store: a valid token is neither let through unchecked nor called invalid.
      assertStoreUnavailable(await request(`${gw.url}/orders`, { headers: { authorization: `Bearer ${token}` } }))
      assert.equal((await request(`${gw.url}/public`)).status, 200)

      await server.start()
      const again = await request(`${gw.url}/auth/login`, json({ username: 'alice', password }))
      assert.equal(again.status, 200)
      assert.equal((await request(`${gw.url}/orders`, { headers: { authorization: `Bearer ${token}` } })).status, 200)
      await new Promise((r) => setTimeout(r, 1100))
      assert.equal((await request(`${gw.adminUrl}/readyz`)).status, 200)
    })
  })

  test('a gateway started before its database waits, not ready, and starts once the database is there', async () => {
    const up = await startUpstream()
    const url = await server.freshDatabase()
    await server.stop()
    const adminPort = await freePort()
    const starting = startAuthGateway(
      { upstream: up.url, admin: { listen: `127.0.0.1:${adminPort}` }, storage: { postgres: { url: { from_env: 'DATABASE_URL' }, connect_timeout: '500ms' } } },
      { registration: 'on' },
      undefined,
      { DATABASE_URL: url },
    )
    let gw: AuthGateway | null = null
    try {
      await new Promise((r) => setTimeout(r, 1000))
      const ready = await request(`http://127.0.0.1:${adminPort}/readyz`)
      assert.equal(ready.status, 503)
      assert.equal(ready.json().checks.postgres.ok, false)
      await server.start()
      gw = await starting
      assert.equal((await request(`${gw.url}/auth/register`, json({ username: 'bob', password }))).status, 201)
      assert.equal((await request(`${gw.url}/auth/login`, json({ username: 'bob', password }))).status, 200)
    } finally {
      await server.start()
      await (gw ?? (await starting)).close()
      await up.close()
    }
  })
}
