/**
 * Path spellings against real routers: a route policy must hold for the route the app picks.
 * Every spelling of a path under /admin (role admin) and of DELETE under /reports (role admin
 * for that method only) goes through a gateway in front of Starlette/uvicorn, Flask/gunicorn and
 * Flask/waitress, as an anonymous client and as a plain user. Either Drawbridge refuses it with
 * its own 4xx, or the app says it routed somewhere else: never to the protected handler.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { pythonServers, skipReason } from '../helpers/python-apps.js'
import { assertNoInternalError, bearer, send, useTargets, verdictOf, type Target } from './support.js'

const targets = useTargets()

/** Spellings of `/<p>/...` a router might take to the protected prefix p (raw request targets). */
function spellings(p: string): string[] {
  const first = p.charCodeAt(0)
  const hex = first.toString(16)
  const overlong = `%${(0xc0 | (first >> 6)).toString(16)}%${(0x80 | (first & 0x3f)).toString(16)}`
  const tail = p.slice(1)
  return [
    `/${p}/../health`,
    `/${p}/%2e%2e/health`,
    `/${p}/%2E%2E/health`,
    `/${p}/.%2e/health`,
    `/${p}/%2e./health`,
    `/${p}/..;/health`,
    `/${p}/..;x=1/health`,
    `/${p}/..%3b/health`,
    `/${p}/..%2fhealth`,
    `/${p}/..%2Fhealth`,
    `/${p}/%2e%2e%2fhealth`,
    `/${p}/..%5chealth`,
    `/${p}/..\\health`,
    `/${p}%2f..%2fhealth`,
    `/${p}/x/../../health`,
    `/${p}/./../health`,
    `/${p}/x;/../../health`,
    `/${p}/x/..%2f..%2fhealth`,
    `/${p}/%252e%252e/health`,
    `/${p}/..%252fhealth`,
    `/${p}/..%00/health`,
    `/${p}/..%c0%afhealth`,
    `/${p}/%c0%ae%c0%ae/health`,
    `/${p}/..%u2215health`,
    `/${p}%2fx`,
    `/${p}%2Fx`,
    `//${p}/x`,
    `///${p}/x`,
    `/${p.toUpperCase()}/x`,
    `/${p[0]!.toUpperCase()}${tail}/x`,
    `/${p}/x/`,
    `/${p}`,
    `/${p}/`,
    `\\${p}/x`,
    `/${p}\\x`,
    `/%${hex}${tail}/x`,
    `/%${hex.toUpperCase()}${tail}/x`,
    `/%25${hex}${tail}/x`,
    `/${overlong}${tail}/x`,
    `/${p};x/y`,
    `/${p};/x`,
    `/${p}%3bx/y`,
    `/./${p}/x`,
    `/${p}/./x`,
    `/${p}/%2e/x`,
    `/health/../${p}/x`,
    `/public/../${p}/x`,
    `/public/..;/${p}/x`,
    `/public/%2e%2e/${p}/x`,
    `/public/..%2f${p}/x`,
    `/public/%2e%2e%2f${p}/x`,
    `/public/x/..%2f..%2f${p}/x`,
    `/${p}%20/x`,
    `/${p}%09/x`,
    `/${p}%00/x`,
    `/${p}./x`,
    `/${p}%23/x`,
    `/${p}?/../health`,
    `http://localhost/${p}/..;/health`,
    `http://localhost/public/../${p}/x`,
    `http://localhost//${p}/x`,
  ]
}

interface Case {
  readonly who: 'anonymous' | 'user'
  readonly method: string
  readonly target: string
}

/** Refused by Drawbridge, or the app did not run the protected handler for this method. */
async function assertNotProtectedHandler(t: Target, c: Case, route: string, method: string | null): Promise<void> {
  const headers: [string, string][] = c.who === 'user' ? [bearer(t.userToken)] : []
  const res = await send(t.gw.url, { method: c.method, target: c.target, headers })
  const what = `${t.server}: ${c.who} ${c.method} ${c.target}`
  assertNoInternalError(res, what)
  const v = verdictOf(res)
  if (v.kind !== 'app') return // refused by Drawbridge, or an answer of the app's that is no handler's (404, redirect)
  const reached = v.seen.route === route && (method === null || v.seen.method === method)
  assert.ok(
    !reached,
    `${what}: Drawbridge let it through (${v.status}) and ${v.seen.app} ran the ${route} handler as ${v.seen.method} for path ${JSON.stringify(v.seen.path)}`,
  )
}

// The three servers run side by side; cases within a server run in order.
describe('path spellings through Drawbridge', { concurrency: true }, () => {
  for (const server of pythonServers) {
    describe(`paths through Drawbridge to ${server}`, () => {
      test(`${server}: the controls: admin reaches /admin, anonymous and user are refused, public routes pass`, async (t) => {
        const tg = targets.get(server)
        if (tg === null) return t.skip(skipReason(server))
        const admin = verdictOf(await send(tg.gw.url, { target: '/admin/x', headers: [bearer(tg.adminToken)] }))
        assert.equal(admin.kind === 'app' && admin.seen.route, 'admin')
        const anon = verdictOf(await send(tg.gw.url, { target: '/admin/x' }))
        assert.equal(anon.kind === 'refused' && anon.status, 401)
        const user = verdictOf(await send(tg.gw.url, { target: '/admin/x', headers: [bearer(tg.userToken)] }))
        assert.equal(user.kind === 'refused' && user.status, 403)
        const health = verdictOf(await send(tg.gw.url, { target: '/health' }))
        assert.equal(health.kind === 'app' && health.seen.route, 'health')
        const pub = verdictOf(await send(tg.gw.url, { target: '/public/a/b' }))
        assert.equal(pub.kind === 'app' && pub.seen.route, 'public')
        const del = verdictOf(await send(tg.gw.url, { method: 'DELETE', target: '/reports/x', headers: [bearer(tg.userToken)] }))
        assert.equal(del.kind === 'refused' && del.status, 403)
        const rootDel = verdictOf(await send(tg.gw.url, { method: 'DELETE', target: '/reports/x', headers: [bearer(tg.adminToken)] }))
        assert.equal(rootDel.kind === 'app' && `${rootDel.seen.route} ${rootDel.seen.method}`, 'reports DELETE')
        const userGet = verdictOf(await send(tg.gw.url, { target: '/reports/x', headers: [bearer(tg.userToken)] }))
        assert.equal(userGet.kind === 'app' && userGet.seen.route, 'reports')
      })

      for (const who of ['anonymous', 'user'] as const) {
        test(`${server}: no spelling of an /admin path bypasses the admin-role policy (${who})`, async (t) => {
          const tg = targets.get(server)
          if (tg === null) return t.skip(skipReason(server))
          for (const target of spellings('admin')) {
            await t.test(target, () => assertNotProtectedHandler(tg, { who, method: 'GET', target }, 'admin', null))
          }
        })
      }

      test(`${server}: no spelling of a /reports path bypasses the DELETE-only admin policy (user)`, async (t) => {
        const tg = targets.get(server)
        if (tg === null) return t.skip(skipReason(server))
        for (const target of spellings('reports')) {
          await t.test(target, () => assertNotProtectedHandler(tg, { who: 'user', method: 'DELETE', target }, 'reports', 'DELETE'))
        }
      })
    })
  }
})
