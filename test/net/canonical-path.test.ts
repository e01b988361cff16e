import { test } from 'node:test'
import assert from 'node:assert/strict'
import { canonicalPath, decodedPath } from '../../src/net/canonical-path.js'

test('canonical paths are the decoded path, lower-cased, without a trailing slash', () => {
  const cases: [string, string][] = [
    ['/', '/'],
    ['/docs', '/docs'],
    ['/docs/', '/docs'],
    ['/DOCS', '/docs'],
    ['/%64ocs', '/docs'],
    ['/openapi.json', '/openapi.json'],
    ['/a.b/..c/c..', '/a.b/..c/c..'],
    ['/caf%C3%A9', '/café'],
    ['/100%25', '/100%'],
    ['/a%20b', '/a b'],
  ]
  for (const [input, expected] of cases) assert.equal(canonicalPath(input), expected, input)
  assert.equal(decodedPath('/Admin/%58'), '/Admin/X')
})

// Starlette and Werkzeug route `/admin/../health` to `/admin/{rest:path}`, servlets drop
// `;params`, some servers split on `\` or decode twice: any path that two servers could read
// differently is refused rather than resolved one way.
test('paths that servers read differently are refused, not resolved (dot segments, ;, \\, %2f, //)', () => {
  const refused = [
    '/..',
    '/.',
    '/admin/..',
    '/admin/../health',
    '/api/../docs',
    '/./docs',
    '/docs/.',
    '/admin/%2e%2e',
    '/admin/.%2e/health',
    '/admin/%2E./health',
    '/admin/x/..;/',
    '/health/..;/admin',
    '/docs;jsessionid=1',
    '/docs;%2fx',
    '/health%3bx',
    '/uploads/do.php%3B.png', // a script name cut short where ';' ends the segment
    '/uploads/a.asp;.jpg',
    '/api\\..\\docs',
    '/health\\x',
    '/health%5cx',
    '/a%2Fb',
    '/health%2f..%2fadmin',
    '//admin',
    '/admin//x',
    '/admin//',
    '/%252e%252e/admin',
    '/%zz',
    '/%00',
    '/a%0Ab',
    '/%C3%28', // invalid UTF-8
    '/%C0%AE%C0%AE', // overlong '.'
  ]
  for (const input of refused) {
    assert.equal(canonicalPath(input), null, input)
    assert.equal(decodedPath(input), null, input)
  }
})
