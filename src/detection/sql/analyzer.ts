/**
 * SQL injection by meaning (design.md §4): a value is dangerous when, read as the tail of a SQL
 * statement in some context, it escapes that context and forms a meaningful SQL continuation.
 * Contexts: a number (`WHERE id = <value>`), and a string opened by `'` or `"` (the value's first
 * unescaped quote closes it). Prose with apostrophes ("O'Brien", "it's 5 o'clock") breaks out of
 * the string too, but what follows is a plain word, not SQL: that is what keeps false positives
 * low.
 */
import { tokenize, type Token } from './tokenizer.js'

export type SqlRule =
  | 'sqli-union'
  | 'sqli-stacked'
  | 'sqli-comment-cut'
  | 'sqli-boolean'
  | 'sqli-time'
  | 'sqli-out-of-band'
  | 'sqli-clause'
  | 'sqli-concat'
  | 'sqli-statement'
  | 'sqli-system-variable'

export interface SqlFinding {
  readonly rule: SqlRule
  readonly context: 'number' | 'tail' | 'single-quote' | 'double-quote' | 'anywhere'
  /** 0..1: how sure the tokens are about it. */
  readonly confidence: number
}

const logical = new Set(['OR', 'AND', 'XOR', '||', '&&', 'NOT'])
const statements = new Set([
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'DROP', 'CREATE', 'ALTER', 'EXEC', 'EXECUTE', 'DECLARE', 'SHUTDOWN',
  'TRUNCATE', 'WAITFOR', 'SET', 'GRANT', 'REVOKE', 'REPLACE', 'MERGE', 'CALL', 'BEGIN', 'USE', 'COPY', 'LOAD', 'HANDLER', 'PRAGMA', 'ATTACH',
])
const clauses = new Set(['UNION', 'ORDER', 'GROUP', 'HAVING', 'LIMIT', 'INTO', 'PROCEDURE', 'WHERE', 'FROM', 'OFFSET', 'RETURNING', 'INTERSECT', 'EXCEPT', 'MINUS'])
const literals = new Set(['TRUE', 'FALSE', 'NULL'])
const comparisons = new Set(['=', '<', '>', '<=', '>=', '<>', '!=', '==', '!<', '!>', 'LIKE', 'RLIKE', 'REGEXP', 'IS', 'IN', 'BETWEEN', 'SOUNDS', 'GLOB', 'MATCH'])
const timeFunctions = new Set(['SLEEP', 'BENCHMARK', 'PG_SLEEP', 'RANDOMBLOB', 'PG_SLEEP_FOR', 'SYS.DBMS_LOCK'])
const oobFunctions = new Set([
  'LOAD_FILE', 'XP_CMDSHELL', 'XP_DIRTREE', 'XP_FILEEXIST', 'XP_REGREAD', 'SP_OACREATE', 'SP_EXECUTESQL', 'SYS_EVAL', 'SYS_EXEC',
  'UTL_HTTP', 'UTL_INADDR', 'HTTPURITYPE', 'DBMS_XMLGEN', 'LO_IMPORT', 'LO_EXPORT', 'PG_READ_FILE', 'PG_LS_DIR', 'OPENROWSET', 'OPENDATASOURCE', 'DBMS_PIPE',
])

function isFunctionCall(t: readonly Token[], i: number): boolean {
  return t[i]?.type === 'word' && t[i + 1]?.type === 'lparen' && t[i - 1]?.type !== 'dot'
}

/** Something a boolean operator can combine with: an operand or the start of one. */
function isOperand(t: Token | undefined): boolean {
  if (t === undefined) return false
  return t.type === 'num' || t.type === 'str' || t.type === 'word' || t.type === 'lparen' || t.type === 'var' || (t.type === 'op' && (t.text === '-' || t.text === '!' || t.text === '~'))
}

/** Rules that hold wherever the value sits: constructs prose and ordinary data never contain. */
function anywhere(t: readonly Token[]): SqlFinding | null {
  for (let i = 0; i < t.length; i++) {
    const w = t[i]!
    // @@version, @@datadir: server variables are read by injections, never written in prose
    if (w.type === 'var' && w.text.startsWith('@@') && w.text.length > 3) {
      return { rule: 'sqli-system-variable', context: 'anywhere', confidence: 0.8 }
    }
    if (w.type !== 'word') continue
    if (w.text === 'UNION') {
      let j = i + 1
      if (t[j]?.text === 'ALL' || t[j]?.text === 'DISTINCT') j++
      if (t[j]?.text === 'SELECT' || (t[j]?.type === 'lparen' && t[j + 1]?.text === 'SELECT')) {
        // a select list: numbers, NULL, commas, FROM, *, calls, concatenation; not "union select committee"
        const after = t.slice(j + 1, j + 9)
        if (after.some((x) => x.type === 'num' || x.type === 'comma' || x.type === 'var' || x.text === 'NULL' || x.text === 'FROM' || x.text === '*' || x.text === '||' || x.text === '+' || x.type === 'comment' || x.type === 'lparen')) {
          return { rule: 'sqli-union', context: 'anywhere', confidence: 0.9 }
        }
      }
    }
    // SLEEP(5), BENCHMARK(5000000,MD5(1)), PG_SLEEP((SELECT 5)): an argument list, not prose "sleep(5 hours)"
    const arg = t[i + 2]
    const afterArg = t[i + 3]?.type
    if (
      isFunctionCall(t, i) &&
      timeFunctions.has(w.text) &&
      (arg?.type === 'lparen' || ((arg?.type === 'num' || arg?.type === 'word' || arg?.type === 'var') && (afterArg === 'rparen' || afterArg === 'comma' || afterArg === 'op')))
    ) {
      return { rule: 'sqli-time', context: 'anywhere', confidence: 0.8 }
    }
    if (w.text === 'WAITFOR' && (t[i + 1]?.text === 'DELAY' || t[i + 1]?.text === 'TIME') && t[i + 2]?.type === 'str') {
      return { rule: 'sqli-time', context: 'anywhere', confidence: 0.9 }
    }
    if (oobFunctions.has(w.text) && (t[i + 1]?.type === 'lparen' || t[i + 1]?.type === 'dot' || t[i + 1]?.type === 'str' || t[i + 1]?.type === 'word')) {
      return { rule: 'sqli-out-of-band', context: 'anywhere', confidence: 0.8 }
    }
    if (w.text === 'INTO' && (t[i + 1]?.text === 'OUTFILE' || t[i + 1]?.text === 'DUMPFILE')) {
      return { rule: 'sqli-out-of-band', context: 'anywhere', confidence: 0.9 }
    }
  }
  return null
}

const orderEnd = new Set(['ASC', 'DESC', 'LIMIT', 'NULLS', 'COLLATE'])

/**
 * A clause keyword that continues a query, as opposed to English ("order by price", "into the
 * wild"): ORDER/GROUP BY a column number, or a name then ASC/DESC/a comment/`;`; INTO
 * OUTFILE/@var; LIMIT/HAVING with a number or expression; PROCEDURE ANALYSE. UNION is judged by
 * anywhere().
 */
function clauseContinues(t: readonly Token[], i: number): boolean {
  const k = t[i]!.text
  const a = t[i + 1]
  const b = t[i + 2]
  const c = t[i + 3]
  if ((k === 'ORDER' || k === 'GROUP') && a?.text === 'BY') {
    if (b?.type === 'num' || b?.type === 'lparen' || b?.type === 'var') return true
    return b?.type === 'word' && (c?.type === 'comment' || c?.type === 'semi' || (c?.type === 'word' && orderEnd.has(c.text)))
  }
  if (k === 'INTO') return a?.text === 'OUTFILE' || a?.text === 'DUMPFILE' || a?.type === 'var'
  if (k === 'LIMIT') return a?.type === 'num' && (b === undefined || b.type === 'comma' || b.type === 'comment' || b.text === 'OFFSET')
  if (k === 'HAVING' || k === 'WHERE') return a !== undefined && (a.type === 'num' || a.type === 'lparen' || isFunctionCall(t, i + 1)) && t.slice(i + 1, i + 6).some((x) => x.type === 'op')
  if (k === 'PROCEDURE') return a?.text === 'ANALYSE' || a?.text === 'ANALYZE'
  return false
}

/**
 * After a break-out (or after the number in the number context): does the rest read as SQL?
 * `t[0]` is the first token after the closing quote, or after the leading number.
 */
function tail(t: readonly Token[], context: SqlFinding['context']): SqlFinding | null {
  let i = 0
  while (t[i]?.type === 'rparen') i++ // `') OR ('1'='1`
  const first = t[i]
  if (first === undefined) return null
  const next = t[i + 1]
  if (first.type === 'comment') {
    // `admin'--`: the rest of the query is cut off. In the number context `5 --` is too common.
    return context === 'number' || context === 'tail' ? null : { rule: 'sqli-comment-cut', context, confidence: 0.85 }
  }
  if (first.type === 'semi') {
    if (next?.type === 'word' && statements.has(next.text) && (t[i + 2] === undefined || t[i + 2]!.type !== 'word' || statements.has(t[i + 2]!.text) || /^[A-Z_]+$/.test(t[i + 2]!.text))) {
      if (t[i + 2] !== undefined || next.text === 'SHUTDOWN' || next.text === 'COMMIT') return { rule: 'sqli-stacked', context, confidence: 0.9 }
    }
    if (next?.type === 'comment' && context !== 'number' && context !== 'tail') return { rule: 'sqli-comment-cut', context, confidence: 0.8 }
    return null
  }
  const firstText = first.type === 'op' || first.type === 'word' ? first.text : ''
  if (logical.has(firstText)) {
    const rest = t.slice(i + 1)
    if (!isOperand(rest[0])) return null
    // a literal followed by a number (`" OR "sunny day" 42`) is no SQL any dialect parses
    const literalThenNumber = (rest[0]!.type === 'str' || rest[0]!.type === 'num') && (rest[1]?.type === 'num' || (rest[0]!.type === 'num' && rest[1]?.type === 'str'))
    if (literalThenNumber) return { rule: 'sqli-boolean', context, confidence: 0.6 }
    if (context !== 'number' && context !== 'tail') return { rule: 'sqli-boolean', context, confidence: 0.9 }
    // number context: `1 OR 1=1`, `1 AND SLEEP(5)`, `-1 OR TRUE`; not `1 or 2`
    for (let k = 0; k < rest.length; k++) {
      const x = rest[k]!
      if ((x.type === 'op' && comparisons.has(x.text)) || (x.type === 'word' && comparisons.has(x.text)) || literals.has(x.text) || isFunctionCall(rest, k) || x.type === 'comment') {
        return { rule: 'sqli-boolean', context, confidence: 0.8 }
      }
    }
    return null
  }
  if (first.type === 'word' && clauses.has(first.text) && clauseContinues(t, i)) {
    return { rule: 'sqli-clause', context, confidence: 0.8 }
  }
  if (context !== 'number' && context !== 'tail' && first.type === 'op') {
    // `'='`, `' = 'x`, `'||(SELECT …)||'`, `'+(select …)+'`
    if (comparisons.has(first.text) && (next?.type === 'str' || next?.type === 'num' || next?.type === 'word' || next?.type === 'lparen')) {
      return { rule: 'sqli-boolean', context, confidence: 0.7 }
    }
    // `'-'`, `'^'`, `'*'`: the classic arithmetic log-in bypasses
    if ('-^*/%&|'.includes(first.text) && first.text.length === 1 && next?.type === 'str' && t[i + 2] === undefined) {
      return { rule: 'sqli-boolean', context, confidence: 0.6 }
    }
    if ((first.text === '||' || first.text === '+' || first.text === '&' || first.text === '|') && next !== undefined) {
      const ahead = t.slice(i + 1, i + 5)
      if (ahead.some((x, k) => (x.type === 'word' && statements.has(x.text)) || isFunctionCall(ahead, k))) {
        return { rule: 'sqli-concat', context, confidence: 0.8 }
      }
    }
  }
  return null
}

/** Index just after the first quote `q` that would close a string the value was put into, or -1. */
function breakout(value: string, q: number): number {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c === 92) i++ // a backslash-escaped quote does not close (MySQL, PostgreSQL E'')
    else if (c === q) return i + 1
  }
  return -1
}

/**
 * A whole statement as the value: starts with SELECT and reads like a query (a function call, `*`,
 * a system variable, or FROM a name followed by `;` or a comment), e.g. `select * from pg_group;`.
 * "Select one from the list" has none of these.
 */
function statement(t: readonly Token[]): SqlFinding | null {
  let i = 0
  while (t[i]?.type === 'lparen') i++
  if (t[i]?.text !== 'SELECT' || t[i]?.type !== 'word') return null
  const rest = t.slice(i + 1)
  const from = rest.findIndex((x) => x.text === 'FROM' && x.type === 'word')
  const terminated = rest.some((x) => x.type === 'semi' || x.type === 'comment')
  if (rest.some((x, k) => isFunctionCall(rest, k) || x.text === '*' || x.type === 'var') || (from !== -1 && rest[from + 1]?.type === 'word' && terminated)) {
    return { rule: 'sqli-statement', context: 'anywhere', confidence: 0.75 }
  }
  return null
}

export function analyzeSql(value: string): SqlFinding | null {
  const all = tokenize(value)
  const found = anywhere(all) ?? statement(all)
  // A value that is a whole SELECT statement (a query in a code-snippet field) is SQL, not an
  // injection into one: UNION inside it counts like any statement (0.75, higher paranoia only).
  if (found !== null && found.rule === 'sqli-union' && all[0]?.type === 'word' && all[0].text === 'SELECT') {
    return { rule: 'sqli-statement', context: 'anywhere', confidence: 0.75 }
  }
  if (found !== null) return found
  // number context: the value starts as a number (or a parenthesised one)
  let n = 0
  while (all[n]?.type === 'lparen' || (all[n]?.type === 'op' && all[n]!.text === '-')) n++
  if (all[n]?.type === 'num') {
    const r = tail(all.slice(n + 1), 'number')
    if (r !== null) return r
  }
  // the value is itself a continuation (` OR 1=1`, ` ORDER BY 5--`), appended to a query by the app
  const asTail = tail(all, 'tail')
  if (asTail !== null) return asTail
  for (const [q, context] of [[39, 'single-quote'], [34, 'double-quote']] as const) {
    const at = breakout(value, q)
    if (at === -1) continue
    const t = tokenize(value, at)
    const r = anywhere(t) ?? tail(t, context)
    if (r !== null) return r.context === 'anywhere' ? { ...r, context } : r
  }
  return null
}
