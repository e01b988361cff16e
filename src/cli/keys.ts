/** `drawbridge keys rotate|list`: the signing-key and CSRF-secret rings. */
import { parseArgs } from 'node:util'
import type { Io } from './common.js'
import { openCliIdentity } from './identity-common.js'
import { ExitFailedStartup, ExitSuccess, ExitUsage } from './exit-codes.js'

export const usage = 'drawbridge keys rotate [--use jwt|csrf] | list  [--config FILE]'

export async function keysCommand(argv: string[], io: Io): Promise<number> {
  let parsed: { values: { config?: string; use?: string }; positionals: string[] }
  try {
    parsed = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, use: { type: 'string' } }, allowPositionals: true, strict: true })
  } catch (e) {
    io.err(`drawbridge keys: ${(e as Error).message}\nusage: ${usage}`)
    return ExitUsage
  }
  const [action, ...extra] = parsed.positionals
  const use = parsed.values.use ?? 'jwt'
  if ((action !== 'rotate' && action !== 'list') || extra.length > 0 || (use !== 'jwt' && use !== 'csrf')) {
    io.err(`usage: ${usage}`)
    return ExitUsage
  }
  const identity = await openCliIdentity(parsed.values.config, io, 'keys')
  if (identity === null) return ExitFailedStartup
  try {
    if (action === 'rotate') {
      if (use === 'jwt' && identity.settings.signing_keys_file !== null) {
        io.err(`drawbridge keys: signing keys come from ${identity.settings.signing_keys_file}: add the new key at the end of that file`)
        return ExitFailedStartup
      }
      const ring = use === 'jwt' ? identity.jwtRing : identity.csrfRing
      const kid = await ring.rotate()
      io.out(`new ${use} key ${kid} signs from now on; running gateways pick it up within a minute; older keys verify until their tokens expire`)
      return ExitSuccess
    }
    for (const ring of [identity.jwtRing, identity.csrfRing]) {
      const current = ring.current().kid
      for (const k of ring.keys()) {
        io.out(
          [
            ring.use,
            k.kid,
            k.alg,
            new Date(k.createdAt).toISOString(),
            k.kid === current ? 'signing' : `verifies until ${new Date(k.verifyUntil ?? 0).toISOString()}`,
          ].join('\t'),
        )
      }
    }
    return ExitSuccess
  } finally {
    await identity.close()
  }
}
