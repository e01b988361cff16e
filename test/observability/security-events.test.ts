/**
 * Security events survive a store that blips: the batch is kept and retried with
 * backoff; only what overflows the bounded queue, or a store still down at close, is dropped and
 * counted.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SecurityEvents, type DetectionRecord } from '../../src/observability/security-events.js'
import { Logger } from '../../src/observability/logger.js'
import { Metrics } from '../../src/observability/metrics.js'
import { createRedactor } from '../../src/observability/redact.js'
import { MemoryEventStore } from '../../src/storage/memory/events.js'
import { StorageUnavailable } from '../../src/errors.js'
import type { SecurityEvent } from '../../src/storage/types.js'

const quiet = new Logger('error', { write: () => true })
const redact = createRedactor([])

function detection(i: number): DetectionRecord {
  return {
    requestId: `r${i}`,
    clientIp: '127.0.0.1',
    method: 'GET',
    path: '/x',
    route: 'default',
    score: 5,
    action: 'blocked',
    findings: [{ category: 'sql', rule: 'sqli', confidence: 1, location: 'query', name: 'q', matched: "' or 1=1" }],
  }
}

/** A memory store whose first `failures` appends throw like an unreachable database. */
class FlakyStore extends MemoryEventStore {
  failures: number
  attempts = 0
  constructor(failures: number) {
    super()
    this.failures = failures
  }
  override async append(events: readonly SecurityEvent[]): Promise<void> {
    this.attempts++
    if (this.failures-- > 0) throw new StorageUnavailable('postgres', 'down')
    return super.append(events)
  }
}

const dropped = (m: Metrics) => m.snapshot().counters['drawbridge_security_events_dropped_total']?.[''] ?? 0

test('a batch refused by an unavailable store is retried until stored, in order, none dropped', async () => {
  const store = new FlakyStore(3)
  const metrics = new Metrics()
  const events = new SecurityEvents(store, quiet, metrics)
  events.record(detection(1), redact)
  events.record(detection(2), redact)
  await events.flush()
  events.record(detection(3), redact)
  const deadline = Date.now() + 10_000
  while ((await store.list({ limit: 10 })).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  assert.deepEqual(
    (await store.list({ limit: 10 })).map((e) => e.request_id),
    ['r3', 'r2', 'r1'],
  )
  assert.ok(store.attempts >= 4)
  assert.equal(dropped(metrics), 0)
  await events.close()
})

test('an error that is not unavailability, or a store still down at close, drops and counts', async () => {
  const metrics = new Metrics()
  const broken = new (class extends MemoryEventStore {
    override async append(): Promise<void> {
      throw new Error('bug')
    }
  })()
  const events = new SecurityEvents(broken, quiet, metrics)
  events.record(detection(1), redact)
  await events.flush()
  assert.equal(dropped(metrics), 1)

  const down = new FlakyStore(Infinity)
  const m2 = new Metrics()
  const e2 = new SecurityEvents(down, quiet, m2)
  e2.record(detection(1), redact)
  e2.record(detection(2), redact)
  await e2.close()
  assert.equal(dropped(m2), 2)
})

/** A memory store that takes `ms` per append (a slow or unanswering database). */
class SlowStore extends MemoryEventStore {
  readonly ms: number
  constructor(ms: number) {
    super()
    this.ms = ms
  }
  override async append(events: readonly SecurityEvent[]): Promise<void> {
    await new Promise((r) => setTimeout(r, this.ms))
    return super.append(events)
  }
}

test('stored(): resolves once the recorded events are in the store (one write for concurrent callers), never later than its bound', async () => {
  const store = new SlowStore(30)
  const events = new SecurityEvents(store, quiet, new Metrics())
  for (let i = 0; i < 5; i++) events.record(detection(i), redact)
  await Promise.all(Array.from({ length: 5 }, () => events.stored(1000)))
  assert.equal((await store.list({ limit: 10 })).length, 5)

  const slow = new SlowStore(3000)
  const held = new SecurityEvents(slow, quiet, new Metrics())
  held.record(detection(9), redact)
  const t0 = Date.now()
  await held.stored(200)
  assert.ok(Date.now() - t0 < 600, `waited ${Date.now() - t0} ms`)
  // A second caller while that write is still in flight is bounded too.
  const t1 = Date.now()
  await held.stored(200)
  assert.ok(Date.now() - t1 < 600, `waited ${Date.now() - t1} ms`)
  await held.close()
  await events.close()
})

test('the event log line has one "time"; auth events are counted apart from WAF detections', async () => {
  const chunks: string[] = []
  const logger = new Logger('info', { write: (chunk: Buffer) => void chunks.push(chunk.toString('utf8')) })
  const metrics = new Metrics()
  const events = new SecurityEvents(new MemoryEventStore(), logger, metrics)
  events.record(detection(1), redact)
  events.record(
    { ...detection(2), findings: [{ category: 'auth', rule: 'auth-login-failed', confidence: 1, location: 'body', name: 'username', matched: 'alice' }] },
    redact,
  )
  logger.flush()
  const lines = chunks
    .join('')
    .split('\n')
    .filter((l) => l.includes('"security event"'))
  assert.equal(lines.length, 2)
  for (const line of lines) assert.equal(line.match(/"time":/g)?.length, 1, line)
  assert.equal((JSON.parse(lines[0]!) as { rule: string }).rule, 'sqli')
  const counters = metrics.snapshot().counters
  assert.deepEqual(counters['drawbridge_waf_detections_total'], { 'category="sql",action="blocked"': 1 })
  assert.deepEqual(counters['drawbridge_auth_events_total'], { 'rule="auth-login-failed",action="blocked"': 1 })
  // the stored events keep their time
  await events.flush()
  for (const e of await events.store.list({ limit: 10 })) assert.match(e.time, /^\d{4}-\d{2}-\d{2}T/)
  await events.close()
})
