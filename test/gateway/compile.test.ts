import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compilePathMatcher } from '../../src/net/path-matcher.js'
import { compilePipeline } from '../../src/gateway/compile.js'
import { testConfig } from '../helpers/gateway.js'

test('path matchers: prefixes on segment boundaries, * one segment, ** any', () => {
  const prefix = compilePathMatcher('/upload')
  assert.ok(prefix('/upload') && prefix('/upload/a/b'))
  assert.ok(!prefix('/uploads'))
  const one = compilePathMatcher('/files/*/raw')
  assert.ok(one('/files/a/raw') && !one('/files/a/b/raw'))
  const any = compilePathMatcher('/static/**')
  assert.ok(any('/static') && any('/static/a/b.css') && !any('/staticx'))
  const ext = compilePathMatcher('/**/*.json')
  assert.ok(ext('/a/b/c.json') && !ext('/a/b/c.jsonx'))
})

test('routes: first match wins, methods narrow, unmatched use the default route', () => {
  const p = compilePipeline(
    testConfig({
      upstream: 'http://127.0.0.1:1',
      routes: [
        { name: 'uploads', match: { path: '/upload', methods: ['POST'] }, max_body_bytes: 10, response_timeout: '2s' },
        { name: 'pages', match: { path: '/app/**' }, headers: { profile: 'html' }, request_buffering: false },
        { name: 'reports', match: { path: '/reports', methods: ['GET'] }, response_timeout: '3s' },
      ],
    }),
  )
  // HEAD runs the GET handler (RFC 9110 §9.3.2): a route on GET covers it.
  assert.equal(p.match('/reports', 'HEAD', '/reports').name, 'reports')
  assert.equal(p.match('/reports', 'POST', '/reports').name, 'default')
  const u = p.match('/upload/x', 'POST', '/upload/x')
  assert.equal(u.name, 'uploads')
  assert.equal(u.maxBodyBytes, 10)
  assert.equal(u.responseTimeout, 2000)
  assert.equal(p.match('/upload/x', 'GET', '/upload/x').name, 'default')
  assert.equal(p.match('/upload/x', 'HEAD', '/upload/x').name, 'default')
  assert.equal(p.match('/app/a', 'GET', '/app/a').requestBuffering, false)
  assert.equal(p.match('/other', 'GET', '/other'), p.defaultRoute)
})

test('a route that loosens a protection matches only the case it is written in (Starlette routes /UPLOAD elsewhere, with the WAF off)', () => {
  const p = compilePipeline(
    testConfig({
      upstream: 'http://127.0.0.1:1',
      routes: [
        { name: 'raw', match: { path: '/upload' }, waf: { enabled: false } },
        { name: 'big', match: { path: '/Import' }, max_body_bytes: 10_000_000 },
        { name: 'small', match: { path: '/tiny' }, max_body_bytes: 10 },
      ],
    }),
  )
  // the canonical path is lower-cased; the raw one decides for the loosening routes
  assert.equal(p.match('/upload/x', 'POST', '/upload/x').name, 'raw')
  assert.equal(p.match('/upload/x', 'POST', '/UPLOAD/x').name, 'default')
  assert.equal(p.match('/upload/x', 'POST', '/%55pload/x').name, 'default')
  assert.equal(p.match('/upload/x', 'POST', '/%75pload/x').name, 'raw')
  assert.equal(p.match('/import', 'POST', '/Import').name, 'big')
  assert.equal(p.match('/import', 'POST', '/import').name, 'default')
  // a route that only tightens still matches any case (safe for case-insensitive apps)
  assert.equal(p.match('/tiny', 'POST', '/TINY').name, 'small')
})
