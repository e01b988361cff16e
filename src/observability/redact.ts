/**
 * Redaction for logs: secrets never reach a log line (tokens, passwords, cookies, API keys).
 * Field names are matched case-insensitively by substring (`user_password`, `X-Api-Key`...).
 */

export type Redactor = {
  /** A path with its query: values of secret-looking parameters become "[REDACTED]". */
  pathWithQuery(path: string, query: string): string
  /** Whether a field, parameter or cookie name is one whose value is never logged. */
  isSecretName(name: string): boolean
  /** Free text (an upstream error body): `name=value`, `"name": "value"` forms are masked. */
  text(s: string): string
}

export function createRedactor(fieldNames: readonly string[]): Redactor {
  const names = fieldNames.map((n) => n.toLowerCase())
  const isSecret = (name: string): boolean => {
    let lower: string
    try {
      lower = decodeURIComponent(name).toLowerCase()
    } catch {
      lower = name.toLowerCase()
    }
    for (let i = 0; i < names.length; i++) if (lower.includes(names[i]!)) return true
    return false
  }
  // Linear: one alternation of literal names, then a bounded run of non-separators.
  const escaped = names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')
  const textRe = escaped === '' ? null : new RegExp(`((?:${escaped})[A-Za-z0-9_-]{0,32}["']?\\s{0,4}[:=]\\s{0,4}["']?)([^"'&\\s,;}]{1,4096})`, 'gi')
  const bearerRe = /(bearer|basic)\s+[A-Za-z0-9._~+/=-]{1,4096}/gi

  return {
    isSecretName: isSecret,
    pathWithQuery(path: string, query: string): string {
      if (query === '') return path
      const parts = query.split('&')
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!
        const eq = p.indexOf('=')
        if (eq !== -1 && isSecret(p.slice(0, eq))) parts[i] = p.slice(0, eq + 1) + '[REDACTED]'
      }
      return path + '?' + parts.join('&')
    },
    text(s: string): string {
      let out = s.replace(bearerRe, '$1 [REDACTED]')
      if (textRe !== null) out = out.replace(textRe, '$1[REDACTED]')
      return out
    },
  }
}
