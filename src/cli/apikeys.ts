/** `drawbridge apikeys create|list|revoke|rotate`. A key is printed once, on creation. */
import { parseArgs } from 'node:util'
import type { Io } from './common.js'
import type { ApiKey } from '../storage/types.js'
import type { Identity } from '../identity/index.js'
import { openCliIdentity, parseDays } from './identity-common.js'
import { ExitFailedStartup, ExitSuccess, ExitUsage } from './exit-codes.js'

export const usage =
  'drawbridge apikeys create --user U [--scopes a,b] [--expires 90d] [--name N] | list [--user U] | revoke ID|PREFIX | rotate ID|PREFIX [--grace 7d] [--expires 90d]  [--config FILE]'

async function findKey(identity: Identity, ref: string): Promise<ApiKey | null> {
  return ref.startsWith('dbk_') ? identity.stores.apiKeys.byPrefix(ref.slice(0, 12)) : identity.stores.apiKeys.byId(ref)
}

export async function apikeysCommand(argv: string[], io: Io): Promise<number> {
  let parsed: { values: { config?: string; user?: string; scopes?: string; expires?: string; name?: string; grace?: string }; positionals: string[] }
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        user: { type: 'string' },
        scopes: { type: 'string' },
        expires: { type: 'string' },
        name: { type: 'string' },
        grace: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    })
  } catch (e) {
    io.err(`drawbridge apikeys: ${(e as Error).message}\nusage: ${usage}`)
    return ExitUsage
  }
  const v = parsed.values
  const [action, ref, ...extra] = parsed.positionals
  const expires = v.expires === undefined ? null : parseDays(v.expires)
  const grace = v.grace === undefined ? null : parseDays(v.grace)
  const scopes = (v.scopes ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  const bad =
    extra.length > 0 ||
    (v.expires !== undefined && expires === null) ||
    (v.grace !== undefined && grace === null) ||
    !scopes.every((s) => /^[A-Za-z0-9:._-]{1,64}$/.test(s)) ||
    (action === 'create' && (v.user === undefined || ref !== undefined)) ||
    ((action === 'revoke' || action === 'rotate') && ref === undefined) ||
    !['create', 'list', 'revoke', 'rotate'].includes(action ?? '')
  if (bad) {
    io.err(`usage: ${usage}`)
    return ExitUsage
  }
  const identity = await openCliIdentity(v.config, io, 'apikeys')
  if (identity === null) return ExitFailedStartup
  try {
    const now = identity.clock()
    if (action === 'create') {
      const user = await identity.stores.users.byUsername(v.user!)
      if (user === null) {
        io.err(`drawbridge apikeys: no user ${v.user}`)
        return ExitFailedStartup
      }
      const { secret, key } = await identity.apiKeys.create(user.id, { name: v.name ?? 'default', scopes, expiresAt: expires === null ? null : now + expires })
      io.err(`created ${key.prefix} (${key.id}) for ${user.username}; the key is shown once, store it now:`)
      io.out(secret)
      return ExitSuccess
    }
    if (action === 'list') {
      const user = v.user === undefined ? null : await identity.stores.users.byUsername(v.user)
      if (v.user !== undefined && user === null) {
        io.err(`drawbridge apikeys: no user ${v.user}`)
        return ExitFailedStartup
      }
      const date = (t: number | null) => (t === null ? '-' : new Date(t).toISOString())
      for (const k of await identity.stores.apiKeys.list(user?.id)) {
        const state = k.revoked_at !== null ? 'revoked' : k.expires_at !== null && k.expires_at <= now ? 'expired' : 'active'
        io.out([k.id, k.prefix, k.name, k.scopes.join(',') || '-', state, `expires ${date(k.expires_at)}`, `last used ${date(k.last_used_at)}`].join('\t'))
      }
      return ExitSuccess
    }
    const key = await findKey(identity, ref!)
    if (key === null) {
      io.err(`drawbridge apikeys: no key ${ref}`)
      return ExitFailedStartup
    }
    if (action === 'revoke') {
      await identity.apiKeys.revoke(key.id)
      io.out(`revoked ${key.prefix}; running gateways refuse it within a second`)
      return ExitSuccess
    }
    const rotated = await identity.apiKeys.rotate(key.id, grace ?? identity.settings.api_keys.rotation_grace, expires === null ? null : now + expires)
    if (rotated === null) {
      io.err(`drawbridge apikeys: ${key.prefix} is revoked or expired: create a new key instead`)
      return ExitFailedStartup
    }
    io.err(
      `created ${rotated.key.prefix} replacing ${key.prefix}, which keeps working until ${new Date(now + (grace ?? identity.settings.api_keys.rotation_grace)).toISOString()}; the key is shown once:`,
    )
    io.out(rotated.secret)
    return ExitSuccess
  } finally {
    await identity.close()
  }
}
