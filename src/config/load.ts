/**
 * Loads the configuration: the YAML file, then DRAWBRIDGE_* environment variables, then CLI
 * flags, each overriding the one before. Every problem is collected and reported at once with
 * its path; the result is normalised (durations in ms, mode defaults applied) and deep-frozen.
 */
import { readFileSync, existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { availableParallelism } from 'node:os'
import { Ajv, type ErrorObject } from 'ajv'
import { parseDocument } from 'yaml'
import { ConfigInvalid, type ConfigIssue } from '../errors.js'
import { configSchema } from './schema.js'
import type { Config, StoreTls } from './types.js'
import { compileIpMatcher, parseHostPort } from '../net/address.js'
import { compileHostMatcher } from '../net/authority.js'
import { compileOriginMatcher } from '../net/origin.js'
import { compilePathMatcher } from '../net/path-matcher.js'
import { parseKeyEncryptionKey } from './key-encryption-key.js'

/** Values given on the command line; they win over the file and the environment. */
export interface ConfigFlags {
  readonly upstream?: string
  readonly listen?: string
  readonly admin_listen?: string
  readonly mode?: string
  readonly workers?: number
}

export interface LoadOptions {
  /** Path of drawbridge.yaml; null to build from `object` only. */
  readonly file?: string | null
  /** A raw configuration object (used instead of a file, e.g. by tests and the programmatic API). */
  readonly object?: unknown
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly flags?: ConfigFlags
}

/** Environment variables with the prefix that are not configuration keys (the relaunch's: src/cli/relaunch.ts). */
const reservedEnv = new Set(['DRAWBRIDGE_CONFIG', 'DRAWBRIDGE_RELAUNCH', 'DRAWBRIDGE_RELAUNCHED'])
/** `DRAWBRIDGE_SECRET_*` holds secrets (referenced with from_env), never setting overrides. */
const secretPrefix = 'DRAWBRIDGE_SECRET_'

// code.optimize off: Ajv's name optimiser counts variable names in plain objects keyed by those
// names (`_errs72`, `data112`, ...). For a schema this size that is thousands of distinct first
// keys on V8's root object map, which fills its transition table (about 1,500 entries); past
// that every object literal that starts from it, node's own process.nextTick tick objects
// included, gets a map of its own and goes through the runtime: measured at 17% of the
// gateway's instructions per proxied GET. The validator only runs at start and on reload.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true, code: { optimize: false } })
const validateSchema = ajv.compile(configSchema)

export function loadConfig(options: LoadOptions): Config {
  const issues: ConfigIssue[] = []
  const env = options.env ?? process.env
  let raw: Record<string, unknown> = {}
  const source = options.file ? resolve(options.file) : null
  if (source !== null) {
    let text = ''
    try {
      text = readFileSync(source, 'utf8')
    } catch (e) {
      throw new ConfigInvalid([{ path: '', message: `cannot read ${source}: ${(e as NodeJS.ErrnoException).code ?? e}` }])
    }
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true })
    for (const err of doc.errors) {
      const pos = err.linePos?.[0]
      issues.push({ path: pos ? `line ${pos.line}, column ${pos.col}` : '', message: err.message.split('\n')[0]! })
    }
    if (issues.length > 0) throw new ConfigInvalid(issues)
    const parsed: unknown = doc.toJS({ maxAliasCount: 50 })
    if (parsed !== null && parsed !== undefined) {
      if (!isPlainObject(parsed)) throw new ConfigInvalid([{ path: '', message: 'the file must hold a mapping of settings' }])
      raw = parsed
    }
  } else if (options.object !== undefined) {
    if (!isPlainObject(options.object)) throw new ConfigInvalid([{ path: '', message: 'configuration must be an object' }])
    raw = structuredClone(options.object)
  }
  return buildConfig(raw, env, options.flags ?? {}, source, issues)
}

function buildConfig(
  raw: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
  flags: ConfigFlags,
  source: string | null,
  issues: ConfigIssue[],
): Config {
  if (typeof raw.upstream === 'string') raw.upstream = { url: raw.upstream }
  applyEnv(raw, env, issues)
  applyFlags(raw, flags)
  if (!validateSchema(raw)) {
    const errors = validateSchema.errors ?? []
    // For a value that matches no alternative, report the alternatives' summary only.
    const summarised = new Set(errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath))
    for (const e of errors) {
      if (summarised.has(e.instancePath) && e.keyword !== 'anyOf' && e.keyword !== 'oneOf') continue
      if ([...summarised].some((p) => e.instancePath.startsWith(p + '/'))) continue
      issues.push(schemaIssue(e))
    }
  }
  const baseDir = source === null ? process.cwd() : dirname(source)
  checkSemantics(raw, issues, baseDir)
  if (issues.length > 0) throw new ConfigInvalid(dedupe(issues))
  const resolved = resolveSecrets(raw, env, baseDir, issues)
  checkStoreUrls(resolved as Record<string, any>, issues)
  const kek = (resolved as Record<string, any>).auth?.key_encryption_key
  if (typeof kek === 'string' && parseKeyEncryptionKey(kek) === null) {
    issues.push({ path: '/auth/key_encryption_key', message: 'must be 32 random bytes as 64 hex digits or base64 (generate one with: openssl rand -hex 32)' })
  }
  if (issues.length > 0) throw new ConfigInvalid(dedupe(issues))
  return deepFreeze(normalize(resolved, source))
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** `DRAWBRIDGE_LIMITS__MAX_BODY_BYTES=2048` sets limits.max_body_bytes; values are YAML scalars or flow lists. */
function applyEnv(raw: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>, issues: ConfigIssue[]): void {
  const referenced = new Set<string>()
  collectEnvRefs(raw, referenced)
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('DRAWBRIDGE_') || value === undefined || reservedEnv.has(name) || referenced.has(name)) continue
    if (name.startsWith(secretPrefix)) continue
    const path = name.slice('DRAWBRIDGE_'.length).toLowerCase().split('__')
    const schema = schemaAt(path)
    if (schema === null) {
      issues.push({ path: `env ${name}`, message: 'not a configuration setting (nested keys are joined by "__")' })
      continue
    }
    let parsed: unknown = value
    try {
      parsed = parseDocument(value).toJS()
    } catch {
      parsed = value
    }
    const types = schemaTypes(schema)
    if (types.has('array') && typeof parsed === 'string')
      parsed = parsed
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    if (types.has('string') && !types.has('integer') && typeof parsed !== 'string' && !Array.isArray(parsed)) parsed = value
    if (path.length === 1 && path[0] === 'upstream' && typeof parsed === 'string') parsed = { url: parsed }
    setPath(raw, path, parsed)
  }
}

function collectEnvRefs(v: unknown, out: Set<string>): void {
  if (Array.isArray(v)) for (const x of v) collectEnvRefs(x, out)
  else if (isPlainObject(v)) {
    if (typeof v.from_env === 'string') out.add(v.from_env)
    for (const x of Object.values(v)) collectEnvRefs(x, out)
  }
}

type SchemaNode = { properties?: Record<string, SchemaNode>; type?: string | readonly string[]; anyOf?: readonly SchemaNode[]; oneOf?: readonly SchemaNode[] }

function schemaAt(path: readonly string[]): SchemaNode | null {
  let node: SchemaNode = configSchema as unknown as SchemaNode
  for (const key of path) {
    const next: SchemaNode | undefined = node.properties?.[key]
    if (next === undefined || !Object.prototype.hasOwnProperty.call(node.properties, key)) return null
    node = next
  }
  return node
}

function schemaTypes(node: SchemaNode): Set<string> {
  const out = new Set<string>()
  const add = (t: string | readonly string[] | undefined) => {
    if (typeof t === 'string') out.add(t)
    else if (t) for (const x of t) out.add(x)
  }
  add(node.type)
  for (const alt of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) add(alt.type)
  return out
}

function setPath(raw: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let obj = raw
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!
    if (k === 'upstream' && typeof obj[k] === 'string') obj[k] = { url: obj[k] }
    if (!isPlainObject(obj[k])) obj[k] = {}
    obj = obj[k] as Record<string, unknown>
  }
  obj[path[path.length - 1]!] = value
}

function applyFlags(raw: Record<string, unknown>, flags: ConfigFlags): void {
  if (flags.upstream !== undefined) setPath(raw, ['upstream', 'url'], flags.upstream)
  if (flags.listen !== undefined) raw.listen = flags.listen
  if (flags.admin_listen !== undefined) setPath(raw, ['admin', 'listen'], flags.admin_listen)
  if (flags.mode !== undefined) raw.mode = flags.mode
  if (flags.workers !== undefined) raw.workers = flags.workers
}

function schemaIssue(e: ErrorObject): ConfigIssue {
  const path = e.instancePath
  switch (e.keyword) {
    case 'additionalProperties':
      return { path: `${path}/${(e.params as { additionalProperty: string }).additionalProperty}`, message: 'unknown setting' }
    case 'required':
      return { path: `${path}/${(e.params as { missingProperty: string }).missingProperty}`, message: 'is required' }
    case 'enum':
      return { path, message: `must be one of: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}` }
    case 'anyOf':
    case 'oneOf':
      return { path, message: path.match(/timeout|_age$/) ? 'must be a duration like "500ms", "10s", "2m"' : 'has an invalid form' }
    default:
      return { path, message: e.message ?? 'is invalid' }
  }
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>()
  return issues.filter((i) => {
    const k = i.path + '\0' + i.message
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

/** Checks the schema cannot express: addresses, patterns, cross-field rules. */
function checkSemantics(raw: Record<string, unknown>, issues: ConfigIssue[], baseDir: string): void {
  const c = raw as Record<string, any>
  // Runs even when the schema failed, so every problem is reported at once; a value the
  // schema already rejected (or a shape it did not expect) is not reported twice.
  const schemaPaths = issues.map((i) => i.path)
  const check = (path: string, fn: () => void) => {
    try {
      fn()
    } catch (e) {
      if (!(e instanceof TypeError) || e.message.startsWith('Cannot read') || /is not a function|not iterable/.test(e.message)) return
      if (schemaPaths.some((p) => p === path || path.startsWith(p + '/') || p.startsWith(path + '/'))) return
      issues.push({ path, message: e.message })
    }
  }
  check('/upstream/url', () => {
    let u: URL
    try {
      u = new URL(c.upstream.url)
    } catch {
      throw new TypeError('must be an http:// or https:// URL')
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError('must be an http:// or https:// URL')
    if (u.pathname !== '/' || u.search !== '' || u.username !== '')
      throw new TypeError('must be an origin (scheme://host:port) without path, query or credentials')
  })
  if (typeof c.listen === 'string') check('/listen', () => parseHostPort(c.listen))
  if (c.admin?.listen !== 'off') check('/admin/listen', () => parseHostPort(c.admin.listen))
  if (c.tls?.redirect_http_listen) check('/tls/redirect_http_listen', () => parseHostPort(c.tls.redirect_http_listen))
  const each = (path: string, list: unknown, fn: (v: any) => void) => {
    if (Array.isArray(list)) list.forEach((v, i) => check(`${path}/${i}`, () => fn(v)))
  }
  each('/trusted_hosts', c.trusted_hosts, (h) => compileHostMatcher([h]))
  if (Array.isArray(c.trusted_hosts) && c.trusted_hosts.length === 0) issues.push({ path: '/trusted_hosts', message: 'list at least one host name' })
  each('/trusted_proxies', c.trusted_proxies, (p) => compileIpMatcher([p]))
  each('/docs/allow_ips', c.docs?.allow_ips, (p) => compileIpMatcher([p]))
  each('/bans/allow_ips', c.bans?.allow_ips, (p) => compileIpMatcher([p]))
  if (c.storage?.memory === true && (isPlainObject(c.storage.postgres) || isPlainObject(c.storage.redis))) {
    issues.push({ path: '/storage/memory', message: 'cannot be combined with postgres or redis' })
  }
  for (const s of ['postgres', 'redis'] as const) {
    const t = c.storage?.[s]?.tls
    if (isPlainObject(t)) {
      for (const k of ['ca_file', 'cert_file', 'key_file'] as const) {
        if (typeof t[k] === 'string' && !existsSync(resolve(baseDir, t[k]))) issues.push({ path: `/storage/${s}/tls/${k}`, message: `file not found: ${t[k]}` })
      }
      if ((typeof t.cert_file === 'string') !== (typeof t.key_file === 'string'))
        issues.push({ path: `/storage/${s}/tls`, message: 'cert_file and key_file go together' })
    }
  }
  if (isPlainObject(c.cors) && Array.isArray(c.cors.allow_origins)) {
    c.cors.allow_origins.forEach((o: string, i: number) => check(`/cors/allow_origins/${i}`, () => compileOriginMatcher([o])))
    if (c.cors.allow_origins.includes('*') && c.cors.allow_credentials) {
      issues.push({ path: '/cors', message: 'allow_origins "*" cannot be combined with allow_credentials: list the origins' })
    }
  }
  // Every list of `{ match: { path } }` entries: the patterns must compile.
  const matchPaths = (list: unknown, at: string) => {
    if (!Array.isArray(list)) return
    list.forEach((r: any, i: number) => {
      if (typeof r?.match?.path === 'string') check(`${at}/${i}/match/path`, () => compilePathMatcher(r.match.path))
    })
  }
  matchPaths(c.routes, '/routes')
  matchPaths(c.auth?.policies, '/auth/policies')
  matchPaths(c.rate_limits, '/rate_limits')
  // A rule's name names its counters (shared across instances): two rules must not share one.
  if (Array.isArray(c.rate_limits)) {
    const seen = new Set<string>()
    c.rate_limits.forEach((r: any, i: number) => {
      const name = typeof r?.name === 'string' ? r.name : `rule_${i}`
      if (seen.has(name)) issues.push({ path: `/rate_limits/${i}/name`, message: `"${name}" is already the name of an earlier rule` })
      seen.add(name)
    })
  }
  if (isPlainObject(c.auth) && Array.isArray(c.auth.policies)) {
    c.auth.policies.forEach((p: any, i: number) => {
      check(`/auth/policies/${i}`, () => {
        if (isPlainObject(p) && (p.access === undefined) === (p.roles === undefined)) throw new TypeError('needs exactly one of access or roles')
      })
    })
  }
  if (isPlainObject(c.auth?.password)) {
    check('/auth/password', () => {
      const { min_length = 12, max_length = 128 } = c.auth.password
      if (typeof min_length === 'number' && typeof max_length === 'number' && min_length > max_length)
        throw new TypeError('min_length is larger than max_length')
    })
  }
  if (isPlainObject(c.tls) && typeof c.tls.cert_file === 'string' && typeof c.tls.key_file === 'string') {
    for (const k of ['cert_file', 'key_file'] as const) {
      if (!existsSync(c.tls[k] as string)) issues.push({ path: `/tls/${k}`, message: `file not found: ${c.tls[k]}` })
    }
  }
}

/** Store URLs are secrets (they hold a password): checked once resolved, and messages never repeat them. */
function checkStoreUrls(c: Record<string, any>, issues: ConfigIssue[]): void {
  const storeUrl = (path: string, v: unknown, schemes: readonly string[]) => {
    if (typeof v !== 'string') return
    let ok = false
    try {
      ok = schemes.includes(new URL(v).protocol.slice(0, -1))
    } catch {}
    if (!ok) issues.push({ path, message: `must be a ${schemes.map((x) => x + '://').join(' or ')} URL` })
  }
  storeUrl('/storage/postgres/url', c.storage?.postgres?.url, ['postgres', 'postgresql'])
  storeUrl('/storage/redis/url', c.storage?.redis?.url, ['redis', 'rediss'])
}

function resolveSecrets(
  raw: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
  baseDir: string,
  issues: ConfigIssue[],
): Record<string, unknown> {
  const walk = (v: unknown, path: string): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}/${i}`))
    if (!isPlainObject(v)) return v
    if (typeof v.from_env === 'string' && Object.keys(v).length === 1) {
      const value = env[v.from_env]
      if (value === undefined || value === '') {
        issues.push({ path, message: `environment variable ${v.from_env} is not set` })
        return null
      }
      return value
    }
    if (typeof v.from_file === 'string' && Object.keys(v).length === 1) {
      try {
        return readFileSync(resolve(baseDir, v.from_file), 'utf8').replace(/\r?\n$/, '')
      } catch (e) {
        issues.push({ path, message: `cannot read secret file ${v.from_file}: ${(e as NodeJS.ErrnoException).code ?? e}` })
        return null
      }
    }
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) out[k] = walk(x, `${path}/${k}`)
    return out
  }
  return walk(raw, '') as Record<string, unknown>
}

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

export function parseDuration(v: string | number): number {
  if (typeof v === 'number') return v
  const m = /^([0-9]+)(ms|s|m|h|d)$/.exec(v)!
  return Number(m[1]) * unitMs[m[2]!]!
}

function normalize(c: Record<string, any>, source: string | null): Config {
  const production = c.mode === 'production'
  const ms = (v: string | number | undefined) => (v === undefined ? undefined : parseDuration(v))
  return {
    mode: c.mode,
    upstream: {
      ...c.upstream,
      url: new URL(c.upstream.url).origin,
      connect_timeout: ms(c.upstream.connect_timeout),
      response_timeout: ms(c.upstream.response_timeout),
      keepalive_timeout: ms(c.upstream.keepalive_timeout),
      queue_timeout: ms(c.upstream.queue_timeout),
    },
    listen: c.listen,
    workers: c.workers ?? (production ? availableParallelism() : 1),
    tls: c.tls,
    trusted_hosts: c.trusted_hosts,
    trusted_proxies: c.trusted_proxies,
    request_headers: {
      allow_underscores: c.request_headers.allow_underscores.map((n: string) => n.toLowerCase()),
      strip: c.request_headers.strip.map((n: string) => n.toLowerCase()),
    },
    admin: { listen: c.admin.listen, token: c.admin.token ?? null },
    limits: { ...c.limits, header_timeout: ms(c.limits.header_timeout), body_timeout: ms(c.limits.body_timeout) },
    cors: c.cors,
    headers: { ...c.headers, set: c.headers.set ?? {}, remove: c.headers.remove ?? [] },
    cookies: c.cookies,
    docs: {
      paths: c.docs.paths,
      allow_ips: c.docs.allow_ips,
      hidden: c.docs.hide === 'always' || (c.docs.hide === 'auto' && production),
    },
    error_masking: {
      enabled: c.error_masking.enabled === 'on' || (c.error_masking.enabled === 'auto' && production),
      max_inspect_bytes: c.error_masking.max_inspect_bytes,
      max_logged_bytes: c.error_masking.max_logged_bytes,
    },
    websocket: c.websocket,
    routes: c.routes.map((r: any) => {
      const out: Record<string, unknown> = { ...r }
      if (r.body_timeout !== undefined) out.body_timeout = ms(r.body_timeout)
      if (r.response_timeout !== undefined) out.response_timeout = ms(r.response_timeout)
      return out
    }),
    waf: c.waf,
    auth: c.auth === null ? null : normalizeAuth(c.auth, production, source),
    rate_limits: c.rate_limits,
    storage: {
      // Relative paths are the configuration file's neighbours, not the working directory's.
      sqlite: { path: c.storage.sqlite.path === ':memory:' ? ':memory:' : resolve(source === null ? process.cwd() : dirname(source), c.storage.sqlite.path) },
      memory: c.storage.memory,
      postgres:
        c.storage.postgres === undefined
          ? null
          : {
              ...c.storage.postgres,
              connect_timeout: ms(c.storage.postgres.connect_timeout),
              statement_timeout: ms(c.storage.postgres.statement_timeout),
              tls: storeTls(c.storage.postgres.tls, source),
            },
      redis:
        c.storage.redis === undefined
          ? null
          : {
              ...c.storage.redis,
              connect_timeout: ms(c.storage.redis.connect_timeout),
              command_timeout: ms(c.storage.redis.command_timeout),
              tls: storeTls(c.storage.redis.tls, source),
            },
    },
    bans: { ...c.bans, window: ms(c.bans.window), duration: ms(c.bans.duration) },
    logging: c.logging,
    shutdown: { drain_timeout: ms(c.shutdown.drain_timeout) },
    source,
  } as Config
}

function storeTls(t: Record<string, any> | undefined, source: string | null): StoreTls | null {
  if (t === undefined) return null
  const file = (f: string | undefined) => (f === undefined ? null : resolve(source === null ? process.cwd() : dirname(source), f))
  return { mode: t.mode ?? 'verify-full', ca_file: file(t.ca_file), cert_file: file(t.cert_file), key_file: file(t.key_file) }
}

function normalizeAuth(a: Record<string, any>, production: boolean, source: string | null): Config['auth'] {
  const ms = (v: string | number) => parseDuration(v)
  return {
    ...a,
    signing_keys_file: a.signing_keys_file === null ? null : resolve(source === null ? process.cwd() : dirname(source), a.signing_keys_file),
    access_ttl: ms(a.access_ttl),
    refresh_ttl: ms(a.refresh_ttl),
    refresh_grace: ms(a.refresh_grace),
    clock_skew: ms(a.clock_skew),
    registration: a.registration === 'on' || (a.registration === 'auto' && !production),
    default_policy: a.default_policy === 'auto' ? (production ? 'authenticated' : 'public') : a.default_policy,
    brute_force: {
      ...a.brute_force,
      window: ms(a.brute_force.window),
      lock_duration: ms(a.brute_force.lock_duration),
      base_delay: ms(a.brute_force.base_delay),
      max_delay: ms(a.brute_force.max_delay),
    },
    api_keys: { header: a.api_keys.header.toLowerCase(), rotation_grace: ms(a.api_keys.rotation_grace) },
  } as Config['auth']
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v)
    for (const x of Object.values(v)) deepFreeze(x)
  }
  return v
}

/** Settings that are unsafe but allowed get a loud warning at start-up. */
export function configWarnings(c: Config): string[] {
  const out: string[] = []
  if (c.upstream.insecure_skip_tls_verify) out.push('upstream.insecure_skip_tls_verify is on: upstream TLS certificates are not checked')
  if (c.cors?.allow_origins.includes('*')) out.push('cors.allow_origins is "*": any website may read responses')
  if (c.storage.memory && c.workers > 1)
    out.push('storage.memory with several workers: each keeps its own security events, and the admin API sees none of them')
  if (c.storage.redis !== null && c.storage.postgres === null) {
    out.push(
      "storage.redis without storage.postgres: users, sessions, keys and events stay in this machine's SQLite file; instances on other machines do not share them",
    )
  }
  if (c.storage.postgres !== null && c.storage.redis === null && (c.rate_limits.length > 0 || c.bans.enabled)) {
    out.push('storage.postgres without storage.redis: rate limits and bans are counted per machine, not across instances')
  }
  if (c.waf.enabled && c.waf.mode === 'detect') out.push('waf.mode is detect: attacks are logged, not blocked')
  if (!c.waf.enabled) out.push('waf.enabled is false: requests are not inspected for attacks')
  if (c.mode === 'development') out.push('development mode: API docs are visible and upstream errors are not masked')
  if (c.trusted_proxies.some((p) => p.endsWith('/0'))) out.push('trusted_proxies contains a /0 range: any client can forge X-Forwarded-For')
  if (c.admin.listen !== 'off' && !/^(127\.|\[::1\]|localhost)/.test(c.admin.listen)) {
    out.push(`admin listener on ${c.admin.listen} is not loopback-only`)
  }
  return out
}
