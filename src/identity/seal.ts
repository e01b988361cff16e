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

/** Accepts 32 bytes as 64 hex digits or base64/base64url (what `drawbridge init` writes). */
export function parseKeyEncryptionKey(text: string): Uint8Array | null {
  const t = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(t)) return new Uint8Array(Buffer.from(t, 'hex'))
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const b = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
    if (b.length === 32) return new Uint8Array(b)
  }
  return null
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
