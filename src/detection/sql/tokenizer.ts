/**
 * A small SQL lexer for injection analysis (the approach of libinjection, written for our
 * needs): it reads a value as the tail of a SQL statement and yields typed tokens. Dialect
 * features of MySQL, PostgreSQL, MSSQL, Oracle and SQLite are folded together: `#` and `--`
 * comments, `/* *\/` (MySQL `/*! *\/` versioned comments are read as code), backtick and bracket
 * identifiers, `@var`/`@@var`, `::` casts, `||` concatenation. Linear in the input; at most
 * `maxTokens` tokens.
 */

export type TokenType = 'str' | 'num' | 'word' | 'op' | 'lparen' | 'rparen' | 'comma' | 'semi' | 'comment' | 'var' | 'dot' | 'other'

export interface Token {
  readonly type: TokenType
  /** Upper-cased for words, as written otherwise. */
  readonly text: string
}

export const maxTokens = 48

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13) || c === 160
const isDigit = (c: number) => c >= 48 && c <= 57
const isWord = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || isDigit(c) || c === 95 || c === 36 || c >= 128
const twoCharOps = new Set(['<=', '>=', '<>', '!=', '||', '&&', '::', ':=', '<<', '>>', '==', '!<', '!>'])

/** Tokens of `s` from `start`. A string literal left open at the end is a 'str' token too. */
export function tokenize(s: string, start = 0): Token[] {
  const out: Token[] = []
  let i = start
  while (i < s.length && out.length < maxTokens) {
    const c = s.charCodeAt(i)
    if (isSpace(c)) {
      i++
      continue
    }
    // comments
    if ((c === 45 && s.charCodeAt(i + 1) === 45) || c === 35) {
      out.push({ type: 'comment', text: c === 35 ? '#' : '--' })
      const nl = s.indexOf('\n', i)
      i = nl === -1 ? s.length : nl + 1
      continue
    }
    if (c === 47 && s.charCodeAt(i + 1) === 42) {
      if (s.charCodeAt(i + 2) === 33) {
        // MySQL executes /*!50000 ... */: skip the marker and version, keep reading the code
        i += 3
        while (i < s.length && isDigit(s.charCodeAt(i))) i++
        continue
      }
      const end = s.indexOf('*/', i + 2)
      out.push({ type: 'comment', text: '/*' })
      i = end === -1 ? s.length : end + 2
      continue
    }
    if (c === 42 && s.charCodeAt(i + 1) === 47) {
      i += 2 // the end of a versioned comment
      continue
    }
    // string literals: '…' "…" with doubled quotes and backslash escapes; N'…', X'…', E'…' prefixes are words then strings
    if (c === 39 || c === 34) {
      let j = i + 1
      while (j < s.length) {
        const d = s.charCodeAt(j)
        if (d === 92) j += 2
        else if (d === c && s.charCodeAt(j + 1) === c) j += 2
        else if (d === c) break
        else j++
      }
      out.push({ type: 'str', text: s.slice(i, Math.min(j + 1, s.length)) })
      i = j + 1
      continue
    }
    if (c === 96 /* ` */ || c === 91 /* [ */) {
      const close = s.indexOf(c === 96 ? '`' : ']', i + 1)
      out.push({ type: 'word', text: s.slice(i + 1, close === -1 ? s.length : close).toUpperCase() })
      i = close === -1 ? s.length : close + 1
      continue
    }
    if (isDigit(c) || (c === 46 && isDigit(s.charCodeAt(i + 1)))) {
      let j = i
      if (c === 48 && (s.charCodeAt(i + 1) | 32) === 120) j += 2 // 0x…
      while (j < s.length && (isWord(s.charCodeAt(j)) || s.charCodeAt(j) === 46)) j++
      out.push({ type: 'num', text: s.slice(i, j) })
      i = j
      continue
    }
    if (c === 64 /* @ */) {
      let j = i + 1
      if (s.charCodeAt(j) === 64) j++
      while (j < s.length && isWord(s.charCodeAt(j))) j++
      out.push({ type: 'var', text: s.slice(i, j).toUpperCase() })
      i = j
      continue
    }
    if (isWord(c)) {
      let j = i
      while (j < s.length && isWord(s.charCodeAt(j))) j++
      out.push({ type: 'word', text: s.slice(i, j).toUpperCase() })
      i = j
      continue
    }
    if (c === 40) out.push({ type: 'lparen', text: '(' })
    else if (c === 41) out.push({ type: 'rparen', text: ')' })
    else if (c === 44) out.push({ type: 'comma', text: ',' })
    else if (c === 59) out.push({ type: 'semi', text: ';' })
    else if (c === 46) out.push({ type: 'dot', text: '.' })
    else {
      const two = s.slice(i, i + 2)
      if (twoCharOps.has(two)) {
        out.push({ type: 'op', text: two })
        i += 2
        continue
      }
      out.push({ type: '=<>!+-*/%&|^~'.includes(s[i]!) ? 'op' : 'other', text: s[i]! })
    }
    i++
  }
  return out
}
