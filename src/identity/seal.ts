/**
 * Encryption at rest for key-ring secrets and the short-lived refresh answers: JWE compact
 * (`dir` + A256GCM, RFC 7516) through jose, with the key-encryption key from the environment.
 */
import { CompactEncrypt, compactDecrypt } from 'jose'

export interface Sealer {
  seal(plaintext: string): Promise<string>
  /** Throws when the value was not sealed with this key or was altered. */
  unseal(sealed: string): Promise<string>
}

export function createSealer(key: Uint8Array): Sealer {
  const encoder = new TextEncoder()
  const decoder = new TextDecoder()
  return {
    seal: (plaintext) => new CompactEncrypt(encoder.encode(plaintext)).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(key),
    async unseal(sealed) {
      const { plaintext } = await compactDecrypt(sealed, key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] })
      return decoder.decode(plaintext)
    },
  }
}
