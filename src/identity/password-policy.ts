/**
 * The registration password policy: 12 to 128 characters, not containing the
 * username or the email (or its local part), not one of the most common passwords.
 */
import { commonPasswords } from './common-passwords.js'

export type PasswordProblem = 'too_short' | 'too_long' | 'contains_username' | 'contains_email' | 'too_common'

export interface PasswordPolicy {
  readonly min_length: number
  readonly max_length: number
}

/** Characters, not UTF-16 units: an emoji is one. */
function length(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

export function checkPassword(policy: PasswordPolicy, password: string, username: string, email: string | null): PasswordProblem | null {
  const len = length(password)
  if (len < policy.min_length) return 'too_short'
  if (len > policy.max_length) return 'too_long'
  const lower = password.normalize('NFKC').toLowerCase()
  const name = username.normalize('NFKC').toLowerCase()
  if (name.length >= 3 && lower.includes(name)) return 'contains_username'
  if (email !== null) {
    const e = email.normalize('NFKC').toLowerCase()
    const local = e.slice(0, e.indexOf('@'))
    if (lower.includes(e) || (local.length >= 3 && lower.includes(local))) return 'contains_email'
  }
  // "Password123456!" and "!!qwerty2024" are the common word with decoration.
  const core = lower.replace(/^[^a-z]+/, '').replace(/[^a-z]+$/, '')
  if (commonPasswords.has(lower) || commonPasswords.has(core) || /^(.)\1*$/.test(lower) || isRepeatedChunk(lower)) return 'too_common'
  return null
}

/** "abcabcabcabc", "123412341234": one short chunk repeated. */
function isRepeatedChunk(s: string): boolean {
  for (let size = 1; size <= 4 && size * 3 <= s.length; size++) {
    if (s.length % size !== 0) continue
    const chunk = s.slice(0, size)
    if (chunk.repeat(s.length / size) === s) return true
  }
  return false
}

/** A practical email check (RFC 5322 addr-spec without quoted local parts or comments). */
export function isEmail(s: string): boolean {
  if (s.length > 254) return false
  const at = s.lastIndexOf('@')
  if (at < 1 || at > 64) return false
  const local = s.slice(0, at)
  const domain = s.slice(at + 1)
  if (!/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/.test(local)) return false
  const labels = domain.split('.')
  if (labels.length < 2) return false
  return labels.every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l)) && /[A-Za-z]/.test(labels[labels.length - 1]!)
}

/** Usernames: 1-64 letters, digits and . _ - (what appears in headers and logs safely). */
export function isUsername(s: string): boolean {
  return /^[\p{L}\p{N}._-]{1,64}$/u.test(s)
}

/**
 * Whether what was typed as a username may be a password instead (typed into the wrong field,
 * or a credential stuffing list out of step): it breaks the username rule (spaces, symbols, too
 * long), or mixes lower case, upper case and digits the way passwords are made. Such a value is
 * not written to security events as is.
 */
export function mayBePassword(username: string): boolean {
  if (!isUsername(username)) return true
  return /[a-z]/.test(username) && /[A-Z]/.test(username) && /[0-9]/.test(username)
}
