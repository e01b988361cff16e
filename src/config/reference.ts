/**
 * The configuration reference (docs/configuration.md), rendered from the schema: every setting
 * with its type, default, allowed values and description, one section per top-level key, and
 * how the file, the environment, the flags and secrets combine. `npm run docs:config` writes the
 * file; test/config/reference.test.ts fails when the committed copy differs from this.
 *
 * Imports only the schema: the reference must be renderable without starting anything.
 */
import { configSchema } from './schema.js'

/** The parts of JSON Schema the configuration schema uses. */
interface SchemaNode {
  readonly description?: string
  readonly type?: string | readonly string[]
  readonly enum?: readonly unknown[]
  readonly default?: unknown
  readonly properties?: Readonly<Record<string, SchemaNode>>
  readonly required?: readonly string[]
  readonly items?: SchemaNode
  readonly anyOf?: readonly SchemaNode[]
  readonly oneOf?: readonly SchemaNode[]
  readonly additionalProperties?: boolean | SchemaNode
  readonly propertyNames?: { readonly pattern?: string }
  readonly pattern?: string
  readonly minimum?: number
  readonly maximum?: number
  readonly minLength?: number
  readonly minItems?: number
}

interface Row {
  readonly key: string
  readonly type: string
  readonly default: string
  readonly allowed: string
  readonly description: string
}

const root = configSchema as unknown as SchemaNode

/** Where each section is explained at length (relative to docs/). */
const guides: Readonly<Record<string, string>> = {
  upstream: 'deployment.md',
  tls: 'deployment.md',
  request_headers: 'request-handling.md',
  admin: 'observability.md',
  limits: 'request-handling.md',
  cors: 'request-handling.md',
  headers: 'request-handling.md',
  cookies: 'request-handling.md',
  docs: 'request-handling.md',
  error_masking: 'request-handling.md',
  websocket: 'request-handling.md',
  routes: 'request-handling.md',
  waf: 'waf.md',
  auth: 'identity.md',
  rate_limits: 'rate-limits.md',
  storage: 'storage.md',
  bans: 'rate-limits.md',
  logging: 'observability.md',
  shutdown: 'deployment.md',
}

export function renderConfigReference(): string {
  const sections: string[] = []
  const general: Row[] = []
  const undocumented: string[] = []
  const secrets: string[] = []
  const names = Object.keys(root.properties ?? {})
  for (const name of names) {
    const node = root.properties![name]!
    const required = root.required?.includes(name) ?? false
    const rows: Row[] = []
    collect(node, name, required, rows, undocumented, secrets)
    if (!hasChildren(node)) {
      general.push(...rows)
      continue
    }
    sections.push(renderSection(name, node, required, rows.slice(1)))
  }
  if (undocumented.length > 0) throw new Error(`settings without a description in src/config/schema.ts: ${undocumented.join(', ')}`)
  const toc = ['general', ...names.filter((n) => hasChildren(root.properties![n]!))].map((n) => `[${n}](#${n})`)
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`. Do not edit by hand. -->',
    '',
    'Every setting of `drawbridge.yaml`, generated from the schema the gateway validates against',
    '(`src/config/schema.ts`), so this page and the code cannot disagree. For what the settings do',
    'together, follow the links to the guides in each section.',
    '',
    `Sections: ${toc.join(', ')}.`,
    '',
    ...howItIsRead(secrets),
    '## general',
    '',
    'Top-level settings that are not sections of their own.',
    '',
    ...table(general),
    '',
    ...sections,
  ].join('\n')
}

function howItIsRead(secrets: readonly string[]): string[] {
  return [
    '## How the configuration is read',
    '',
    'One YAML file, overridden by environment variables, overridden by command-line flags.',
    '',
    '- **The file**: `--config FILE`, else `$DRAWBRIDGE_CONFIG`, else `./drawbridge.yaml` when it',
    '  exists. Duplicate keys are errors. A `.env` file beside the configuration file is loaded',
    '  first by `drawbridge start`, `validate`, `users`, `keys` and `apikeys`; variables already in',
    '  the environment win over it.',
    '- **Validation**: unknown keys are errors, and every problem is reported at once with its',
    '  path (`/cors/allow_origins/0: ...`); `drawbridge validate` then exits 2. The result is',
    '  normalised (durations in milliseconds, `auto` values decided by `mode`) and frozen.',
    '- **Relative paths** (`storage.sqlite.path`, `auth.signing_keys_file`, the `tls.*_file` of',
    '  `storage.postgres` and `storage.redis`, `{ from_file }` secrets) are read from the',
    "  configuration file's folder; `tls.cert_file` and `tls.key_file` from the working directory.",
    '',
    '### Environment variables',
    '',
    "- `DRAWBRIDGE_` followed by the setting's path in upper case, nested keys joined by `__`:",
    '  `DRAWBRIDGE_LISTEN=0.0.0.0:8080`, `DRAWBRIDGE_LIMITS__MAX_BODY_BYTES=2097152`,',
    '  `DRAWBRIDGE_WAF__MODE=detect`. Settings inside lists (`routes`, `rate_limits`, ...) cannot',
    '  be reached one by one; a whole section can be given as a YAML flow mapping.',
    '- The value is read as YAML (`true`, `8080`, `[a, b]`, `{ key: value }`). For a list setting a',
    '  plain value is split on commas (`DRAWBRIDGE_TRUSTED_HOSTS=api.example.com,localhost`); for a',
    '  text setting the value is kept exactly as written. `DRAWBRIDGE_UPSTREAM=http://host:port`',
    '  sets `upstream.url`.',
    '- A `DRAWBRIDGE_*` variable that is not a setting is an error, so a typo does not pass',
    '  silently. Not settings: `DRAWBRIDGE_CONFIG` (the file), `DRAWBRIDGE_RELAUNCH` (`0` turns off',
    '  the single-core relaunch, see [cli.md](cli.md)), the `DRAWBRIDGE_SECRET_*` names reserved for',
    '  secrets, and any variable a `{ from_env }` in the file refers to.',
    '',
    '### Command-line flags',
    '',
    '`drawbridge start` takes `--upstream URL` (`upstream.url`), `--listen HOST:PORT` (`listen`),',
    '`--admin-listen HOST:PORT` (`admin.listen`), `--mode production|development` (`mode`) and',
    '`--workers N` (`workers`); they win over the file and the environment.',
    '',
    '### Secrets',
    '',
    'Secrets are never written inline. A setting that takes one accepts:',
    '',
    '- `{ from_env: NAME }`: the value of the environment variable `NAME`, which must be set and',
    '  not empty;',
    "- `{ from_file: PATH }`: the file's content without its final line break; `PATH` is relative",
    "  to the configuration file's folder.",
    '',
    `Settings that take a secret: ${secrets.map(code).join(', ')}.`,
    '`drawbridge init` writes freshly generated secrets to `.env` as `DRAWBRIDGE_SECRET_*`',
    'variables and refers to them with `from_env`. Store URLs are secrets because they hold a',
    'password: error messages never repeat them.',
    '',
    '### Durations',
    '',
    'A number with a unit, `"500ms"`, `"10s"`, `"2m"`, `"1h"`, or a whole number of milliseconds.',
    'Token, key and ban lifetimes also take days (`"7d"`). The allowed-values column gives the',
    'units and the largest value of each setting.',
    '',
    '### Checks beyond the types',
    '',
    '- `upstream.url` must be an `http://` or `https://` origin; `listen`, `admin.listen` and',
    '  `tls.redirect_http_listen` must be `HOST:PORT`.',
    '- `trusted_hosts` must list at least one valid host name or `*.` pattern; `trusted_proxies`,',
    '  `docs.allow_ips` and `bans.allow_ips` must be addresses or CIDRs.',
    '- `cors.allow_origins` entries must be origins or patterns, and `"*"` cannot be combined with',
    '  `cors.allow_credentials`.',
    '- Every `match.path` must compile; rate-limit rule names must be unique; an auth policy needs',
    '  exactly one of `access` and `roles`; `auth.password.min_length` cannot exceed `max_length`;',
    '  `auth.key_encryption_key` must be 32 bytes as 64 hex digits or base64',
    '  (`openssl rand -hex 32`).',
    '- `storage.memory` cannot be combined with `postgres` or `redis`; store URLs must have the',
    "  store's scheme; TLS files must exist, and a client `cert_file` needs its `key_file`.",
    '',
    'Allowed but risky settings are logged as warnings at start-up: `upstream.insecure_skip_tls_verify`,',
    '`cors.allow_origins: ["*"]`, `storage.memory` with several workers, `storage.redis` without',
    '`storage.postgres` (and the reverse with rate limits or bans), the WAF off or in `detect` mode,',
    '`development` mode, a `/0` range in `trusted_proxies`, and an admin listener off loopback.',
    '',
  ]
}

function renderSection(name: string, node: SchemaNode, required: boolean, rows: readonly Row[]): string {
  const facts = [`Type: ${typeOf(node)}.`]
  const def = defaultOf(node, required)
  if (required) facts.push('Required.')
  else if (def !== '—') facts.push(`Default: ${def}.`)
  if (isList(node)) facts.push(`Each entry takes the settings below, written \`${name}[].…\`.`)
  const guide = guides[name]
  return [
    `## ${name}`,
    '',
    `${prose(node.description ?? '')} ${facts.join(' ')}${guide === undefined ? '' : ` See [${guide}](${guide}).`}`.trim(),
    '',
    ...table(rows),
    '',
  ].join('\n')
}

function table(rows: readonly Row[]): string[] {
  return [
    '| setting | type | default | allowed values | description |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${code(r.key)} | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.allowed)} | ${cell(prose(r.description))} |`),
  ]
}

/** One row per setting, depth first in schema order: objects and list entries are followed by their keys. */
function collect(node: SchemaNode, key: string, required: boolean, out: Row[], undocumented: string[], secrets: string[]): void {
  if (node.description === undefined || node.description === '') undocumented.push(key)
  if (isSecret(node)) secrets.push(key)
  out.push({ key, type: typeOf(node), default: defaultOf(node, required), allowed: allowedOf(node), description: node.description ?? '' })
  const props = node.properties ?? (isList(node) ? node.items!.properties : undefined)
  const req = node.properties !== undefined ? node.required : node.items?.required
  const prefix = node.properties !== undefined ? key : `${key}[]`
  if (props === undefined) return
  for (const [k, child] of Object.entries(props)) collect(child, `${prefix}.${k}`, req?.includes(k) ?? false, out, undocumented, secrets)
}

function hasChildren(node: SchemaNode): boolean {
  return node.properties !== undefined || isList(node)
}

/** A list whose entries are objects with settings of their own (routes, rate_limits, ...). */
function isList(node: SchemaNode): boolean {
  return node.items?.properties !== undefined
}

function isSecret(node: SchemaNode): boolean {
  return node.oneOf?.some((alt) => alt.properties?.from_env !== undefined) ?? false
}

/** A duration: "10s" or milliseconds. Returns its units and its largest value in ms. */
function duration(node: SchemaNode): { units: string[]; maxMs: number } | null {
  const text = node.anyOf?.find((alt) => alt.type === 'string' && alt.pattern?.includes('(ms|'))
  const ms = node.anyOf?.find((alt) => alt.type === 'integer')
  if (text === undefined || ms === undefined) return null
  const units = /\(([a-z|]+)\)\$$/.exec(text.pattern!)![1]!.split('|')
  return { units, maxMs: ms.maximum ?? Infinity }
}

function types(node: SchemaNode): string[] {
  const t = node.type
  return t === undefined ? [] : typeof t === 'string' ? [t] : [...t]
}

function typeOf(node: SchemaNode): string {
  if (duration(node) !== null) return 'duration'
  if (isSecret(node)) return 'secret'
  const alternatives = node.anyOf ?? node.oneOf
  if (alternatives !== undefined) return unique(alternatives.map(typeOf)).join(' or ')
  const ts = types(node)
  if (ts.length === 0 && node.enum !== undefined) return unique(node.enum.map((v) => (v === null ? 'null' : typeof v))).join(' or ')
  return ts
    .map((t) => {
      if (t === 'array') return `list of ${node.items === undefined ? 'values' : typeOf(node.items)}`
      if (t === 'object' && typeof node.additionalProperties === 'object') return `map of ${typeOf(node.additionalProperties)}`
      return t
    })
    .join(' or ')
}

function defaultOf(node: SchemaNode, required: boolean): string {
  if (!('default' in node)) return required ? 'required' : '—'
  const v = node.default
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return Object.keys(v).length === 0 ? '—' : code(JSON.stringify(v))
  return code(yamlValue(v))
}

function allowedOf(node: SchemaNode): string {
  const d = duration(node)
  if (d !== null) return `${d.units.map(code).join(', ')} or milliseconds; at most ${humanMs(d.maxMs)}`
  if (isSecret(node)) return '`{ from_env: NAME }` or `{ from_file: PATH }`'
  if (node.enum !== undefined) return node.enum.map((v) => code(yamlValue(v))).join(', ')
  const alternatives = node.anyOf ?? node.oneOf
  if (alternatives !== undefined)
    return alternatives
      .map(allowedOf)
      .filter((s) => s !== '')
      .join(', or ')
  const parts: string[] = []
  const ts = types(node)
  if (ts.includes('object') && node.properties !== undefined && ts.length === 1 && (node.required?.length ?? 0) > 0 && !isList(node)) {
    // a small object given inline, e.g. { header: NAME }: show its shape
    if (Object.keys(node.properties).length === 1) parts.push(code('{ ' + node.required!.map((k) => `${k}: …`).join(', ') + ' }'))
  }
  if (typeof node.additionalProperties === 'object' && node.propertyNames?.pattern !== undefined)
    parts.push(`names matching ${code(node.propertyNames.pattern)}`)
  if (node.minimum !== undefined && node.maximum !== undefined) parts.push(`${num(node.minimum)} to ${num(node.maximum)}`)
  else if (node.minimum !== undefined) parts.push(`at least ${num(node.minimum)}`)
  else if (node.maximum !== undefined) parts.push(`at most ${num(node.maximum)}`)
  if (node.pattern !== undefined) parts.push(`matching ${code(node.pattern)}`)
  else if (node.minLength !== undefined && node.minLength > 0 && ts.includes('string')) parts.push('not empty')
  if (ts.includes('array') && node.items !== undefined && !isList(node)) {
    const each = allowedOf(node.items)
    if (each !== '') parts.push(`each ${each}`)
    if (node.minItems !== undefined) parts.push(`at least ${node.minItems} item${node.minItems === 1 ? '' : 's'}`)
  }
  return parts.filter((p) => p !== '').join('; ')
}

/** A value as it would be written in drawbridge.yaml (flow style). */
function yamlValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(yamlValue).join(', ')}]`
  if (typeof v === 'string') return v === '' || !/^[A-Za-z0-9_./@-][A-Za-z0-9_./@:-]*$/.test(v) ? JSON.stringify(v) : v
  return String(v)
}

function humanMs(ms: number): string {
  const units: readonly [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ]
  for (const [size, unit] of units) if (ms % size === 0 && ms / size >= 1 && (unit !== 'd' || ms / size > 1)) return `${num(ms / size)}${unit}`
  return `${num(ms)}ms`
}

/** 1048576 as 1,048,576: readable, and the same in every locale. */
function num(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)]
}

/** An inline code span, with a longer fence when the text holds a backtick (the header-name pattern does). */
function code(s: string): string {
  return s.includes('`') ? '`` ' + s + ' ``' : '`' + s + '`'
}

/**
 * Schema descriptions are plain text: outside their code spans, characters Markdown would read
 * as emphasis or HTML are escaped (`* one segment`, `rule_<index>`); `_` inside a word is left
 * alone (snake_case names are not emphasis in CommonMark).
 */
function prose(s: string): string {
  return s
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/[*<>]/g, '\\$&').replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, '\\_')))
    .join('')
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}
