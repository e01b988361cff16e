/**
 * JSON-lines logger. Level-guarded (nothing is built for a disabled level) and buffered: lines
 * are joined and written once per tick, so an access log line costs one string, not one write.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface LogSink {
  write(chunk: string): unknown
}

// One Date per millisecond, not per line: under load many lines share a timestamp.
let lastMs = 0
let lastIso = ''
function isoNow(): string {
  const now = Date.now()
  if (now !== lastMs) {
    lastMs = now
    lastIso = new Date(now).toISOString()
  }
  return lastIso
}

export class Logger {
  #min: number
  readonly #sink: LogSink
  readonly #base: string
  #buffer = ''
  #scheduled = false

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
    this.#buffer += line
    if (this.#buffer.length > 65_536) this.flush()
    else if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(() => this.flush())
    }
  }

  flush(): void {
    this.#scheduled = false
    if (this.#buffer === '') return
    const out = this.#buffer
    this.#buffer = ''
    this.#sink.write(out)
  }
}
