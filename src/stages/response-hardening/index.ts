/**
 * Response hardening: security headers by profile (precomputed once per route), no Server or
 * X-Powered-By, HSTS on HTTPS only (RFC 6797 §7.2: never over plain HTTP), Set-Cookie flags.
 */
import type { HeaderPolicy, HeaderProfile } from '../../config/types.js'
import type { ResponseHeaders, Stage } from '../../pipeline/types.js'
import type { Transaction } from '../../pipeline/transaction.js'
import { profiles } from './profiles.js'
import { hardenSetCookie, type CookieOptions } from './set-cookie.js'

export interface HardeningOptions {
  readonly policy: HeaderPolicy & { readonly profile: HeaderProfile }
  readonly hsts: { readonly max_age: number; readonly include_subdomains: boolean; readonly preload: boolean }
  readonly cookies: { readonly script_readable: readonly string[]; readonly allow_samesite_none: readonly string[] }
}

const alwaysRemoved = ['server', 'x-powered-by', 'x-aspnet-version', 'x-aspnetmvc-version', 'x-runtime']

export function createResponseHardening(o: HardeningOptions): Stage {
  const profile = profiles[o.policy.profile]
  const enforced: [string, string][] = Object.entries(profile.enforced)
  for (const [k, v] of Object.entries(o.policy.set ?? {})) {
    const key = k.toLowerCase()
    const i = enforced.findIndex(([n]) => n === key)
    if (i === -1) enforced.push([key, v])
    else enforced[i] = [key, v]
  }
  const removed = [...alwaysRemoved, ...(o.policy.remove ?? []).map((h) => h.toLowerCase())]
  const enforcedNames = new Set(enforced.map(([n]) => n))
  const defaults = Object.entries(profile.defaults).filter(([n]) => !enforcedNames.has(n) && !removed.includes(n))
  const finalEnforced = enforced.filter(([n]) => !removed.includes(n))
  const hsts =
    o.hsts.max_age > 0 ? `max-age=${o.hsts.max_age}${o.hsts.include_subdomains ? '; includeSubDomains' : ''}${o.hsts.preload ? '; preload' : ''}` : null
  const cookieOptions: CookieOptions = {
    scriptReadable: new Set(o.cookies.script_readable),
    allowSameSiteNone: new Set(o.cookies.allow_samesite_none),
  }

  return {
    id: 'response_hardening',
    // Upstream HSTS never passes: Drawbridge sets its own on HTTPS and none on plain HTTP.
    dropsUpstreamHeaders: { names: [...removed, 'strict-transport-security'], prefixes: [] },
    response: function harden(tx: Transaction, h: ResponseHeaders): void {
      // The removed names and upstream HSTS never got here (dropsUpstreamHeaders).
      for (let i = 0; i < finalEnforced.length; i++) {
        const e = finalEnforced[i]!
        h[e[0]] = e[1]
      }
      for (let i = 0; i < defaults.length; i++) {
        const d = defaults[i]!
        if (h[d[0]] === undefined) h[d[0]] = d[1]
      }
      if (tx.secure && hsts !== null) h['strict-transport-security'] = hsts
      const cookies = h['set-cookie']
      if (cookies !== undefined) {
        if (Array.isArray(cookies)) h['set-cookie'] = cookies.map((c) => hardenSetCookie(c, tx.secure, cookieOptions))
        else h['set-cookie'] = hardenSetCookie(String(cookies), tx.secure, cookieOptions)
      }
    },
  }
}
