/**
 * Server-side request forgery: a value that is a URL, or a host[:port], which the
 * server would be tricked into fetching from itself, its private network or its cloud metadata
 * service; or a URL whose scheme turns a fetch into something else (`gopher:` writes raw bytes to
 * Redis or SMTP, `file:` reads the disk, `dict:`/`ldap:`/`tftp:` talk to other daemons).
 * Hosts are read with the WHATWG URL parser, the one browsers and Node's fetch use, so decimal
 * (2130706433), octal (0177.0.0.1), hex (0x7f.1), short (127.1) and fullwidth or circled digits
 * all arrive canonical; what it does not undo (IPv4 inside IPv6, IPs inside wildcard-DNS names,
 * the `@`/`\` confusions of other parsers) is undone here. Runs on decoded readings, so
 * percent-encoding and entities are already gone.
 */
import { BlockList, isIP } from 'node:net'

export type SsrfRule = 'ssrf-internal-address' | 'ssrf-metadata' | 'ssrf-scheme' | 'ssrf-obfuscated-address'

export interface SsrfFinding {
  readonly rule: SsrfRule
  readonly confidence: number
}

type Kind = 'metadata' | 'loopback' | 'unspecified' | 'link-local' | 'private' | 'shared' | 'internal-name'

interface HostClass {
  readonly kind: Kind
  // the address was written in a form no one types by accident (hex, octal, IPv4-in-IPv6...)
  readonly obfuscated: boolean
}

// Confidence when the value is (or is a parameter holding) a URL to such a host.
const urlConfidence: Record<Kind, number> = {
  'metadata': 0.95,
  'loopback': 0.95,
  'unspecified': 0.9,
  'link-local': 0.9,
  'private': 0.9,
  // carrier-grade NAT and names that only resolve inside a network: suspicious, not proof
  'shared': 0.7,
  'internal-name': 0.7,
}

// Instance metadata endpoints: AWS/GCP/Azure/OpenStack (169.254.169.254), ECS tasks
// (169.254.170.2), Alibaba (100.100.100.200), Oracle (192.0.0.192), Azure WireServer.
const metadataV4 = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', '192.0.0.192', '168.63.129.16'])
const metadataNames = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.azure.com',
  'metadata.tencentyun.com',
  'metadata.packet.net',
])

function blockList(subnets: [string, number][]): BlockList {
  const b = new BlockList()
  for (const [net, prefix] of subnets) b.addSubnet(net, prefix, 'ipv4')
  return b
}
const loopbackV4 = blockList([['127.0.0.0', 8]])
const unspecifiedV4 = blockList([['0.0.0.0', 8]])
const linkLocalV4 = blockList([['169.254.0.0', 16]])
const privateV4 = blockList([
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['192.0.0.0', 24],
  ['198.18.0.0', 15],
])
const sharedV4 = blockList([['100.64.0.0', 10]])

function classifyV4(ip: string): Kind | null {
  if (metadataV4.has(ip)) return 'metadata'
  if (loopbackV4.check(ip, 'ipv4')) return 'loopback'
  if (unspecifiedV4.check(ip, 'ipv4')) return 'unspecified'
  if (linkLocalV4.check(ip, 'ipv4')) return 'link-local'
  if (privateV4.check(ip, 'ipv4')) return 'private'
  if (sharedV4.check(ip, 'ipv4')) return 'shared'
  return null
}

/** Eight 16-bit groups of an IPv6 literal (a trailing dotted IPv4 allowed), or null. */
export function expandV6(addr: string): number[] | null {
  if (isIP(addr) !== 6) return null
  let s = addr.toLowerCase()
  const pct = s.indexOf('%')
  if (pct !== -1) s = s.slice(0, pct)
  // a trailing dotted IPv4 (`::ffff:127.0.0.1`) becomes its two hex groups
  const lastColon = s.lastIndexOf(':')
  const tail = s.slice(lastColon + 1)
  if (tail.includes('.')) {
    const o = tail.split('.').map(Number)
    s = s.slice(0, lastColon + 1) + ((o[0]! << 8) | o[1]!).toString(16) + ':' + ((o[2]! << 8) | o[3]!).toString(16)
  }
  const halves = s.split('::')
  const part = (h: string) =>
    h === ''
      ? []
      : h
          .split(':')
          .filter((g) => g !== '')
          .map((g) => parseInt(g, 16))
  const head = part(halves[0]!)
  const rest = halves.length > 1 ? part(halves[1]!) : []
  const fill = 8 - head.length - rest.length
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return null
  return [...head, ...new Array<number>(fill).fill(0), ...rest]
}

function v4From(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}

function classifyV6(addr: string): HostClass | null {
  const g = expandV6(addr)
  if (g === null) return null
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0)
  if (zero(0, 8)) return { kind: 'unspecified', obfuscated: false }
  if (zero(0, 7) && g[7] === 1) return { kind: 'loopback', obfuscated: false }
  if (g[0] === 0xfd00 && g[1] === 0xec2 && zero(2, 7) && g[7] === 0x254) return { kind: 'metadata', obfuscated: false }
  // IPv4 carried inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), SIIT, NAT64, 6to4
  let embedded: string | null = null
  if (zero(0, 5) && g[5] === 0xffff) embedded = v4From(g[6]!, g[7]!)
  else if (zero(0, 6)) embedded = v4From(g[6]!, g[7]!)
  else if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) embedded = v4From(g[6]!, g[7]!)
  else if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) embedded = v4From(g[6]!, g[7]!)
  else if (g[0] === 0x2002) embedded = v4From(g[1]!, g[2]!)
  if (embedded !== null) {
    const kind = classifyV4(embedded)
    return kind === null ? null : { kind, obfuscated: true }
  }
  if ((g[0]! & 0xffc0) === 0xfe80) return { kind: 'link-local', obfuscated: false }
  if ((g[0]! & 0xfe00) === 0xfc00) return { kind: 'private', obfuscated: false }
  return null
}

// Wildcard DNS services that answer any name with the IP written inside it.
const wildcardDns = ['nip.io', 'sslip.io', 'xip.io', 'traefik.me', 'backname.io', 'nip.direct', 'rbndr.us', '1u.ms', 'localh.st']
// Public names that resolve to 127.0.0.1 for every subdomain.
const loopbackNames = ['localhost', 'localtest.me', 'lvh.me', 'vcap.me', 'lacolhost.com', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback']
// What containers call the machine they run on (Docker Desktop, Podman, minikube): its loopback services.
const containerHostNames = new Set([
  'host.docker.internal',
  'gateway.docker.internal',
  'kubernetes.docker.internal',
  'host.containers.internal',
  'docker.for.mac.localhost',
  'docker.for.win.localhost',
  'host.minikube.internal',
  'localhost4',
  'localhost4.localdomain4',
  'localhost6',
  'localhost6.localdomain6',
  'ipv6-localhost',
])
// Names that only resolve inside a network (RFC 6762, RFC 8375, ICANN's .internal, Kubernetes).
const internalSuffixes = ['.internal', '.local', '.localdomain', '.intranet', '.corp', '.lan', '.home.arpa', '.cluster.local', '.svc']

const embeddedDotted = /(?:^|[.-])(\d{1,3})[.-](\d{1,3})[.-](\d{1,3})[.-](\d{1,3})(?=[.-]|$)/
const embeddedHex = /(?:^|[.-])([0-9a-f]{8})(?=[.-]|$)/

function endsWithName(host: string, name: string): boolean {
  return host === name || host.endsWith('.' + name)
}

function classifyName(hostname: string): HostClass | null {
  const host = hostname.toLowerCase().replace(/\.+$/, '')
  if (host.length === 0 || host.length > 253) return null
  if (metadataNames.has(host)) return { kind: 'metadata', obfuscated: false }
  for (const n of loopbackNames) if (endsWithName(host, n)) return { kind: 'loopback', obfuscated: n !== 'localhost' }
  if (containerHostNames.has(host)) return { kind: 'loopback', obfuscated: false }
  // the cluster's API server: a service account token away from every secret
  if (host.startsWith('kubernetes.default')) return { kind: 'private', obfuscated: false }
  const service = wildcardDns.some((d) => endsWithName(host, d))
  const dotted = embeddedDotted.exec(host)
  if (dotted !== null) {
    const octets = dotted.slice(1, 5).map(Number)
    if (octets.every((o) => o <= 255)) {
      const kind = classifyV4(octets.join('.'))
      // a private IP written into a name is how DNS-rebinding and wildcard services reach inside
      if (kind !== null) return { kind, obfuscated: true }
    }
  }
  if (service) {
    const hex = embeddedHex.exec(host)
    if (hex !== null) {
      const n = parseInt(hex[1]!, 16)
      const kind = classifyV4(`${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`)
      if (kind !== null) return { kind, obfuscated: true }
    }
  }
  if (internalSuffixes.some((s) => host.endsWith(s))) return { kind: 'internal-name', obfuscated: false }
  return null
}

/** What a hostname (as the URL parser returns it: canonical IPv4, bracketed IPv6) points at. */
export function classifyHost(hostname: string): HostClass | null {
  if (hostname.startsWith('[') && hostname.endsWith(']')) return classifyV6(hostname.slice(1, -1))
  const ip = isIP(hostname)
  if (ip === 4) {
    const kind = classifyV4(hostname)
    return kind === null ? null : { kind, obfuscated: false }
  }
  if (ip === 6) return classifyV6(hostname)
  return classifyName(hostname)
}

function parseHost(authorityAndRest: string): string | null {
  try {
    return new URL('http://' + authorityAndRest).hostname
  } catch {
    return null
  }
}

// How the host was written, before the parser canonicalised it: compared to spot encodings.
function rawHost(afterSlashes: string): string {
  let end = afterSlashes.length
  for (let i = 0; i < afterSlashes.length; i++) {
    const c = afterSlashes[i]
    // `\l\o\c...` is one escaped name to glibc; `evil.com\@host` ends the host for WHATWG
    if (c === '/' || c === '?' || c === '#' || (c === '\\' && !/[a-z0-9\\]/i.test(afterSlashes[i + 1] ?? ''))) {
      end = i
      break
    }
  }
  let h = afterSlashes.slice(0, end)
  h = h.slice(h.lastIndexOf('@') + 1)
  h = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.replace(/:\d*$/, '')
  return h.toLowerCase().replace(/\.+$/, '')
}

// Hosts other URL parsers would pick: whatever follows an '@' before the first '/' or '?'
// (`http://evil.com\@127.0.0.1`, `http://evil.com#@127.0.0.1`, `http://a.com:80 &@127.0.0.1:22/`:
// WHATWG says evil.com, curl, urllib and many libraries have said 127.0.0.1).
function confusedHosts(afterSlashes: string): string[] {
  const out: string[] = []
  for (let i = 0; i < afterSlashes.length && out.length < 8; i++) {
    const c = afterSlashes[i]
    if (c === '/' || c === '?') break
    if (c !== '@') continue
    let j = i + 1
    while (j < afterSlashes.length && !/[\s/?#\\@]/.test(afterSlashes[j]!)) j++
    if (j > i + 1) out.push(afterSlashes.slice(i + 1, j))
  }
  return out
}

const two32 = 4294967296n

/**
 * Hosts the WHATWG parser rejects but older resolvers accepted: numbers past 2^32 that inet_aton
 * and some libraries wrap (`7147006462` is 169.254.169.254), IPv6 with a zone id (`[fe80::1%eth0]`),
 * and glibc's backslash-escaped names (`\l\o\c\a\l\h\o\s\t`).
 */
function classifyRaw(raw: string): HostClass | null {
  if (raw.startsWith('[') && raw.endsWith(']')) return classifyV6(raw.slice(1, -1))
  if (/^(?:\d{10,40}|0x[0-9a-f]{9,32})$/i.test(raw)) {
    const n = Number(BigInt(raw) % two32)
    const kind = classifyV4(`${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`)
    return kind === null ? null : { kind, obfuscated: true }
  }
  if (raw.includes('\\')) {
    const c = classifyName(raw.replace(/\\/g, ''))
    return c === null ? null : { kind: c.kind, obfuscated: true }
  }
  return null
}

interface Scored {
  rule: SsrfRule
  confidence: number
}

function better(a: Scored | null, b: Scored | null): Scored | null {
  if (a === null) return b
  if (b === null) return a
  return b.confidence > a.confidence ? b : a
}

/** Score a URL's authority (the text after `scheme:`). */
function scoreAuthority(rest: string, full = rest): Scored | null {
  const slashes = /^[/\\]*/.exec(rest)![0].length
  const afterSlashes = rest.slice(slashes)
  if (afterSlashes.length === 0) return null
  let best: Scored | null = null
  const candidates: string[] = []
  const host = parseHost(afterSlashes)
  if (host !== null) candidates.push(host)
  // other parsers read spaces into the authority: look for '@' up to the first '/' of the whole value
  for (const confused of confusedHosts(full.slice(slashes))) {
    const h = parseHost(confused)
    if (h !== null) candidates.push(h)
  }
  const raw = rawHost(afterSlashes)
  if (host === null || raw.includes('\\')) {
    const c = classifyRaw(raw)
    if (c !== null)
      best = better(best, { rule: c.kind === 'metadata' ? 'ssrf-metadata' : 'ssrf-internal-address', confidence: Math.min(0.98, urlConfidence[c.kind] + 0.03) })
  }
  for (const h of candidates) {
    const c = classifyHost(h)
    const bare = h.replace(/^\[|\]$/g, '')
    if (c === null) {
      // a public IP spelled in hex, octal or one big number: evasion, but of what we cannot say
      if (isIP(bare) === 4 && raw !== bare && raw !== '' && !raw.includes('@')) best = better(best, { rule: 'ssrf-obfuscated-address', confidence: 0.6 })
      continue
    }
    const obfuscated = c.obfuscated || (isIP(bare) === 4 && raw !== bare)
    const rule: SsrfRule = c.kind === 'metadata' ? 'ssrf-metadata' : 'ssrf-internal-address'
    const confidence = Math.min(0.98, urlConfidence[c.kind] + (obfuscated ? 0.03 : 0))
    best = better(best, { rule, confidence })
  }
  return best
}

// Schemes that make a server-side fetch do something other than fetch a web page.
const dangerousSchemes: Record<string, number> = {
  'gopher': 0.95,
  'dict': 0.9,
  'netdoc': 0.9,
  'jar': 0.9,
  'file': 0.9,
  'tftp': 0.85,
  'ldap': 0.85,
  'ldaps': 0.85,
  'ldapi': 0.85,
  'sftp': 0.85,
  'smb': 0.85,
  'telnet': 0.85,
  'rmi': 0.85,
  'iiop': 0.85,
}
const webSchemes = ['http', 'https', 'ftp', 'ftps', 'ws', 'wss']
const allSchemes = [...Object.keys(dangerousSchemes), ...webSchemes]

const schemeChar = /[a-z0-9+.-]/
const stopChar = /[\s"'<>`]/

function scoreUrlAt(value: string, lower: string, start: number, scheme: string): Scored | null {
  const colon = start + scheme.length
  let end = colon + 1
  const limit = Math.min(value.length, colon + 4096)
  while (end < limit && !stopChar.test(value[end]!)) end++
  const rest = value.slice(colon + 1, end)
  const next = rest[0] ?? ''
  let best: Scored | null = null
  const danger = dangerousSchemes[scheme]
  if (danger !== undefined) {
    // `file:` needs a path after it (`file:/etc`, `file:///`, `file:C:/`, `file:${x}/` obfuscation);
    // `jar:` wraps another URL; the rest talk to a host. "dict: a mapping" is prose.
    const shaped = scheme === 'file' ? /^(?:[/\\$%]|[a-z]:)/i.test(rest) : scheme === 'jar' ? /^[a-z][a-z0-9+.-]*:/i.test(rest) : next === '/' || next === '\\'
    if (shaped) best = { rule: 'ssrf-scheme', confidence: danger }
  }
  if (scheme !== 'jar' && scheme !== 'file' && (next === '/' || next === '\\' || webSchemes.includes(scheme))) {
    best = better(best, scoreAuthority(rest, value.slice(colon + 1, limit)))
  }
  if (best === null) return null
  // A URL in running text ("see http://localhost:3000") is documentation more often than an attack.
  const before = start === 0 ? '' : lower[start - 1]!
  if (before !== '' && /\s/.test(before)) return { rule: best.rule, confidence: Math.max(0.5, best.confidence - 0.3) }
  return best
}

const bareHost = /^(?:\[[0-9a-f:.%]+\]|[0-9a-z._-]+)(?::\d{1,5})?(?:[/?#]\S*)?$/i
const dottedFour = /^(?:0x[0-9a-f]+|\d+)(?:\.(?:0x[0-9a-f]+|\d+)){3}$/i
const proseIp = /(?:^|[^\w.])(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?![\w]|\.\d)/g

/** A value with no scheme that is itself a host, host:port or host/path. */
function scoreBare(v: string): Scored | null {
  if (isIP(v) === 6) {
    const c = classifyV6(v)
    return c === null
      ? null
      : { rule: c.kind === 'metadata' ? 'ssrf-metadata' : 'ssrf-internal-address', confidence: c.kind === 'metadata' ? 0.9 : c.kind === 'private' ? 0.6 : 0.75 }
  }
  if (!bareHost.test(v)) return null
  const host = parseHost(v)
  if (host === null) return null
  const raw = rawHost(v)
  const withPort = v.length > raw.length
  // only forms that can only be hosts: four-part addresses, IPv6 literals, known names
  if (!dottedFour.test(raw) && !raw.startsWith('[') && !(withPort && /^(?:0x[0-9a-f]+|\d+)(?:\.(?:0x[0-9a-f]+|\d+))*$/i.test(raw) && raw.includes('.'))) {
    const named = classifyName(raw)
    if (named === null || named.kind === 'internal-name') return null
  }
  const c = classifyHost(host)
  if (c === null) return null
  const rule: SsrfRule = c.kind === 'metadata' ? 'ssrf-metadata' : 'ssrf-internal-address'
  const obfuscated = c.obfuscated || (isIP(host) === 4 && raw !== host)
  // `127.0.0.1:6379`, `localhost:8080/admin` name a service; a lone private address (an IP
  // field in a network settings form) is ordinary and scored as suspicious only
  let confidence = withPort ? urlConfidence[c.kind] - 0.05 : c.kind === 'metadata' ? 0.9 : c.kind === 'loopback' ? 0.75 : 0.6
  if (c.kind === 'shared' || c.kind === 'internal-name') confidence = 0.6
  if (obfuscated) confidence = Math.max(confidence, 0.85)
  return { rule, confidence }
}

export function analyzeSsrf(raw: string): SsrfFinding | null {
  try {
    return analyze(raw)
  } catch {
    // a detection engine must never take a request down with it
    return null
  }
}

function analyze(raw: string): SsrfFinding | null {
  const value = raw.trim()
  if (value.length < 3) return null
  const lower = value.toLowerCase()
  let best: Scored | null = null
  let sawScheme = false
  // every `scheme://` (any scheme: `rsync://`, `xri://` reach hosts too), plus the dangerous and
  // web schemes written without slashes (`file:/etc/passwd`, `http:0x7f.1`, `jar:http:`)
  const starts = new Map<number, string>()
  let from = 0
  for (let guard = 0; guard < 64; guard++) {
    const at = lower.indexOf('://', from)
    if (at === -1) break
    from = at + 3
    let b = at
    while (b > 0 && schemeChar.test(lower[b - 1]!)) b--
    // a scheme starts with a letter: in `x=1http://`, take `http`
    while (b < at && !/[a-z]/.test(lower[b]!)) b++
    if (b < at && at - b <= 32) starts.set(b, lower.slice(b, at))
  }
  for (const scheme of allSchemes) {
    const needle = scheme + ':'
    let next = 0
    for (let guard = 0; guard < 64; guard++) {
      const at = lower.indexOf(needle, next)
      if (at === -1) break
      next = at + needle.length
      if (at > 0 && schemeChar.test(lower[at - 1]!)) continue
      starts.set(at, scheme)
    }
  }
  for (const [at, scheme] of starts) {
    sawScheme = true
    best = better(best, scoreUrlAt(value, lower, at, scheme))
  }
  // protocol-relative: `//127.0.0.1/admin`
  if (value.startsWith('//') || value.startsWith('\\\\')) best = better(best, scoreAuthority(value))
  if (!sawScheme && !/\s/.test(value)) best = better(best, scoreBare(value))
  if (best === null && value.length <= 4096) {
    // an internal address mentioned in text: worth a note at high paranoia, no more
    for (const m of value.matchAll(proseIp)) {
      const octets = m[1]!.split('.').map(Number)
      if (octets.some((o) => o > 255)) continue
      const kind = classifyV4(octets.join('.'))
      if (kind === null) continue
      best = better(best, { rule: kind === 'metadata' ? 'ssrf-metadata' : 'ssrf-internal-address', confidence: kind === 'metadata' ? 0.6 : 0.5 })
    }
  }
  return best
}
