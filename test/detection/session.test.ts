import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeSession, analyzeSessionName } from '../../src/detection/session/analyzer.js'
import { createEngine } from '../../src/detection/engine.js'
import type { Input } from '../../src/detection/types.js'

test('session fixation: a framework session cookie sent as a parameter is found, generic names pass', () => {
  for (const name of [
    'JSESSIONID',
    'PHPSESSID',
    'ASP.NET_SessionId',
    'ASPSESSIONIDQQGGQGPD',
    'connect.sid',
    'laravel_session',
    '__Secure-next-auth.session-token',
    'koa:sess',
  ]) {
    assert.equal(analyzeSessionName(name)?.rule, 'session-id-parameter', name)
  }
  for (const name of [
    'session_id',
    'sessionId',
    'session',
    'sid',
    'token',
    'session-id',
    'jsessionid_count_total_for_the_dashboard_widget_that_is_long_enough_x',
  ]) {
    assert.equal(analyzeSessionName(name), null, name)
  }
})

test('session fixation: script or markup that sets a cookie is found, talk about cookies passes', () => {
  for (const v of [
    '<script>document.cookie="sid=abc; path=/; expires=Fri, 1 Jan 2100 00:00:00 GMT"</script>',
    "x';document.cookie='id=1;domain=.example.com",
    '<meta http-equiv="Set-Cookie" content="sid=1">',
  ]) {
    assert.ok((analyzeSession(v)?.confidence ?? 0) >= 0.8, v)
  }
  for (const v of [
    'We use cookies; see the cookie policy',
    'document.cookie is read-only here',
    'Set-Cookie: sid=1; Path=/',
    'chocolate cookie recipe; bake for 12 minutes; path to success=patience',
  ]) {
    assert.equal(analyzeSession(v), null, v)
  }
})

test('session fixation: only the URL and the body count; a session cookie in the Cookie header is how it should be', () => {
  const e = createEngine({ paranoia: 1 })
  const at = (location: Input['location'], name: string): Input => ({ location, name, value: 'abc123', formEncoded: location === 'query' })
  assert.equal(e.inspect([at('query', 'JSESSIONID')], null, true).findings[0]?.category, 'session-fixation')
  assert.equal(e.inspect([at('body', 'phpsessid')], null, true).findings[0]?.category, 'session-fixation')
  assert.equal(e.inspect([at('cookie', 'JSESSIONID')], null, true).findings.length, 0)
})

test('session fixation analysis stays linear on long adversarial input', () => {
  for (const v of ['.cookie'.repeat(50_000), '.cookie;'.repeat(50_000), 'http-equiv'.repeat(30_000)]) {
    const t = performance.now()
    analyzeSession(v)
    assert.ok(performance.now() - t < 2000)
  }
})
