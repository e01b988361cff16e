/** The key-encryption key's format: checked when the configuration is loaded, parsed again where keys are sealed. */
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
