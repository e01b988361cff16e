import { test } from 'node:test'
import assert from 'node:assert/strict'
import { canonicalPath } from '../../src/pipeline/canonical-path.js'

test('canonical paths defeat encoding and dot-segment tricks', () => {
  const cases: [string, string | null][] = [
    ['/', '/'],
    ['/docs', '/docs'],
    ['/docs/', '/docs'],
    ['/DOCS', '/docs'],
    ['/%64ocs', '/docs'],
    ['//docs', '/docs'],
    ['/api/../docs', '/docs'],
    ['/./docs/.', '/docs'],
    ['/docs;jsessionid=1', '/docs'],
    ['/docs;%2fx', '/docs'],
    ['/docs;\\x', '/docs'],
    ['/api\\..\\docs', '/docs'],
    ['/a%2Fb', '/a/b'],
    ['/openapi.json', '/openapi.json'],
    ['/caf%C3%A9', '/café'],
    ['/..', null],
    ['/a/../../etc/passwd', null],
    ['/%zz', null],
    ['/%00', null],
    ['/a%0Ab', null],
    ['/%C3%28', null], // invalid UTF-8
  ]
  for (const [input, expected] of cases) assert.equal(canonicalPath(input), expected, input)
})
