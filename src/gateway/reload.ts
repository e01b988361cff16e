/**
 * What a reload may change. Policies, switches and limits follow a reload; listener addresses,
 * TLS on/off, storage, bans and what the identity module holds need a restart and keep their
 * old values (with a warning naming them).
 */
import type { Config } from '../config/types.js'

/** The parts of `auth` a reload changes; the rest is held by the identity module and needs a restart. */
export const reloadableAuth = ['policies', 'default_policy', 'login_page', 'revocation_check', 'forward_token', 'csrf'] as const

/** Settings of `next` that differ from `running` but need a restart. */
export function needsRestart(running: Config, next: Config): string[] {
  const problems: string[] = []
  if (next.listen !== running.listen) problems.push('listen')
  if ((next.tls === null) !== (running.tls === null)) problems.push('tls on/off')
  if (next.admin.listen !== running.admin.listen) problems.push('admin.listen')
  if (next.limits.max_header_bytes !== running.limits.max_header_bytes) problems.push('limits.max_header_bytes')
  if (JSON.stringify(next.storage) !== JSON.stringify(running.storage)) problems.push('storage')
  if (JSON.stringify(next.bans) !== JSON.stringify(running.bans)) problems.push('bans')
  if (fixedAuth(next.auth) !== fixedAuth(running.auth)) problems.push(`auth (other than ${reloadableAuth.join(', ')})`)
  return problems
}

/** What of `auth` a reload cannot change, comparable as a string. */
function fixedAuth(a: Config['auth']): string | null {
  if (a === null) return null
  const rest: Record<string, unknown> = { ...a }
  for (const k of reloadableAuth) delete rest[k]
  return JSON.stringify(rest)
}

/** The running `auth` with the reloadable parts taken from the new file. */
export function withReloaded(running: NonNullable<Config['auth']>, next: NonNullable<Config['auth']>): NonNullable<Config['auth']> {
  const out: Record<string, unknown> = { ...running }
  for (const k of reloadableAuth) out[k] = next[k]
  return out as unknown as NonNullable<Config['auth']>
}
