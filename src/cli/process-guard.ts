/**
 * The process-level guard `drawbridge start` installs: exceptions and promise rejections that
 * no handler caught. Request faults never get here (the pipeline answers them with a 500 and
 * logs them with their request id); what does escaped every request: an emitter without an
 * 'error' listener, a throwing timer or callback, an unawaited promise.
 *
 * Node's documentation says the process is in an undefined state after an uncaught exception,
 * so the policy is narrow:
 * - `connection`: an error a single connection or stream raises when its peer goes away
 *   (ECONNRESET, EPIPE, ...). It concerns that connection only; the process serves on.
 * - `fatal`: anything else. The process stops accepting, lets in-flight requests finish for a
 *   short while, and exits with ExitInternalError, so that the cluster primary (or the
 *   supervisor: systemd, Kubernetes) starts a fresh process, while the other workers serve.
 * Both are logged (name, code, redacted message and stack) and counted in
 * drawbridge_uncaught_exceptions_total. No request id: finding the request an exception came
 * from would take an AsyncLocalStorage context per request, which costs on every request for
 * the benefit of the rare one; the stack says where it came from.
 */
import type { Logger } from '../observability/logger.js'

export type UncaughtKind = 'connection' | 'fatal'

/** Error codes of a peer that went away or a connection that timed out: local to one connection. */
const connectionCodes: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE'])

export function classify(err: unknown): UncaughtKind {
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined
  return typeof code === 'string' && connectionCodes.has(code) ? 'connection' : 'fatal'
}

export interface GuardOptions {
  readonly logger: Logger
  /** Redacts secrets from free text (the logging.redact_fields redactor). */
  readonly redact: (text: string) => string
  readonly count: (kind: UncaughtKind) => void
  /** Called once, at the first fatal one: drain and exit. */
  readonly fatal: () => void
}

/** Installs the handlers; returns a function that removes them. */
export function installProcessGuard(options: GuardOptions): () => void {
  let draining = false
  const handle = (err: unknown, origin: string): void => {
    const kind = classify(err)
    try {
      options.count(kind)
      const e: NodeJS.ErrnoException | null = err instanceof Error ? err : null
      options.logger.error(kind === 'fatal' ? 'uncaught exception: draining and exiting' : 'uncaught connection error: serving on', {
        kind,
        origin,
        name: e?.name ?? typeof err,
        code: e?.code ?? null,
        err: options.redact(e?.stack ?? String(err)),
      })
      options.logger.flush()
    } catch {
      // Nothing may throw out of here: node would exit at once, without the drain.
    }
    if (kind === 'fatal' && !draining) {
      draining = true
      options.fatal()
    }
  }
  const onException = (err: unknown, origin: string) => handle(err, origin)
  const onRejection = (reason: unknown) => handle(reason, 'unhandledRejection')
  process.on('uncaughtException', onException)
  process.on('unhandledRejection', onRejection)
  return () => {
    process.off('uncaughtException', onException)
    process.off('unhandledRejection', onRejection)
  }
}
