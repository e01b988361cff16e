/**
 * A cap on concurrent upstream requests with a bounded FIFO queue (backpressure): beyond
 * `maxConcurrent` requests wait; beyond `maxQueue` waiting, or after `queueTimeout`, they are
 * refused (the caller answers 503 with Retry-After) instead of piling onto a struggling app.
 */

type Waiter = { resolve: (ok: boolean) => void; timer: NodeJS.Timeout | null; done: boolean }

export class ConcurrencyLimiter {
  active = 0
  readonly #max: number
  readonly #maxQueue: number
  readonly #timeout: number
  #queue: Waiter[] = []
  #head = 0

  constructor(maxConcurrent: number, maxQueue: number, queueTimeoutMs: number) {
    this.#max = maxConcurrent
    this.#maxQueue = maxQueue
    this.#timeout = queueTimeoutMs
  }

  get queued(): number {
    return this.#queue.length - this.#head
  }

  /** true: a slot is taken now; false: refused at once; a promise: queued (false on timeout). */
  acquire(): boolean | Promise<boolean> {
    if (this.active < this.#max) {
      this.active++
      return true
    }
    if (this.queued >= this.#maxQueue) return false
    return new Promise<boolean>((resolve) => {
      const w: Waiter = { resolve, timer: null, done: false }
      w.timer = setTimeout(() => {
        w.done = true
        resolve(false)
      }, this.#timeout)
      this.#queue.push(w)
    })
  }

  /** Cancels a queued waiter whose client went away (its slot is not taken). */
  release(): void {
    while (this.#head < this.#queue.length) {
      const w = this.#queue[this.#head]!
      this.#queue[this.#head++] = undefined as unknown as Waiter
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head)
        this.#head = 0
      }
      if (w.done) continue
      w.done = true
      clearTimeout(w.timer!)
      w.resolve(true) // the slot passes straight to the waiter
      return
    }
    this.active--
  }
}
