/**
 * The upstream's response headers as they reach the response stages: without hop-by-hop ones,
 * those the Connection header names, and those a stage of the route replaces (Server, upstream
 * CORS, HSTS, ...). Left out while copying, once per response, so that no stage has to `delete`
 * (a deleted property turns the object into a slow dictionary that writeHead then walks).
 */
import type { ResponseHeaders, Stage } from '../pipeline/types.js'
import { connectionListed, hopByHop } from '../net/hop-by-hop.js'

export interface UpstreamHeaderFilter {
  readonly names: ReadonlySet<string>
  readonly prefixes: readonly string[]
}

/** Compiled once per route from its response stages. */
export function compileUpstreamHeaderFilter(stages: readonly Stage[]): UpstreamHeaderFilter {
  const names = new Set(hopByHop)
  const prefixes: string[] = []
  for (const s of stages) {
    for (const n of s.dropsUpstreamHeaders?.names ?? []) names.add(n.toLowerCase())
    for (const p of s.dropsUpstreamHeaders?.prefixes ?? []) prefixes.push(p.toLowerCase())
  }
  return Object.freeze({ names, prefixes: Object.freeze(prefixes) })
}

/**
 * `bodiless`: a 204 or 304, whose Content-Length is left out. A 204 must not have one (RFC 9110
 * §8.6); a 304's may state the selected representation's length, but clients that check it
 * against the (always empty) content fail the answer, undici among them.
 */
export function upstreamResponseHeaders(
  filter: UpstreamHeaderFilter,
  h: Readonly<Record<string, string | string[] | undefined>>,
  bodiless = false,
): ResponseHeaders {
  const listed = connectionListed(h['connection'])
  const { names, prefixes } = filter
  const out: ResponseHeaders = {}
  next: for (const name in h) {
    const v = h[name]
    if (v === undefined || names.has(name) || (listed !== null && listed.has(name)) || (bodiless && name === 'content-length')) continue
    for (let i = 0; i < prefixes.length; i++) if (name.startsWith(prefixes[i]!)) continue next
    out[name] = v
  }
  return out
}
