import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { renderConfigReference } from '../../src/config/reference.js'

// dist/test/config/ -> the repository root
const committed = new URL('../../../docs/configuration.md', import.meta.url)

test('docs/configuration.md is the reference rendered from the schema', () => {
  const rendered = renderConfigReference()
  let text: string
  try {
    text = readFileSync(committed, 'utf8')
  } catch {
    assert.fail('docs/configuration.md is missing: run `npm run docs:config` and commit it')
  }
  if (text === rendered) return
  const a = text.split('\n')
  const b = rendered.split('\n')
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  assert.fail(
    `docs/configuration.md is out of date with src/config/schema.ts: run \`npm run docs:config\` and commit the result.\n` +
      `first difference at line ${i + 1}:\n  committed: ${a[i] ?? '(end of file)'}\n  rendered:  ${b[i] ?? '(end of file)'}`,
  )
})

test('the reference lists every top-level setting, with a description for each key', () => {
  // renderConfigReference throws when a key has no description; this checks the sections too
  const rendered = renderConfigReference()
  for (const key of [
    'mode',
    'upstream.url',
    'limits.max_body_bytes',
    'routes[].match.path',
    'auth.brute_force.window',
    'storage.redis.key_prefix',
    'shutdown.drain_timeout',
  ]) {
    assert.ok(rendered.includes(`| \`${key}\` |`), `no row for ${key}`)
  }
  assert.match(rendered, /Settings that take a secret: `admin\.token`, `auth\.key_encryption_key`, `storage\.postgres\.url`, `storage\.redis\.url`\./)
})
