/**
 * Typed errors with stable codes: one class per condition, and tests switch on `code`.
 * Client-facing responses never carry `message`: only `error`, `code` and `request_id`.
 */
export type DrawbridgeErrorCode =
  | 'DRAWBRIDGE_ERR_INTERNAL'
  | 'DRAWBRIDGE_ERR_CONFIG_INVALID'
  | 'DRAWBRIDGE_ERR_UPSTREAM_TIMEOUT'
  | 'DRAWBRIDGE_ERR_UPSTREAM_UNAVAILABLE'
  | 'DRAWBRIDGE_ERR_UPSTREAM_ERROR'
  | 'DRAWBRIDGE_ERR_OVERLOADED'
  | 'DRAWBRIDGE_ERR_BODY_TOO_LARGE'
  | 'DRAWBRIDGE_ERR_URL_TOO_LONG'
  | 'DRAWBRIDGE_ERR_HEADERS_TOO_LARGE'
  | 'DRAWBRIDGE_ERR_REQUEST_TIMEOUT'
  | 'DRAWBRIDGE_ERR_BAD_REQUEST'
  | 'DRAWBRIDGE_ERR_EXPECTATION_FAILED'
  | 'DRAWBRIDGE_ERR_HOST_NOT_ALLOWED'
  | 'DRAWBRIDGE_ERR_METHOD_NOT_ALLOWED'
  | 'DRAWBRIDGE_ERR_NOT_FOUND'
  | 'DRAWBRIDGE_ERR_CORS_REJECTED'
  | 'DRAWBRIDGE_ERR_ORIGIN_NOT_ALLOWED'
  | 'DRAWBRIDGE_ERR_UNAUTHORIZED'
  | 'DRAWBRIDGE_ERR_FORBIDDEN'
  | 'DRAWBRIDGE_ERR_BLOCKED'
  | 'DRAWBRIDGE_ERR_MALFORMED_BODY'
  | 'DRAWBRIDGE_ERR_INVALID_CREDENTIALS'
  | 'DRAWBRIDGE_ERR_CSRF'
  | 'DRAWBRIDGE_ERR_CONFLICT'
  | 'DRAWBRIDGE_ERR_WEAK_PASSWORD'
  | 'DRAWBRIDGE_ERR_TOO_MANY_ATTEMPTS'
  | 'DRAWBRIDGE_ERR_STORE_UNAVAILABLE'
  | 'DRAWBRIDGE_ERR_RATE_LIMITED'
  | 'DRAWBRIDGE_ERR_BANNED'

export class DrawbridgeError extends Error {
  code: DrawbridgeErrorCode = 'DRAWBRIDGE_ERR_INTERNAL'
  status = 500
  constructor(message?: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = this.constructor.name
    Error.captureStackTrace?.(this, this.constructor)
  }
}

/** One problem found in a configuration, with a JSON-pointer-like path (`/cors/allow_origins/0`). */
export interface ConfigIssue {
  readonly path: string
  readonly message: string
}

export class ConfigInvalid extends DrawbridgeError {
  override code = 'DRAWBRIDGE_ERR_CONFIG_INVALID' as const
  readonly issues: readonly ConfigIssue[]
  constructor(issues: readonly ConfigIssue[]) {
    super(`invalid configuration:\n${issues.map((i) => `  ${i.path || '/'}: ${i.message}`).join('\n')}`)
    this.issues = issues
  }
}

/** The client-facing error label for each code: short, stable, and never revealing internals. */
export const errorLabels: Readonly<Record<DrawbridgeErrorCode, string>> = Object.freeze({
  DRAWBRIDGE_ERR_INTERNAL: 'internal_error',
  DRAWBRIDGE_ERR_BLOCKED: 'blocked',
  DRAWBRIDGE_ERR_MALFORMED_BODY: 'malformed_body',
  DRAWBRIDGE_ERR_CONFIG_INVALID: 'internal_error',
  DRAWBRIDGE_ERR_UPSTREAM_TIMEOUT: 'upstream_timeout',
  DRAWBRIDGE_ERR_UPSTREAM_UNAVAILABLE: 'upstream_unavailable',
  DRAWBRIDGE_ERR_UPSTREAM_ERROR: 'internal_error',
  DRAWBRIDGE_ERR_OVERLOADED: 'overloaded',
  DRAWBRIDGE_ERR_BODY_TOO_LARGE: 'body_too_large',
  DRAWBRIDGE_ERR_URL_TOO_LONG: 'url_too_long',
  DRAWBRIDGE_ERR_HEADERS_TOO_LARGE: 'headers_too_large',
  DRAWBRIDGE_ERR_REQUEST_TIMEOUT: 'request_timeout',
  DRAWBRIDGE_ERR_BAD_REQUEST: 'bad_request',
  DRAWBRIDGE_ERR_EXPECTATION_FAILED: 'expectation_failed',
  DRAWBRIDGE_ERR_HOST_NOT_ALLOWED: 'host_not_allowed',
  DRAWBRIDGE_ERR_METHOD_NOT_ALLOWED: 'method_not_allowed',
  DRAWBRIDGE_ERR_NOT_FOUND: 'not_found',
  DRAWBRIDGE_ERR_CORS_REJECTED: 'cors_rejected',
  DRAWBRIDGE_ERR_ORIGIN_NOT_ALLOWED: 'origin_not_allowed',
  DRAWBRIDGE_ERR_UNAUTHORIZED: 'unauthorized',
  DRAWBRIDGE_ERR_FORBIDDEN: 'forbidden',
  DRAWBRIDGE_ERR_INVALID_CREDENTIALS: 'invalid_credentials',
  DRAWBRIDGE_ERR_CSRF: 'csrf_failed',
  DRAWBRIDGE_ERR_CONFLICT: 'conflict',
  DRAWBRIDGE_ERR_WEAK_PASSWORD: 'weak_password',
  DRAWBRIDGE_ERR_TOO_MANY_ATTEMPTS: 'too_many_attempts',
  DRAWBRIDGE_ERR_STORE_UNAVAILABLE: 'store_unavailable',
  DRAWBRIDGE_ERR_RATE_LIMITED: 'rate_limited',
  DRAWBRIDGE_ERR_BANNED: 'banned',
})

/** A unique value (username, email, key id) is already taken. */
export class StorageConflict extends DrawbridgeError {
  override code = 'DRAWBRIDGE_ERR_CONFLICT' as const
  override status = 409
}

/**
 * A store (PostgreSQL, Redis) cannot answer now: refused, reset, timed out, pool exhausted. The
 * request gets 503 with Retry-After, never an answer guessed without the store.
 */
export class StorageUnavailable extends DrawbridgeError {
  override code = 'DRAWBRIDGE_ERR_STORE_UNAVAILABLE' as const
  override status = 503
  /** Which store, for the metric and the log. */
  readonly store: 'postgres' | 'redis' | 'cluster' | 'memory'
  constructor(store: 'postgres' | 'redis' | 'cluster' | 'memory', message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.store = store
  }
}

/**
 * The upstream could not give an answer to send on: unreachable or reset (502), too slow (504),
 * Drawbridge's own queue for it full or too slow (503), or the request has bytes the upstream
 * client refuses to send (400: what the client sent). `reason` is for logs and metrics.
 */
export class UpstreamFailure extends DrawbridgeError {
  override code: 'DRAWBRIDGE_ERR_UPSTREAM_UNAVAILABLE' | 'DRAWBRIDGE_ERR_UPSTREAM_TIMEOUT' | 'DRAWBRIDGE_ERR_OVERLOADED' | 'DRAWBRIDGE_ERR_BAD_REQUEST'
  readonly reason: string
  constructor(kind: 'unavailable' | 'timeout' | 'overloaded' | 'unforwardable', reason: string, options?: { cause?: unknown }) {
    super(reason, options)
    this.reason = reason
    this.code =
      kind === 'unavailable'
        ? 'DRAWBRIDGE_ERR_UPSTREAM_UNAVAILABLE'
        : kind === 'timeout'
          ? 'DRAWBRIDGE_ERR_UPSTREAM_TIMEOUT'
          : kind === 'overloaded'
            ? 'DRAWBRIDGE_ERR_OVERLOADED'
            : 'DRAWBRIDGE_ERR_BAD_REQUEST'
    this.status = kind === 'unavailable' ? 502 : kind === 'timeout' ? 504 : kind === 'overloaded' ? 503 : 400
  }
}

/**
 * An in-process counter (memory, or the cluster primary's) holds as many keys as it may: a new
 * key is refused like a store outage (`on_store_error`), since each key costs memory for its
 * whole window and a rule keyed by a header lets a client invent keys at will.
 */
export class CounterCapacity extends StorageUnavailable {}
