/**
 * Password hashing with argon2id through the `argon2` binding (prebuilt, installed from npm).
 * Unknown users are checked against a dummy hash made with the same parameters, so a login
 * costs the same whether or not the account exists.
 */
import argon2 from 'argon2'

export interface Argon2Params {
  /** KiB; OWASP's minimum for argon2id is 19 MiB with 2 passes (Password Storage Cheat Sheet). */
  readonly memory_kib: number
  readonly iterations: number
  readonly parallelism: number
}

export interface PasswordHasher {
  hash(password: string): Promise<string>
  /** Constant work: verifies against a dummy hash when `hash` is null, and then answers false. */
  verify(hash: string | null, password: string): Promise<boolean>
  /** Whether a stored hash was made with other parameters (re-hash it after a good login). */
  needsRehash(hash: string): boolean
}

export async function createPasswordHasher(params: Argon2Params): Promise<PasswordHasher> {
  const options = { type: argon2.argon2id, memoryCost: params.memory_kib, timeCost: params.iterations, parallelism: params.parallelism } as const
  const dummy = await argon2.hash('drawbridge-dummy-password', options)
  return {
    hash: (password) => argon2.hash(password, options),
    async verify(hash, password) {
      if (hash === null) {
        await argon2.verify(dummy, password).catch(() => false)
        return false
      }
      try {
        return await argon2.verify(hash, password)
      } catch {
        return false
      }
    },
    needsRehash: (hash) => argon2.needsRehash(hash, options),
  }
}
