/** The form under which usernames and emails are unique and looked up: 'Alice' and 'ALICE' are one account. */
export function identityKey(s: string): string {
  return s.normalize('NFKC').toLowerCase()
}
