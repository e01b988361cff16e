/**
 * What of the client's request reaches the upstream as headers: hop-by-hop ones and those
 * Drawbridge sets itself are never copied, names with `_` are dropped, credentials the edge
 * consumed stay at the edge, and the caller's identity is added as X-Drawbridge-* headers.
 */
import type { Config } from '../config/types.js'
import type { RequestIdentity, Transaction } from '../pipeline/transaction.js'
import type { PipelineContext } from '../pipeline/types.js'
import { connectionListed, hopByHop } from '../net/hop-by-hop.js'
import { bearerToken, withoutOwnCookies } from '../net/credentials.js'

/**
 * Request headers never copied from the client: hop-by-hop ones, and those Drawbridge sets
 * itself. One set, looked up once per header.
 */
const notCopied: ReadonlySet<string> = new Set([
  ...hopByHop,
  'host',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  'x-real-ip',
  'x-request-id',
  'expect',
  'content-length',
])

/** Stripped names a trusted proxy may still send, as it sends X-Forwarded-Host. */
const believedFromTrusted: ReadonlySet<string> = new Set([
  'x-forwarded-prefix',
  'x-forwarded-path',
  'x-forwarded-uri',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-forwarded-scheme',
  'x-forwarded-ssl',
])

/**
 * Names browsers and HTTP clients send on nearly every request, known to be copied as they are:
 * found in the one map look-up, they skip the checks for `_` and `X-Drawbridge-`.
 */
const commonNames = [
  'accept',
  'accept-encoding',
  'accept-language',
  'user-agent',
  'referer',
  'origin',
  'cookie',
  'authorization',
  'content-type',
  'content-encoding',
  'cache-control',
  'pragma',
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'range',
  'dnt',
  'priority',
  'sec-fetch-site',
  'sec-fetch-mode',
  'sec-fetch-dest',
  'sec-fetch-user',
  'sec-ch-ua',
  'sec-ch-ua-mobile',
  'sec-ch-ua-platform',
  'upgrade-insecure-requests',
  'x-requested-with',
  'x-csrf-token',
]

/** What happens to a request header, by lower-case name (`_` read as `-`). */
type Rule = 'copy' | 'drop' | 'drop-untrusted'

/** The request header policy, compiled once per configuration. */
export interface ForwardHeaders {
  /** Known names; any other is copied after the checks for `_` and `X-Drawbridge-`. */
  readonly rules: ReadonlyMap<string, Rule>
  /** Names containing `_` that may pass (`request_headers.allow_underscores`). */
  readonly allowUnderscores: ReadonlySet<string>
  /** The API key header when `auth` is on (then credentials and session cookies stay at the edge); null: off. */
  readonly apiKeyHeader: string | null
  /** Whether the verified access token goes upstream as X-Drawbridge-Token. */
  readonly forwardToken: boolean
  /** The Host sent upstream; null: the client's own (`upstream.host_header: preserve`). */
  readonly host: string | null
}

export function compileForwardHeaders(config: Config, upstreamHost: string): ForwardHeaders {
  const rules = new Map<string, Rule>()
  for (const n of commonNames) rules.set(n, 'copy')
  for (const n of config.request_headers.strip) rules.set(n, believedFromTrusted.has(n) ? 'drop-untrusted' : 'drop')
  for (const n of notCopied) rules.set(n, 'drop')
  return {
    rules,
    allowUnderscores: new Set(config.request_headers.allow_underscores),
    apiKeyHeader: config.auth === null ? null : config.auth.api_keys.header,
    forwardToken: config.auth?.forward_token === true,
    host: config.upstream.host_header === 'preserve' ? null : upstreamHost,
  }
}

/**
 * The upstream request's headers, built in one pass with no `delete` (a deleted property turns
 * the object into a slow dictionary that undici then walks).
 */
export function upstreamRequestHeaders(
  rt: PipelineContext,
  fh: ForwardHeaders,
  tx: Transaction,
  contentLength: string | null,
): Record<string, string | string[]> {
  const src = tx.req.headers
  const listed = connectionListed(src.connection)
  const { rules, allowUnderscores, apiKeyHeader } = fh
  const trusted = tx.trustedPeer
  const id = tx.identity
  const out: Record<string, string | string[]> = {}
  for (const name in src) {
    // Every check below runs on `key`: the name as a WSGI/CGI app will read it.
    let key = name
    let rule = rules.get(name)
    if (rule === undefined) {
      if (name.indexOf('_') !== -1) {
        // PEP 3333, CGI (RFC 3875 §4.1.18), Rack and PHP turn `-` into `_`, so X_Drawbridge_User
        // or X_Forwarded_For reach the app as the header Drawbridge manages, and gunicorn takes
        // a SCRIPT_NAME header as the mount point. Dropped as nginx does (underscores_in_headers off).
        if (!allowUnderscores.has(name)) {
          underscoreDropped(rt, tx, name)
          continue
        }
        key = name.replaceAll('_', '-')
        rule = rules.get(key)
        if (listed !== null && listed.has(name)) continue
      }
      // Identity headers come from Drawbridge only: a client's copies never pass.
      if (key.charCodeAt(0) === 120 /* x */ && key.startsWith('x-drawbridge-')) continue
    }
    if (rule === 'drop' || (rule === 'drop-untrusted' && !trusted) || (listed !== null && listed.has(key))) continue
    const v = src[name]
    if (v === undefined) continue
    if (apiKeyHeader !== null) {
      // Session cookies and credentials stay at the edge: the app gets X-Drawbridge-* instead.
      if (key === 'cookie' && typeof v === 'string') {
        const rest = withoutOwnCookies(v)
        if (rest !== '') out[name] = rest
        continue
      }
      if (id !== null && isConsumedCredential(key, v, id, apiKeyHeader)) continue
    }
    out[name] = v
  }
  out['host'] = fh.host ?? tx.authority
  const xff = src['x-forwarded-for']
  out['x-forwarded-for'] = trusted && typeof xff === 'string' && xff !== '' ? `${xff}, ${tx.peerIp}` : tx.peerIp
  out['x-forwarded-proto'] = tx.secure ? 'https' : 'http'
  const xfh = src['x-forwarded-host']
  out['x-forwarded-host'] = trusted && typeof xfh === 'string' ? xfh : tx.authority
  out['x-real-ip'] = tx.clientIp
  out['x-request-id'] = tx.id
  if (contentLength !== null) out['content-length'] = contentLength
  if (id !== null) {
    out['x-drawbridge-user'] = headerText(id.username)
    out['x-drawbridge-user-id'] = headerText(id.userId)
    out['x-drawbridge-roles'] = rolesText(id.roles)
    out['x-drawbridge-auth'] = id.via
    if (id.token !== null && fh.forwardToken) out['x-drawbridge-token'] = id.token
  }
  return out
}

function underscoreDropped(rt: PipelineContext, tx: Transaction, name: string): void {
  rt.metrics.inc('drawbridge_dropped_headers_total', 'reason="underscore"')
  rt.logger.debug('request header dropped', { request_id: tx.id, header: name, reason: 'underscore' })
}

// Printable ASCII but `%` (the escape itself) and `,` (the list separator of X-Drawbridge-Roles).
const needsEncoding = /[^\x21-\x24\x26-\x2b\x2d-\x7e]/
const needsEncodingAll = /[^\x21-\x24\x26-\x2b\x2d-\x7e]/gu

/**
 * An identity value as header text. Field values are bytes, and undici refuses characters
 * outside Latin-1 (RFC 9110 §5.5 leaves others undefined), so a username like `łukasz` would
 * make every request of its user fail. Other characters are percent-encoded as UTF-8 (RFC 3986
 * §2.1): `decodeURIComponent` or Python's `urllib.parse.unquote` gives the value back, and plain
 * ASCII names (every ASCII username) are sent unchanged.
 */
export function headerText(s: string): string {
  return needsEncoding.test(s) ? s.replace(needsEncodingAll, percentEncode) : s
}

function percentEncode(ch: string): string {
  // Buffer, not encodeURIComponent: a lone surrogate becomes U+FFFD instead of throwing.
  const bytes = Buffer.from(ch, 'utf8')
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += (bytes[i]! < 16 ? '%0' : '%') + bytes[i]!.toString(16).toUpperCase()
  return out
}

function rolesText(roles: readonly string[]): string {
  if (roles.length === 1) return headerText(roles[0]!)
  let out = ''
  for (let i = 0; i < roles.length; i++) out += (i === 0 ? '' : ',') + headerText(roles[i]!)
  return out
}

/** Whether a request header is a credential the edge consumed (a bearer token, the API key): never forwarded. */
function isConsumedCredential(name: string, value: string | string[], id: RequestIdentity, apiKeyHeader: string): boolean {
  // `_` compared as `-`: WSGI/CGI apps read X_API_Key as X-API-Key (the forwarder passes such
  // names only when allowed, and already read that way).
  if (name.indexOf('_') !== -1) name = name.replaceAll('_', '-')
  if (name === apiKeyHeader) return true
  return name === 'authorization' && typeof value === 'string' && id.via !== 'cookie' && bearerToken(value) !== null
}
