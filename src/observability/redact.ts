/**
 * Redaction for logs: secrets never reach a log line (tokens, passwords, cookies, API keys).
 * Names are compared folded: case-insensitive, with `-`, `_`, `.` and spaces removed, so
 * `api-key`, `api_key`, `Api.Key` and `apikey` are one name. The configured names and the long
 * built-in ones match as substrings (`user_password`, `X-Api-Key`); short built-in names that are
 * also common words (`key`, `code`, `sig`, `pin`...) match only as the whole name or the last
 * segment of one (`creds[key]`). Values shaped like Drawbridge API keys (`dbk_…`), refresh tokens
 * (`dbr_…`) and JWTs (`eyJ….….…`) are masked wherever they appear, whatever their name.
 */

export type Redactor = {
  /** A path with its query: values of secret-looking parameters become "[REDACTED]". */
  pathWithQuery(path: string, query: string): string
  /** Whether a field, parameter or cookie name is one whose value is never logged. */
  isSecretName(name: string): boolean
  /** Free text (an upstream error body): `name=value`, `"name": "value"` forms are masked. */
  text(s: string): string
}

/** Always secret, as substrings of a folded name (on top of `logging.redact_fields`). */
const builtinSubstrings = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'authorization',
  'credential',
  'signature',
  'privatekey',
  'jwt',
  'session',
  'sessid',
  'assertion',
]

/**
 * Always secret as a whole (folded) name only: as substrings these would hit harmless names
 * (`author`, `zipcode`, `design`, `spinner`, `monkey`). OAuth's `code`, signed URLs' `sig`,
 * one-time codes, PINs and session ids.
 */
const builtinExact = [
  'key',
  'accesskey',
  'secretkey',
  'signingkey',
  'masterkey',
  'subscriptionkey',
  'authkey',
  'code',
  'authcode',
  'otpcode',
  'mfacode',
  'smscode',
  'verificationcode',
  'devicecode',
  'usercode',
  'resetcode',
  'sig',
  'sid',
  'auth',
  'pass',
  'pwd',
  'pw',
  'otp',
  'totp',
  'hotp',
  'pin',
  'pincode',
  'refresh',
  'jwe',
  'jws',
  'hmac',
]

/**
 * `dbk_<8 hex>_<secret>` keeps its public prefix (the key's name in `apikeys list`); other
 * `dbk_`/`dbr_` runs long enough to be a key or refresh token, and JWTs (JWS, JWE), go whole.
 */
const keyShape = /db([kr])_([A-Za-z0-9_-]{16,})/g
const jwtShape = /eyJ[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*){2,4}/g
const keyHint = /db[kr]_/

/** Whether `s` may hold a secret-shaped value: two substring searches in the usual case. */
function mayHoldShape(s: string): boolean {
  return s.indexOf('eyJ') !== -1 || (s.indexOf('db') !== -1 && keyHint.test(s))
}
const publicPrefix = /^[0-9a-f]{8}_/

/** Masks secret-shaped values inside `s` (any name, any position). */
function maskShapes(s: string): string {
  if (!mayHoldShape(s)) return s
  return s
    .replace(keyShape, (_m, k: string, rest: string) => (k === 'k' && publicPrefix.test(rest) ? `dbk_${rest.slice(0, 8)}_[REDACTED]` : `db${k}_[REDACTED]`))
    .replace(jwtShape, '[REDACTED]')
}

const foldable = /[-_.\s]/g

/** Lower case without `-`, `_`, `.` or white space. */
export function foldName(name: string): string {
  const lower = name.toLowerCase()
  return lower.replace(foldable, '')
}

/** Folded names in a regex: `api_key` matches api_key, api-key, apikey, Api.Key. */
function foldedPattern(folded: string): string {
  return [...folded].map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[-_.]?')
}

export function createRedactor(fieldNames: readonly string[]): Redactor {
  const substrings = [...new Set([...fieldNames.map(foldName).filter((n) => n !== ''), ...builtinSubstrings])]
  const exact = new Set(builtinExact)
  const isFoldedSecret = (folded: string): boolean => {
    if (exact.has(folded)) return true
    for (let i = 0; i < substrings.length; i++) if (folded.includes(substrings[i]!)) return true
    return false
  }
  // Parameter names repeat from request to request: verdicts are remembered (bounded in count
  // and in size: long names, which a client can invent at will, are judged each time).
  const verdicts = new Map<string, boolean>()
  const isSecret = (name: string): boolean => {
    if (name.length > 64) return judge(name)
    let v = verdicts.get(name)
    if (v === undefined) {
      if (verdicts.size >= 4096) verdicts.clear()
      verdicts.set(name, (v = judge(name)))
    }
    return v
  }
  const judge = (name: string): boolean => {
    let n = name
    if (n.indexOf('%') !== -1) {
      try {
        n = decodeURIComponent(n)
      } catch {
        // Not valid percent-encoding: judged as written.
      }
    }
    if (isFoldedSecret(foldName(n))) return true
    // `creds[key]`, `data.key`: the last segment of a structured name, for the exact names.
    const cut = Math.max(n.lastIndexOf('['), n.lastIndexOf('.'))
    return cut !== -1 && exact.has(foldName(n.slice(cut + 1).replace(/\]/g, '')))
  }
  // Linear: one alternation of literal names, then a bounded run of non-separators. Exact names
  // must stand alone (not inside a longer word).
  const subAlt = substrings.map(foldedPattern).join('|')
  const exactAlt = builtinExact.map(foldedPattern).join('|')
  const textRe = new RegExp(
    `((?:(?:${subAlt})[A-Za-z0-9_-]{0,32}|(?<![A-Za-z0-9_-])(?:${exactAlt})(?![A-Za-z0-9_-]))["']?\\s{0,4}[:=]\\s{0,4}["']?)([^"'&\\s,;}]{1,4096})`,
    'gi',
  )
  const bearerRe = /(bearer|basic)\s+[A-Za-z0-9._~+/=-]{1,4096}/gi

  return {
    isSecretName: isSecret,
    pathWithQuery(path: string, query: string): string {
      const p = maskShapes(path)
      if (query === '') return p
      const parts = query.split('&')
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i]!
        const eq = part.indexOf('=')
        if (eq !== -1 && isSecret(part.slice(0, eq))) parts[i] = part.slice(0, eq + 1) + '[REDACTED]'
        else if (mayHoldShape(part)) parts[i] = maskShapes(part)
        else if (part.indexOf('%') !== -1 && mayHoldShape(safeDecode(part))) {
          // A percent-encoded key or token: masked whole (the encoding hid its shape).
          parts[i] = eq === -1 ? '[REDACTED]' : part.slice(0, eq + 1) + '[REDACTED]'
        }
      }
      return p + '?' + parts.join('&')
    },
    text(s: string): string {
      let out = s.replace(bearerRe, '$1 [REDACTED]')
      out = out.replace(textRe, '$1[REDACTED]')
      return maskShapes(out)
    },
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
