/**
 * A node:cluster worker for the lock tests: takes locks through the primary on request and
 * reports when it held them (epoch ms, sub-millisecond).
 */
import { WorkerLocks } from '../../src/storage/cluster/locks.js'

interface Run {
  readonly run: { readonly name: string; readonly count: number; readonly holdMs: number; readonly ttlMs: number }
}

// Also loaded by the test runner, which runs every file under test/: without IPC it does nothing.
if (typeof process.send === 'function') {
  const locks = new WorkerLocks()
  const now = () => performance.timeOrigin + performance.now()

  process.on('message', (m: unknown) => {
    if (typeof m !== 'object' || m === null || !('run' in m)) return
    const { name, count, holdMs, ttlMs } = (m as Run).run
    const held: [number, number][] = []
    const one = () =>
      locks.withLock(name, ttlMs, async () => {
        const start = now()
        process.send!({ holding: start })
        await new Promise((r) => setTimeout(r, holdMs))
        held.push([start, now()])
      })
    void Promise.allSettled(Array.from({ length: count }, one)).then((r) =>
      process.send!({ name, held, failed: r.filter((x) => x.status === 'rejected').length }),
    )
  })
  process.send({ ready: true })
}
