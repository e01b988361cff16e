/**
 * Trusted hosts (Starlette's TrustedHostMiddleware, at the edge): the Host header, or the
 * authority of an absolute-form target (RFC 9112 §3.2.2: then Host is ignored), must name an
 * allowed host. A missing, repeated or malformed Host is a 400 too (RFC 9112 §3.2).
 * The request never reaches the upstream.
 */
import type { Stage, Verdict } from '../../pipeline/types.js'
import { verdict } from '../../pipeline/types.js'
import type { Transaction } from '../../pipeline/transaction.js'
import { compileHostMatcher, parseAuthority } from '../../net/authority.js'

const missingHost = verdict('host_check', 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'missing or repeated host')
const badHost = verdict('host_check', 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'malformed host')
const notAllowed = verdict('host_check', 400, 'DRAWBRIDGE_ERR_HOST_NOT_ALLOWED', 'host not allowed')

export function createHostCheck(trustedHosts: readonly string[]): Stage {
  const matcher = compileHostMatcher(trustedHosts)
  return {
    id: 'host_check',
    connection: function hostCheck(tx: Transaction): Verdict | undefined {
      // tx.authority was filled by the request parser (absolute-form authority or the Host header)
      if (tx.authority === '') return missingHost
      const raw = tx.req.rawHeaders
      let hosts = 0
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i]!
        if (name.length === 4 && name.toLowerCase() === 'host') hosts++
      }
      // HTTP/1.1 requires exactly one Host, even with an absolute-form target (RFC 9112 §3.2)
      if (hosts > 1 || (hosts === 0 && tx.req.httpVersionMinor === 1 && tx.req.httpVersionMajor === 1)) return missingHost
      const host = parseAuthority(tx.authority)
      if (host === null) return badHost
      tx.host = host
      return matcher.matches(host) ? undefined : notAllowed
    },
  }
}
