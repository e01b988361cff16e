import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = resolve(fileURLToPath(import.meta.url), '../../../..')
const bin = pathToFileURL(join(root, 'bin/drawbridge.js')).href

/**
 * Runs a child that first does `setup`, then keeps two million objects from one object literal:
 * V8 sees nearly all of them survive and pretenures that literal, unless the flag is off.
 * Returns V8's pretenuring trace (--trace-pretenuring-statistics).
 */
function pretenuringTrace(setup: string): string {
  const script = `${setup}
const keep = []
const make = (i) => ({ a: i, b: 'x' })
for (let i = 0; i < 2_000_000; i++) keep.push(make(i))
console.log('kept', keep.length)`
  const r = spawnSync(process.execPath, ['--trace-pretenuring-statistics', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  })
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /kept 2000000/)
  return r.stdout + r.stderr
}

test('without the flag, V8 pretenures an allocation site whose objects survive (the control)', () => {
  assert.match(pretenuringTrace(''), /=> tenure/)
})

test('bin/drawbridge.js turns allocation-site pretenuring off before anything else runs', () => {
  const trace = pretenuringTrace(`process.argv.splice(1, Infinity, 'drawbridge', '--version'); await import(${JSON.stringify(bin)})`)
  assert.doesNotMatch(trace, /pretenuring/)
})
