/** Random credentials and their stored form: only SHA-256 hashes of high-entropy values are kept. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** 256 random bits, base64url, behind a readable type prefix (`dbr_`, `dbk_`). */
export function newSecret(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url')
}

/** For random 256-bit values a plain SHA-256 is the right stored form (no salt or work factor needed). */
export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex')
}

/** Constant-time equality of two strings (different lengths compare unequal without a shortcut on content). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  if (x.length !== y.length) {
    timingSafeEqual(x, x)
    return false
  }
  return timingSafeEqual(x, y)
}
