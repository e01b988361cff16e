/**
 * Signing keys supplied by file (`auth.signing_keys_file`): a JWK Set of private keys,
 * for operators whose keys come from a secrets manager. The last key signs, every listed key
 * verifies; rotating means adding a key at the end (and later removing the old one). The ring
 * re-reads the file on its usual schedule, so no restart is needed. Presented to the ring as a
 * read-only KeyStore.
 */
import { readFile } from 'node:fs/promises'
import type { KeyStore, KeyUse, StoredKey } from '../storage/types.js'
import type { Sealer } from './seal.js'

const allowed = new Set(['EdDSA', 'ES256'])

/** The file holds plain JWKs: nothing to unseal. */
export const plainSealer: Sealer = {
  seal: async (s) => s,
  unseal: async (s) => s,
}

export class FileKeyStore implements KeyStore {
  readonly #path: string

  constructor(path: string) {
    this.#path = path
  }

  async list(use: KeyUse): Promise<StoredKey[]> {
    if (use !== 'jwt') return []
    const parsed = JSON.parse(await readFile(this.#path, 'utf8')) as { keys?: unknown }
    if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new TypeError(`${this.#path}: not a JWK Set with keys`)
    return parsed.keys.map((k: Record<string, unknown>, i: number) => {
      if (typeof k.kid !== 'string' || k.kid === '' || typeof k.alg !== 'string' || !allowed.has(k.alg) || typeof k.d !== 'string') {
        throw new TypeError(`${this.#path}: key ${i} needs a kid, alg EdDSA or ES256, and its private part`)
      }
      const { d: _d, ...pub } = k
      return { kid: k.kid, use: 'jwt', alg: k.alg, created_at: i, public_jwk: JSON.stringify(pub), sealed: JSON.stringify(k), verify_until: null }
    })
  }

  async add(): Promise<void> {
    throw new TypeError('signing keys come from auth.signing_keys_file: add the new key to that file')
  }

  async retire(): Promise<number> {
    return 0
  }
}
