/** Address helpers shared by the config validator, the listener and the stages. */
import { BlockList, isIP } from 'node:net'

export interface HostPort {
  readonly host: string
  readonly port: number
}

/** Parses `HOST:PORT`, `[v6]:PORT` or `:PORT`; throws a TypeError with the reason. */
export function parseHostPort(value: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(value)
  if (m === null) throw new TypeError('expected HOST:PORT')
  const port = Number(m[3])
  if (port > 65_535) throw new TypeError('port out of range')
  const host = m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!)
  if (m[1] !== undefined && isIP(host) !== 6) throw new TypeError('invalid IPv6 address')
  return { host, port }
}

/** `::ffff:127.0.0.1` (how node reports IPv4 peers on dual-stack sockets) becomes `127.0.0.1`. */
export function normalizeIp(ip: string): string {
  if (ip.startsWith('::ffff:') && ip.indexOf('.') !== -1) return ip.slice(7)
  return ip
}

/**
 * The key a client IP is counted under by rate limits and bans: an IPv4 address itself, an IPv6
 * address by its /64 (one subscriber gets a whole /64, so counting single addresses would let a
 * client rotate through 2^64 of them). Written `2001:db8:1:2::/64`.
 */
export function clientKey(ip: string): string {
  const n = normalizeIp(ip)
  if (n.indexOf(':') === -1) return n
  const bare = n.indexOf('%') === -1 ? n : n.slice(0, n.indexOf('%'))
  const cut = bare.indexOf('::')
  let groups: string[]
  if (cut === -1) groups = bare.split(':')
  else {
    const head = cut === 0 ? [] : bare.slice(0, cut).split(':')
    const tail = cut + 2 >= bare.length ? [] : bare.slice(cut + 2).split(':')
    // A dotted IPv4 tail stands for two groups.
    const width = tail.length + (tail.length > 0 && tail[tail.length - 1]!.indexOf('.') !== -1 ? 1 : 0)
    groups = [...head, ...new Array<string>(Math.max(0, 8 - head.length - width)).fill('0'), ...tail]
  }
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`
}

export function isLoopback(ip: string): boolean {
  const n = normalizeIp(ip)
  return n === '::1' || n.startsWith('127.')
}

/** A compiled CIDR list; `matches` is a BlockList lookup (no per-request parsing). */
export interface IpMatcher {
  readonly empty: boolean
  matches(ip: string): boolean
}

/** Compiles CIDRs (`10.0.0.0/8`, `::1/128`) or bare addresses; throws TypeError naming the bad entry. */
export function compileIpMatcher(cidrs: readonly string[]): IpMatcher {
  const list = new BlockList()
  for (const entry of cidrs) {
    const slash = entry.indexOf('/')
    const addr = normalizeIp(slash === -1 ? entry : entry.slice(0, slash))
    const family = isIP(addr)
    if (family === 0) throw new TypeError(`not an IP address or CIDR: ${entry}`)
    const max = family === 4 ? 32 : 128
    const prefix = slash === -1 ? max : Number(entry.slice(slash + 1))
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (slash !== -1 && !/^[0-9]+$/.test(entry.slice(slash + 1)))) {
      throw new TypeError(`invalid prefix length: ${entry}`)
    }
    list.addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6')
  }
  const empty = cidrs.length === 0
  return {
    empty,
    matches(ip: string): boolean {
      if (empty) return false
      const n = normalizeIp(ip)
      const family = isIP(n)
      if (family === 0) return false
      return list.check(n, family === 4 ? 'ipv4' : 'ipv6')
    },
  }
}
