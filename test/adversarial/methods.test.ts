/**
 * Methods as the app runs them, not as the request line says: HEAD runs GET handlers in
 * Starlette and Flask; method-override headers (honoured by the Flask fixture's middleware, as
 * by many apps) turn a POST into a DELETE or a GET into a state change; an `Upgrade: websocket`
 * request takes another path through a proxy. A policy or CSRF decision taken for one method
 * must hold for the method the app's handler ran.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { pythonServers, skipReason, type Seen } from '../helpers/python-apps.js'
import { request } from '../helpers/http.js'
import {
  assertNoInternalError,
  bearer,
  browserHeaders,
  converse,
  converseSteps,
  rawBytes,
  send,
  useTargets,
  userPassword,
  verdictOf,
  type Target,
} from './support.js'

const targets = useTargets()

/** The app's log entries for requests whose query carries this probe. */
async function probed(tg: Target, probe: string): Promise<Seen[]> {
  return (await tg.app.log()).filter((s) => (s.query ?? []).some(([k, v]) => k === 'probe' && v === probe))
}

interface CookieSession {
  cookie: string
  csrf: string
}

/** alice's browser login: the __Host- cookies and the CSRF token. */
async function browserLogin(tg: Target): Promise<CookieSession> {
  const res = await request(`${tg.gw.url}/auth/login`, {
    method: 'POST',
    headers: { ...browserHeaders, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: userPassword }),
  })
  assert.equal(res.status, 200)
  const raw = res.headers['set-cookie']
  const cookies = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((c) => c.split(';')[0]!)
  const csrf = cookies.find((c) => c.startsWith('__Host-drawbridge-csrf='))
  assert.ok(csrf !== undefined, 'no CSRF cookie from a browser login')
  return { cookie: cookies.join('; '), csrf: decodeURIComponent(csrf.slice(csrf.indexOf('=') + 1)) }
}

const browser: [string, string][] = Object.entries(browserHeaders)

const overrideNames = ['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override', 'X_HTTP_Method_Override', 'x-http-method-override']

// The three servers run side by side; cases within a server run in order.
describe('methods through Drawbridge', { concurrency: true }, () => {
  for (const server of pythonServers) {
    describe(`methods through Drawbridge to ${server}`, () => {
      test(`${server}: HEAD cannot run the GET handler that a GET-only admin policy protects`, async (t) => {
        const tg = targets.get(server)
        if (tg === null) return t.skip(skipReason(server))
        // controls: GET needs the admin role, other methods are public
        assert.equal(verdictOf(await send(tg.gw.url, { target: '/ops/x' })).status, 401)
        const root = verdictOf(await send(tg.gw.url, { target: '/ops/x', headers: [bearer(tg.adminToken)] }))
        assert.equal(root.kind === 'app' && root.seen.route, 'ops')
        for (const who of ['anonymous', 'user'] as const) {
          const probe = randomUUID()
          const res = await send(tg.gw.url, { method: 'HEAD', target: `/ops/x?probe=${probe}`, headers: who === 'user' ? [bearer(tg.userToken)] : [] })
          assertNoInternalError(res, `${server} HEAD (${who})`)
          const ran: Seen[] = (await probed(tg, probe)).filter((s) => s.route === 'ops')
          assert.deepEqual(
            ran.map((s) => s.method),
            [],
            `${server}: ${who} HEAD /ops/x passed Drawbridge (${res.status}) and ran the GET-only handler`,
          )
        }
      })

      test(`${server}: a method-override header cannot turn an allowed POST into the admin-only DELETE`, async (t) => {
        const tg = targets.get(server)
        if (tg === null) return t.skip(skipReason(server))
        const plain = verdictOf(await send(tg.gw.url, { method: 'POST', target: '/reports/x', headers: [bearer(tg.userToken)], body: '{}' }))
        assert.equal(plain.kind === 'app' && `${plain.seen.route} ${plain.seen.method}`, 'reports POST', 'control: a plain POST passes')
        for (const name of overrideNames) {
          for (const value of ['DELETE', 'delete', ' DELETE ']) {
            await t.test(`${name}: ${JSON.stringify(value)}`, async () => {
              const probe = randomUUID()
              const res = await send(tg.gw.url, {
                method: 'POST',
                target: `/reports/x?probe=${probe}`,
                headers: [bearer(tg.userToken), [name, value]],
                body: '{}',
              })
              assertNoInternalError(res, `${server} ${name}`)
              const ran = (await probed(tg, probe)).filter((s) => s.route === 'reports' && s.method === 'DELETE')
              assert.equal(ran.length, 0, `${server}: POST + ${name}: ${value} passed Drawbridge (${res.status}) and ran the handler as DELETE`)
            })
          }
        }
      })

      test(`${server}: a method-override header on a GET cannot skip the CSRF check of a cookie session`, async (t) => {
        const tg = targets.get(server)
        if (tg === null) return t.skip(skipReason(server))
        const session = await browserLogin(tg)
        const cookie: [string, string] = ['Cookie', session.cookie]
        // controls: an unsafe method without the token is refused, with it passes
        const noToken = verdictOf(await send(tg.gw.url, { method: 'DELETE', target: '/items/1', headers: [...browser, cookie] }))
        assert.equal(noToken.kind === 'refused' && noToken.status, 403)
        const withToken = verdictOf(
          await send(tg.gw.url, { method: 'DELETE', target: '/items/1', headers: [...browser, cookie, ['X-CSRF-Token', session.csrf]] }),
        )
        assert.equal(withToken.kind === 'app' && withToken.seen.method, 'DELETE')
        for (const name of overrideNames) {
          for (const value of ['DELETE', 'PUT', 'POST']) {
            await t.test(`GET + ${name}: ${value}`, async () => {
              const probe = randomUUID()
              const res = await send(tg.gw.url, { method: 'GET', target: `/items/1?probe=${probe}`, headers: [...browser, cookie, [name, value]] })
              assertNoInternalError(res, `${server} GET + ${name}`)
              const ran = (await probed(tg, probe)).filter((s) => s.method !== 'GET' && s.method !== 'HEAD')
              assert.equal(
                ran.length,
                0,
                `${server}: GET + ${name}: ${value} without a CSRF token passed Drawbridge (${res.status}) and ran as ${ran[0]?.method}`,
              )
            })
          }
        }
      })

      test(`${server}: a POST carrying Upgrade: websocket skips neither CSRF nor body inspection`, async (t) => {
        const tg = targets.get(server)
        if (tg === null) return t.skip(skipReason(server))
        const session = await browserLogin(tg)
        const upgrade: [string, string][] = [
          ['Connection', 'Upgrade'],
          ['Upgrade', 'websocket'],
          ['Sec-WebSocket-Version', '13'],
          ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
        ]
        // state change from a cookie session without the CSRF token
        const probe1 = randomUUID()
        const res1 = await send(tg.gw.url, {
          method: 'POST',
          target: `/items/1?probe=${probe1}`,
          headers: [...browser, ['Cookie', session.cookie], ...upgrade],
          body: '{"name":"x"}',
        })
        assertNoInternalError(res1, `${server} POST+Upgrade`)
        const ran1 = (await probed(tg, probe1)).filter((s) => s.method === 'POST')
        assert.equal(ran1.length, 0, `${server}: POST + Upgrade without a CSRF token passed Drawbridge (${res1.status}) and ran the POST handler`)
        // an injection in the body of a public route
        const probe2 = randomUUID()
        const res2 = await send(tg.gw.url, {
          method: 'POST',
          target: `/ws?probe=${probe2}`,
          headers: [...upgrade, ['Content-Type', 'application/json']],
          body: JSON.stringify({ q: "1' UNION SELECT password FROM users--" }),
        })
        assertNoInternalError(res2, `${server} POST /ws+Upgrade`)
        const parsed = (await probed(tg, probe2)).filter((s) => s.json_parsed)
        assert.equal(parsed.length, 0, `${server}: POST /ws + Upgrade with an injection passed Drawbridge (${res2.status}) and the app parsed the body`)
        // RFC 6455 §4.1: the opening handshake is a GET. A POST switched to a tunnel would carry its
        // body, and anything after it, to the app uninspected.
        assert.notEqual(res1.status, 101, `${server}: a POST with Upgrade: websocket was switched to a tunnel`)
        assert.notEqual(res2.status, 101, `${server}: a POST with Upgrade: websocket and a body was switched to a tunnel`)
      })

      test(`${server}: an upgrade the app does not accept leaves no raw tunnel for a second request`, async (t) => {
        const tg = targets.get(server)
        if (tg === null) return t.skip(skipReason(server))
        // A WebSocket version nobody speaks: the app answers without 101. Whatever follows on the
        // connection must be judged by Drawbridge as a request of its own (anonymous: 401).
        const refusedUpgrade = (probe: string) =>
          rawBytes({
            target: `/ws?probe=${probe}`,
            headers: [
              ['Connection', 'Upgrade'],
              ['Upgrade', 'websocket'],
              ['Sec-WebSocket-Version', '777'],
              ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
            ],
          })
        for (const how of ['pipelined', 'after the answer'] as const) {
          const probe = randomUUID()
          const first = refusedUpgrade(probe)
          const second = rawBytes({ target: `/admin/tunnel?probe=${probe}` })
          const c =
            how === 'pipelined'
              ? await converse(tg.gw.url, Buffer.concat([first, second]), { timeoutMs: 3000, idleMs: 300 })
              : await converseSteps(tg.gw.url, [first, second], { timeoutMs: 3000 })
          for (const r of c.responses) assertNoInternalError(r, `${server} upgrade + second request (${how})`)
          const admin: Seen[] = (await probed(tg, probe)).filter((s) => s.route === 'admin')
          assert.equal(admin.length, 0, `${server}: a request sent ${how} a refused upgrade reached the admin handler without Drawbridge's check`)
        }
      })
    })
  }
})
