/**
 * JSON-lines logger. Level-guarded (nothing is built for a disabled level) and buffered: lines
 * are joined and written together, `flushMs` after the first or once `flushBytes` are waiting,
 * so that under load one write carries hundreds of access log lines (a write per tick carried a
 * handful, and cost a system call and a string flattening each). Whatever waits is written when
 * the process exits (stdout to a file or pipe is synchronous on Linux).
 *
 * Lines wait as bytes in a Buffer, copied there as soon as they are made: waiting as strings,
 * 50 ms of access log lines (each a tree of concatenated pieces) were alive at every
 * young-generation collection, which copied them all; the Buffer's bytes are outside the heap.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface LogSink {
  /** Receives a chunk of whole lines, UTF-8; the sink may keep it (it is never reused). */
  write(chunk: Buffer): unknown
}

const flushMs = 50
const flushBytes = 64 * 1024

// One Date.toISOString per second, not per line (it costs as much as the rest of the line):
// the milliseconds are appended to the second's `YYYY-MM-DDTHH:MM:SS.` prefix.
let lastSecond = -1
let secondPrefix = ''
function isoNow(): string {
  const now = Date.now()
  const second = Math.floor(now / 1000)
  if (second !== lastSecond) {
    lastSecond = second
    secondPrefix = new Date(second * 1000).toISOString().slice(0, 20)
  }
  const ms = now - second * 1000
  return secondPrefix + (ms < 10 ? '00' : ms < 100 ? '0' : '') + ms + 'Z'
}

// Loggers with lines waiting, written at exit
const waiting = new Set<Logger>()
process.on('exit', () => {
  for (const logger of waiting) logger.flush()
})

export class Logger {
  #min: number
  readonly #sink: LogSink
  readonly #base: string
  // Allocated when a line comes to an empty logger, handed to the sink whole at flush
  #buffer: Buffer | null = null
  #length = 0
  #timer: NodeJS.Timeout | null = null

  constructor(level: LogLevel = 'info', sink: LogSink = process.stdout, base: Record<string, unknown> = {}) {
    this.#min = rank[level]
    this.#sink = sink
    const b = JSON.stringify(base)
    this.#base = b === '{}' ? '' : b.slice(1, -1) + ','
  }

  setLevel(level: LogLevel): void {
    this.#min = rank[level]
  }

  enabled(level: LogLevel): boolean {
    return rank[level] >= this.#min
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    if (rank.debug >= this.#min) this.#emit('debug', msg, fields)
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    if (rank.info >= this.#min) this.#emit('info', msg, fields)
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    if (rank.warn >= this.#min) this.#emit('warn', msg, fields)
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    if (rank.error >= this.#min) this.#emit('error', msg, fields)
  }

  /**
   * A line whose fields are already serialised (`"a":1,"b":"x"`, no braces): the access log
   * builds its line directly instead of going through an object and JSON.stringify.
   */
  raw(level: LogLevel, msg: string, serialisedFields: string): void {
    if (rank[level] < this.#min) return
    this.#append(`{"time":"${isoNow()}","level":"${level}",${this.#base}"msg":"${msg}",${serialisedFields}}\n`)
  }

  #emit(level: LogLevel, msg: string, fields: Record<string, unknown> | undefined): void {
    let line = `{"time":"${isoNow()}","level":"${level}",${this.#base}"msg":${JSON.stringify(msg)}`
    if (fields !== undefined) {
      const f = JSON.stringify(fields)
      if (f.length > 2) line += ',' + f.slice(1, -1)
    }
    this.#append(line + '}\n')
  }

  #append(line: string): void {
    // at most 3 bytes per UTF-16 unit: a line that may not fit goes after what waits
    if (this.#buffer !== null && this.#length + line.length * 3 > this.#buffer.length) this.flush()
    if (this.#buffer === null) this.#buffer = Buffer.allocUnsafeSlow(Math.max(flushBytes, line.length * 3))
    this.#length += this.#buffer.write(line, this.#length, 'utf8')
    if (this.#length >= flushBytes) this.flush()
    else if (this.#timer === null) {
      // unref: waiting lines never keep the process alive (the exit hook writes them)
      this.#timer = setTimeout(() => this.flush(), flushMs).unref()
      waiting.add(this)
    }
  }

  /** Writes the waiting lines now (before a response is read in tests, and at shutdown). */
  flush(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer)
      this.#timer = null
      waiting.delete(this)
    }
    if (this.#buffer === null) return
    const out = this.#buffer.subarray(0, this.#length)
    this.#buffer = null
    this.#length = 0
    this.#sink.write(out)
  }
}
