/** `drawbridge users add|list|disable|enable|reset-password|delete`: accounts in the store. */
import { parseArgs } from 'node:util'
import type { Io } from './common.js'
import { openCliIdentity, readPassword } from './identity-common.js'
import { ExitFailedStartup, ExitSuccess, ExitUsage } from './exit-codes.js'

export const usage =
  'drawbridge users add NAME [--email E] [--role R]... | list | disable NAME | enable NAME | reset-password NAME | delete NAME  [--config FILE]'

export async function usersCommand(argv: string[], io: Io): Promise<number> {
  let parsed: { values: { config?: string; email?: string; role?: string[] }; positionals: string[] }
  try {
    parsed = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' }, email: { type: 'string' }, role: { type: 'string', multiple: true } },
      allowPositionals: true,
      strict: true,
    })
  } catch (e) {
    io.err(`drawbridge users: ${(e as Error).message}\nusage: ${usage}`)
    return ExitUsage
  }
  const [action, name, ...extra] = parsed.positionals
  const needsName = action !== 'list'
  if (
    action === undefined ||
    !['add', 'list', 'disable', 'enable', 'reset-password', 'delete'].includes(action) ||
    (needsName && name === undefined) ||
    extra.length > 0
  ) {
    io.err(`usage: ${usage}`)
    return ExitUsage
  }
  const identity = await openCliIdentity(parsed.values.config, io, 'users')
  if (identity === null) return ExitFailedStartup
  try {
    if (action === 'list') {
      for (const u of await identity.stores.users.list()) {
        io.out([u.username, u.email ?? '-', u.roles.join(',') || '-', u.disabled ? 'disabled' : 'enabled', new Date(u.created_at).toISOString()].join('\t'))
      }
      return ExitSuccess
    }
    if (action === 'add') {
      const roles = parsed.values.role ?? []
      if (!roles.every((r) => /^[A-Za-z0-9:._-]{1,64}$/.test(r))) {
        io.err('drawbridge users: roles are 1-64 letters, digits and : . _ -')
        return ExitUsage
      }
      const password = await readPassword(`password for ${name}: `, io)
      const r = await identity.register(name!, parsed.values.email ?? null, password, roles)
      if (!r.ok) {
        io.err(`drawbridge users: cannot add ${name}: ${r.reason}`)
        return ExitFailedStartup
      }
      io.out(`added ${r.user.username} (${r.user.id})`)
      return ExitSuccess
    }
    const user = await identity.stores.users.byUsername(name!)
    if (user === null) {
      io.err(`drawbridge users: no user ${name}`)
      return ExitFailedStartup
    }
    if (action === 'disable' || action === 'enable') {
      await identity.setDisabled(user.id, action === 'disable')
      io.out(`${action}d ${user.username}${action === 'disable' ? ' (sessions ended)' : ''}`)
    } else if (action === 'reset-password') {
      const problem = await identity.setPassword(user.id, await readPassword(`new password for ${user.username}: `, io))
      if (problem !== null) {
        io.err(`drawbridge users: password refused: ${problem}`)
        return ExitFailedStartup
      }
      io.out(`password of ${user.username} changed (sessions ended)`)
    } else {
      await identity.stores.users.delete(user.id)
      io.out(`deleted ${user.username}`)
    }
    return ExitSuccess
  } finally {
    await identity.close()
  }
}
