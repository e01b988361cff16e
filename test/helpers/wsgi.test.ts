import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startWsgi, wsgiSkipReason, type WsgiServer } from './wsgi.js'

for (const server of ['gunicorn', 'waitress'] as const satisfies readonly WsgiServer[]) {
  test(`${server} serves the fixture app and reports the WSGI environ; close() stops it`, async (t) => {
    const app = await startWsgi({ server, app: 'wsgi_app:app' })
    if (app === null) return t.skip(wsgiSkipReason(server))
    try {
      const res = await fetch(`${app.url}/admin/x?y=1`, { headers: { 'x-probe': 'yes' } })
      assert.equal(res.status, 200)
      const body = (await res.json()) as { route: string; path_info: string; environ: Record<string, string> }
      assert.equal(body.route, 'admin')
      assert.equal(body.path_info, '/admin/x')
      assert.equal(body.environ.HTTP_X_PROBE, 'yes')
    } finally {
      await app.close()
    }
    await assert.rejects(fetch(`${app.url}/`, { signal: AbortSignal.timeout(2_000) }))
  })
}
