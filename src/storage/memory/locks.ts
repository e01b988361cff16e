/** Single-flight locks inside one process: callers of the same name run one after another. */
import type { Locks } from '../types.js'

export class MemoryLocks implements Locks {
  readonly #tails = new Map<string, Promise<unknown>>()

  async withLock<T>(name: string, _ttlMs: number, fn: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(name) ?? Promise.resolve()
    const run = before.then(fn, fn)
    const tail = run.then(
      () => undefined,
      () => undefined,
    )
    this.#tails.set(name, tail)
    try {
      return await run
    } finally {
      // The last one out removes the entry, so the map holds only names in use.
      if (this.#tails.get(name) === tail) this.#tails.delete(name)
    }
  }
}
