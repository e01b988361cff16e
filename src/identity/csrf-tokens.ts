/**
 * CSRF tokens for cookie sessions (OWASP "signed double-submit cookie"): an HMAC of the
 * session id and a nonce, under the newest secret of the `csrf` key ring. The same value goes in
 * a script-readable cookie and, from the page, in the `X-CSRF-Token` header; the gateway checks
 * that both match and that the MAC binds the token to the caller's session, so a token planted
 * by a sibling subdomain or taken from another session is useless.
 */
import { createHmac, randomBytes } from 'node:crypto'
import type { KeyRing } from './key-ring.js'
import { safeEqual } from './secrets.js'

export class CsrfTokens {
  readonly #ring: KeyRing

  constructor(ring: KeyRing) {
    this.#ring = ring
  }

  issue(binding: string): string {
    const key = this.#ring.current()
    const nonce = randomBytes(16).toString('base64url')
    return `${key.kid}.${nonce}.${mac(key.signing as Uint8Array, binding, nonce)}`
  }

  async verify(token: string, binding: string): Promise<boolean> {
    if (token.length > 200) return false
    const parts = token.split('.')
    if (parts.length !== 3) return false
    const key = await this.#ring.find(parts[0]!)
    if (key === null) return false
    return safeEqual(parts[2]!, mac(key.verifying as Uint8Array, binding, parts[1]!))
  }
}

function mac(secret: Uint8Array, binding: string, nonce: string): string {
  return createHmac('sha256', secret).update(`${binding}\n${nonce}`).digest('base64url')
}
