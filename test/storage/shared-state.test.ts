/** The in-process shared state: the conformance suite, and the bound on the keys a counter holds. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CounterCapacity, StorageUnavailable } from '../../src/errors.js'
import { createSharedState } from '../../src/storage/shared-state.js'
import { testConfig } from '../helpers/gateway.js'
import { sharedStateConformance } from './conformance.js'

const config = testConfig({ upstream: 'http://127.0.0.1:1' })

// One process's memory: both "instances" are this process.
sharedStateConformance('memory', async () => {
  const s = createSharedState(config)
  return [s, s] as const
})

test('an in-process counter holds a bounded number of keys: past it a new key is a store error (not "over the limit"); known keys still count; ended windows make room', async () => {
  const s = createSharedState(config, { maxKeys: 3 })
  const l = s.limiter({ name: 'hdr', points: 2, seconds: 1 })
  const outcome = (key: string) =>
    l.consume(key).then(
      (r) => (r.allowed ? 'ok' : 'over'),
      (e: unknown) => (e instanceof CounterCapacity ? 'full' : 'error'),
    )
  assert.deepEqual([await outcome('a'), await outcome('b'), await outcome('c')], ['ok', 'ok', 'ok'])
  assert.equal(await outcome('d'), 'full')
  // A full counter is a store fault like an outage: callers apply `on_store_error`.
  await assert.rejects(l.consume('d'), (e: unknown) => e instanceof StorageUnavailable && e.store === 'memory')
  // Keys already held keep counting to their limit.
  assert.deepEqual([await outcome('a'), await outcome('a')], ['ok', 'over'])
  await new Promise((r) => setTimeout(r, 1100))
  assert.equal(await outcome('d'), 'ok')
  assert.equal(await outcome('e'), 'ok')
  await s.close()
})
