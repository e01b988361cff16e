/**
 * Header-name spellings against real WSGI/ASGI servers. gunicorn turns `X_Drawbridge_Roles` into
 * the same HTTP_X_DRAWBRIDGE_ROLES as `X-Drawbridge-Roles` (and joins repeats with a comma),
 * takes a `SCRIPT_NAME` header as the mount point, and so on: a forged identity, role, client
 * address, method or script name must never reach the app in any spelling, and the classic
 * spoofing headers (X-Original-URL, True-Client-IP...) must not reach it at all. Headers named in
 * `Connection` must not make Drawbridge's own headers disappear.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { pythonServers, skipReason, type Seen } from '../helpers/python-apps.js'
import { appHeader, appReceived, assertNoInternalError, bearer, send, useTargets, verdictOf, type Target } from './support.js'

const targets = useTargets()

/** The forged values carry this marker, so any copy the app received is found. */
const FORGED = 'forged'
const FORGED_IP = '203.0.113.66'

interface HeaderCase {
  readonly name: string
  readonly headers: [string, string][]
  readonly marker: string
}

const identityCases: HeaderCase[] = [
  { name: 'X_Drawbridge_User', headers: [['X_Drawbridge_User', `mallory-${FORGED}`]], marker: FORGED },
  { name: 'X_Drawbridge_Roles', headers: [['X_Drawbridge_Roles', `admin,${FORGED}`]], marker: FORGED },
  { name: 'X-Drawbridge_User', headers: [['X-Drawbridge_User', `mallory-${FORGED}`]], marker: FORGED },
  { name: 'X_Drawbridge-Roles', headers: [['X_Drawbridge-Roles', `admin,${FORGED}`]], marker: FORGED },
  { name: 'X_DRAWBRIDGE_USER_ID', headers: [['X_DRAWBRIDGE_USER_ID', `id-${FORGED}`]], marker: FORGED },
  { name: 'x_drawbridge_auth', headers: [['x_drawbridge_auth', `api-key-${FORGED}`]], marker: FORGED },
  { name: 'X_Drawbridge_Token', headers: [['X_Drawbridge_Token', `token-${FORGED}`]], marker: FORGED },
  { name: 'x-DRAWBRIDGE-user (case)', headers: [['x-DRAWBRIDGE-user', `mallory-${FORGED}`]], marker: FORGED },
  {
    name: 'X-Drawbridge-Roles twice',
    headers: [
      ['X-Drawbridge-Roles', `admin-${FORGED}`],
      ['X-Drawbridge-Roles', `root-${FORGED}`],
    ],
    marker: FORGED,
  },
  {
    name: 'X-Drawbridge-Roles and X_Drawbridge_Roles',
    headers: [
      ['X-Drawbridge-Roles', `admin-${FORGED}`],
      ['X_Drawbridge_Roles', `admin-${FORGED}`],
    ],
    marker: FORGED,
  },
  { name: 'SCRIPT_NAME', headers: [['SCRIPT_NAME', `/${FORGED}`]], marker: FORGED },
  { name: 'Script_Name', headers: [['Script_Name', `/${FORGED}`]], marker: FORGED },
]

const spoofingCases: HeaderCase[] = [
  ...[
    'X-Forwarded-For',
    'X_Forwarded_For',
    'X-Real-IP',
    'X_Real_IP',
    'True-Client-IP',
    'CF-Connecting-IP',
    'X-Client-IP',
    'X-Cluster-Client-IP',
    'Client-IP',
    'X-Originating-IP',
    'Fastly-Client-IP',
  ].map((name) => ({ name, headers: [[name, FORGED_IP]] as [string, string][], marker: FORGED_IP })),
  { name: 'Forwarded', headers: [['Forwarded', `for=${FORGED_IP};host=${FORGED}.example;proto=https`]], marker: FORGED_IP },
  ...['X-Original-URL', 'X-Rewrite-URL', 'X-Forwarded-Prefix', 'X_Forwarded_Prefix', 'X-Original-URI', 'X-Forwarded-Path'].map((name) => ({
    name,
    headers: [[name, `/admin/${FORGED}`]] as [string, string][],
    marker: FORGED,
  })),
  ...['X-Forwarded-Host', 'X_Forwarded_Host', 'X-Forwarded-Server', 'X-Host', 'X-HTTP-Host-Override'].map((name) => ({
    name,
    headers: [[name, `${FORGED}.example`]] as [string, string][],
    marker: FORGED,
  })),
  { name: 'X-Forwarded-Port', headers: [['X-Forwarded-Port', '65066']], marker: '65066' },
  { name: 'X-Forwarded-Scheme', headers: [['X-Forwarded-Scheme', FORGED]], marker: FORGED },
  { name: 'X_Forwarded_Proto', headers: [['X_Forwarded_Proto', FORGED]], marker: FORGED },
]

/** Sends alice's authenticated GET with the extra headers; returns what the app saw (or fails). */
async function asAlice(tg: Target, extra: [string, string][], target = '/items/7') {
  const res = await send(tg.gw.url, { target, headers: [bearer(tg.userToken), ...extra] })
  assertNoInternalError(res, `${tg.server} ${JSON.stringify(extra)}`)
  return { res, v: verdictOf(res) }
}

/** The app saw alice with her roles and the real client, as Drawbridge set them, and nothing forged. */
function assertTrueIdentity(tg: Target, c: HeaderCase, seen: Seen): void {
  const where = `${tg.server}, ${c.name}`
  const leaked = seen.headers.filter(([, v]) => v.includes(c.marker)).map(([n, v]) => `${n}: ${v}`)
  if ((seen.script_name ?? '').includes(c.marker)) leaked.push(`SCRIPT_NAME=${seen.script_name}`)
  assert.ok(!appReceived(seen).includes(c.marker), `${where}: the app received the forged value: ${leaked.join(' | ')}`)
  assert.equal(appHeader(seen, 'x-drawbridge-user'), 'alice', `${where}: user header`)
  assert.equal(appHeader(seen, 'x-drawbridge-roles'), 'user', `${where}: roles header`)
  // uvicorn believes X-Forwarded-For from 127.0.0.1 and reports no client when that names a trusted proxy too.
  assert.ok(seen.client === '127.0.0.1' || (seen.app === 'starlette' && seen.client === null), `${where}: client address ${seen.client}`)
  assert.ok((seen.script_name ?? '') === '', `${where}: script name ${seen.script_name}`)
  assert.equal(seen.route, 'items', `${where}: route`)
}

// The three servers run side by side; cases within a server run in order.
describe('header spellings through Drawbridge', { concurrency: true }, () => {
  for (const server of pythonServers) {
    describe(`header spellings through Drawbridge to ${server}`, () => {
      test(`${server}: the control: alice reaches the app with Drawbridge's identity headers and her real address`, async (t) => {
        const tg = targets.get(server)
        if (tg === null) return t.skip(skipReason(server))
        const { v } = await asAlice(tg, [])
        assert.equal(v.kind, 'app')
        if (v.kind === 'app') assertTrueIdentity(tg, { name: 'none', headers: [], marker: FORGED }, v.seen)
      })

      test(`${server}: a forged identity, role or script name never reaches the app in any header spelling`, async (t) => {
        const tg = targets.get(server)
        if (tg === null) return t.skip(skipReason(server))
        for (const c of identityCases) {
          await t.test(c.name, async () => {
            const { v } = await asAlice(tg, c.headers)
            if (v.kind === 'refused') return
            assert.equal(v.kind, 'app', `${server}, ${c.name}: neither refused nor answered by the app (${v.status})`)
            if (v.kind === 'app') assertTrueIdentity(tg, c, v.seen)
          })
        }
      })

      test(`${server}: spoofed client-address, URL-rewrite and host headers never reach the app`, async (t) => {
        const tg = targets.get(server)
        if (tg === null) return t.skip(skipReason(server))
        for (const c of spoofingCases) {
          await t.test(c.name, async () => {
            const { v } = await asAlice(tg, c.headers)
            if (v.kind === 'refused') return
            assert.equal(v.kind, 'app', `${server}, ${c.name}: neither refused nor answered by the app (${v.status})`)
            if (v.kind === 'app') {
              assertTrueIdentity(tg, c, v.seen)
              assert.equal(v.seen.scheme, 'http', `${server}, ${c.name}: scheme`)
            }
          })
        }
      })

      test(`${server}: a SCRIPT_NAME header cannot remount a public path onto the admin route`, async (t) => {
        const tg = targets.get(server)
        if (tg === null) return t.skip(skipReason(server))
        for (const name of ['SCRIPT_NAME', 'Script_Name', 'script_name']) {
          await t.test(name, async () => {
            const res = await send(tg.gw.url, { target: '/public/admin/x', headers: [[name, '/public']] })
            assertNoInternalError(res, `${server} ${name}`)
            const v = verdictOf(res)
            if (v.kind === 'app')
              assert.notEqual(v.seen.route, 'admin', `${server}: ${name}: /public/admin/x ran the admin handler (path_info ${v.seen.path_info})`)
          })
        }
      })

      test(`${server}: headers named in Connection cannot strip the identity, address or request id Drawbridge sets`, async (t) => {
        const tg = targets.get(server)
        if (tg === null) return t.skip(skipReason(server))
        const lists = [
          'x-drawbridge-user, x-drawbridge-roles, x-drawbridge-user-id, x-drawbridge-auth',
          'x-forwarded-for, x-real-ip, x-forwarded-proto, x-forwarded-host',
          'x-request-id',
          'keep-alive, X-Drawbridge-Roles',
          'content-type, authorization, x-forwarded-for',
        ]
        for (const list of lists) {
          await t.test(`Connection: ${list}`, async () => {
            const { res, v } = await asAlice(tg, [['Connection', list]])
            if (v.kind === 'refused') return
            assert.equal(v.kind, 'app', `${server}: Connection: ${list}: ${v.status}`)
            if (v.kind !== 'app') return
            assert.equal(appHeader(v.seen, 'x-drawbridge-user'), 'alice', `${server}: Connection: ${list}: user header`)
            assert.equal(appHeader(v.seen, 'x-drawbridge-roles'), 'user', `${server}: Connection: ${list}: roles header`)
            assert.equal(appHeader(v.seen, 'x-request-id'), res.header('x-request-id'), `${server}: Connection: ${list}: request id`)
            assert.equal(appHeader(v.seen, 'x-forwarded-for'), '127.0.0.1', `${server}: Connection: ${list}: X-Forwarded-For`)
            assert.ok(
              v.seen.client === '127.0.0.1' || (v.seen.app === 'starlette' && v.seen.client === null),
              `${server}: Connection: ${list}: client ${v.seen.client}`,
            )
          })
        }
      })

      test(`${server}: an anonymous client cannot pose as a user with identity headers in any spelling`, async (t) => {
        const tg = targets.get(server)
        if (tg === null) return t.skip(skipReason(server))
        const forged: [string, string][] = [
          ['X_Drawbridge_User', 'root'],
          ['X_Drawbridge_Roles', 'admin'],
          ['X-Drawbridge_Auth', 'bearer'],
        ]
        const res = await send(tg.gw.url, { target: '/public/whoami', headers: forged })
        const v = verdictOf(res)
        if (v.kind !== 'app') return
        assert.equal(appHeader(v.seen, 'x-drawbridge-user'), undefined, `${server}: anonymous request reached the app with a user header`)
        assert.equal(appHeader(v.seen, 'x-drawbridge-roles'), undefined, `${server}: anonymous request reached the app with a roles header`)
        assert.equal(appHeader(v.seen, 'x-drawbridge-auth'), undefined, `${server}: anonymous request reached the app with an auth header`)
      })
    })
  }
})
