/**
 * SQL injection by meaning: a value is dangerous when, read as the tail of a SQL
 * statement in some context, it escapes that context and forms a meaningful SQL continuation.
 * Contexts: a number (`WHERE id = <value>`), and a string opened by `'` or `"` (the value's first
 * unescaped quote closes it). Prose with apostrophes ("O'Brien", "it's 5 o'clock") breaks out of
 * the string too, but what follows is a plain word, not SQL: that is what keeps false positives
 * low.
 */
import { fileStatement, reachesInternals, toolBuiltSelect } from './internals.js'
import { tokenize, type Token } from './tokenizer.js'
import type { Chars } from '../chars.js'

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
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'DROP',
  'CREATE',
  'ALTER',
  'EXEC',
  'EXECUTE',
  'DECLARE',
  'SHUTDOWN',
  'TRUNCATE',
  'WAITFOR',
  'SET',
  'GRANT',
  'REVOKE',
  'REPLACE',
  'MERGE',
  'CALL',
  'BEGIN',
  'USE',
  'COPY',
  'LOAD',
  'HANDLER',
  'PRAGMA',
  'ATTACH',
])
const clauses = new Set([
  'AS',
  'UNION',
  'ORDER',
  'GROUP',
  'HAVING',
  'LIMIT',
  'INTO',
  'PROCEDURE',
  'WHERE',
  'FROM',
  'OFFSET',
  'RETURNING',
  'INTERSECT',
  'EXCEPT',
  'MINUS',
])
const literals = new Set(['TRUE', 'FALSE', 'NULL'])
const comparisons = new Set([
  '=',
  '<',
  '>',
  '<=',
  '>=',
  '<>',
  '!=',
  '==',
  '!<',
  '!>',
  'LIKE',
  'RLIKE',
  'REGEXP',
  'IS',
  'IN',
  'BETWEEN',
  'SOUNDS',
  'GLOB',
  'MATCH',
])
const timeFunctions = new Set(['SLEEP', 'BENCHMARK', 'PG_SLEEP', 'RANDOMBLOB', 'PG_SLEEP_FOR', 'SYS.DBMS_LOCK'])
const oobFunctions = new Set([
  'LOAD_FILE',
  'XP_CMDSHELL',
  'XP_DIRTREE',
  'XP_FILEEXIST',
  'XP_REGREAD',
  'SP_OACREATE',
  'SP_EXECUTESQL',
  'SYS_EVAL',
  'SYS_EXEC',
  'UTL_HTTP',
  'UTL_INADDR',
  'HTTPURITYPE',
  'DBMS_XMLGEN',
  'LO_IMPORT',
  'LO_EXPORT',
  'PG_READ_FILE',
  'PG_LS_DIR',
  'OPENROWSET',
  'OPENDATASOURCE',
  'DBMS_PIPE',
])

function isFunctionCall(t: readonly Token[], i: number): boolean {
  return t[i]?.type === 'word' && t[i + 1]?.type === 'lparen' && t[i - 1]?.type !== 'dot'
}

/** Something a boolean operator can combine with: an operand or the start of one. */
function isOperand(t: Token | undefined): boolean {
  if (t === undefined) return false
  return (
    t.type === 'num' ||
    t.type === 'str' ||
    t.type === 'word' ||
    t.type === 'lparen' ||
    t.type === 'var' ||
    (t.type === 'op' && (t.text === '-' || t.text === '!' || t.text === '~')) ||
    t.text === '{'
  )
}

/**
 * The first argument of a time function reads as an SQL expression: `(…)`, `5)`, `5,`, `20 DIV 3`,
 * `-3 * -2`, `MOD(10,5)`, `'10')`. "sleep(5 hours)" is a number and then a word.
 */
function timeArgument(t: readonly Token[], j: number): boolean {
  let arg = t[j]
  if (arg?.type === 'op' && arg.text === '-') arg = t[++j]
  if (arg === undefined) return false
  if (arg.type === 'lparen' || isFunctionCall(t, j)) return true
  const after = t[j + 1]
  if (arg.type === 'str') return after?.type === 'rparen' || after?.type === 'comma'
  if (arg.type !== 'num' && arg.type !== 'word' && arg.type !== 'var') return false
  return after?.type === 'rparen' || after?.type === 'comma' || after?.type === 'op' || (arg.type === 'num' && (after?.text === 'DIV' || after?.text === 'MOD'))
}

// Server variables injections read (MySQL, MariaDB, MSSQL), and the prefixes of whole families
// of them: random text (a password) holds `@@` before a few letters by chance (`@@GFn`).
const systemVariables: ReadonlySet<string> = new Set([
  'VERSION',
  'DATADIR',
  'BASEDIR',
  'HOSTNAME',
  'TMPDIR',
  'PORT',
  'SOCKET',
  'SERVERNAME',
  'SERVICENAME',
  'SPID',
  'IDENTITY',
  'ROWCOUNT',
  'ERROR',
  'LANGUAGE',
  'LANGID',
  'TEXTSIZE',
  'MICROSOFTVERSION',
  'PLUGIN_DIR',
  'AUTOCOMMIT',
  'TRANCOUNT',
  'OPTIONS',
  'FETCH_STATUS',
  'PROCID',
  'NESTLEVEL',
  'DBTS',
  'LOCK_TIMEOUT',
  'CPU_BUSY',
  'IO_BUSY',
  'IDLE',
  'PACKET_ERRORS',
  'PACK_RECEIVED',
  'PACK_SENT',
  'TOTAL_ERRORS',
  'TOTAL_READ',
  'TOTAL_WRITE',
  'TIMETICKS',
  'MAX_PRECISION',
  'REMSERVER',
  'CONNECTIONS',
  'DATEFIRST',
  'SYSTEM_TIME_ZONE',
  'TIME_ZONE',
  'LC_TIME_NAMES',
  'GENERAL_LOG',
  'GENERAL_LOG_FILE',
  'LOG_ERROR',
  'HAVE_OPENSSL',
  'HAVE_SSL',
  'PROTOCOL_VERSION',
  'SERVER_ID',
  'SERVER_UUID',
  'USER',
  'WARNING_COUNT',
  'ERROR_COUNT',
  'LICENSE',
  'PID_FILE',
  'LOG_BIN',
])
const systemVariablePrefixes = [
  'GLOBAL',
  'SESSION',
  'LOCAL',
  'VERSION_',
  'INNODB_',
  'CHARACTER_SET_',
  'COLLATION_',
  'SECURE_',
  'SQL_',
  'MAX_',
  'SSL_',
  'LOG_',
  'HAVE_',
  'PERFORMANCE_SCHEMA',
  'TX_',
  'WAIT_',
  'NET_',
  'QUERY_',
  'SLOW_',
  'THREAD_',
  'TABLE_',
  'KEY_',
  'DEFAULT_',
  'LOWER_CASE_',
]

function systemVariable(name: string): boolean {
  if (systemVariables.has(name)) return true
  for (const p of systemVariablePrefixes) if (name.startsWith(p)) return true
  return false
}

/** Rules that hold wherever the value sits: constructs prose and ordinary data never contain. */
function anywhere(t: readonly Token[]): SqlFinding | null {
  for (let i = 0; i < t.length; i++) {
    const w = t[i]!
    // @@version, @@datadir: server variables are read by injections, never written in prose
    // (any name when the value selects it: `select @@servername`)
    if (w.type === 'var' && w.text.startsWith('@@') && w.text.length > 3 && (systemVariable(w.text.slice(2)) || (i > 0 && t[i - 1]!.text === 'SELECT'))) {
      return { rule: 'sqli-system-variable', context: 'anywhere', confidence: 0.8 }
    }
    if (w.type !== 'word') continue
    if (w.text === 'UNION') {
      let j = i + 1
      // `union+/*!select*/`: a '+' left where form encoding had a space
      if (t[j]?.text === '+') j++
      if (t[j]?.text === 'ALL' || t[j]?.text === 'DISTINCT' || t[j]?.text === 'DISTINCTROW') j++
      if (t[j]?.text === '+') j++
      if (t[j]?.text === 'SELECT' || (t[j]?.type === 'lparen' && t[j + 1]?.text === 'SELECT')) {
        // a select list: numbers, NULL, commas, FROM, *, calls, concatenation; not "union select committee"
        const after = t.slice(j + 1, j + 9)
        if (
          after.some(
            (x) =>
              x.type === 'num' ||
              x.type === 'comma' ||
              x.type === 'var' ||
              x.text === 'NULL' ||
              x.text === 'FROM' ||
              x.text === '*' ||
              x.text === '||' ||
              x.text === '+' ||
              x.type === 'comment' ||
              x.type === 'lparen',
          )
        ) {
          return { rule: 'sqli-union', context: 'anywhere', confidence: 0.9 }
        }
      }
    }
    // SLEEP(5), BENCHMARK(5000000,MD5(1)), PG_SLEEP((SELECT 5)): an argument list, not prose "sleep(5 hours)"
    if (isFunctionCall(t, i) && timeFunctions.has(w.text) && timeArgument(t, i + 2)) {
      return { rule: 'sqli-time', context: 'anywhere', confidence: 0.8 }
    }
    if (w.text === 'WAITFOR' && (t[i + 1]?.text === 'DELAY' || t[i + 1]?.text === 'TIME') && t[i + 2]?.type === 'str') {
      return { rule: 'sqli-time', context: 'anywhere', confidence: 0.9 }
    }
    if (
      oobFunctions.has(w.text) &&
      (t[i + 1]?.type === 'lparen' || t[i + 1]?.type === 'dot' || t[i + 1]?.type === 'str' || t[i + 1]?.type === 'word' || t[i + 1]?.type === 'var')
    ) {
      return { rule: 'sqli-out-of-band', context: 'anywhere', confidence: 0.8 }
    }
    if (w.text === 'INTO' && (t[i + 1]?.text === 'OUTFILE' || t[i + 1]?.text === 'DUMPFILE')) {
      return { rule: 'sqli-out-of-band', context: 'anywhere', confidence: 0.9 }
    }
  }
  return null
}

// what follows the name in `CREATE USER x IDENTIFIED BY`, `ALTER TABLE t ADD …`, `CREATE FUNCTION f RETURNS …`
const objectFollowers = new Set(['IDENTIFIED', 'WITH', 'ADD', 'DROP', 'AS', 'RETURNS', 'SET', 'MODIFY', 'RENAME', 'OWNER', 'CASCADE'])
const objects = new Set(['TABLE', 'DATABASE', 'FUNCTION', 'PROCEDURE', 'PROC', 'VIEW', 'USER', 'LOGIN', 'ROLE', 'INDEX', 'SCHEMA', 'TRIGGER'])

/** A string literal the value leaves open at its end (`… 'x`): prose quoting, not a finished statement. */
function openAtEnd(t: readonly Token[]): boolean {
  const last = t[t.length - 1]
  if (last?.type !== 'str') return false
  const q = last.text[0]
  return last.text.length < 2 || last.text[last.text.length - 1] !== q
}

/**
 * Does a statement of its own start at `t[i]`, with the structure that makes it SQL and not
 * English ("drop table tennis" has no name after a TABLE keyword that SQL would accept either,
 * but "drop table users" does, so the callers also ask for a break-out or `;` before it)?
 */
function statementAt(t: readonly Token[], i: number): boolean {
  const k = t[i]
  if (k?.type !== 'word') return false
  const a = t[i + 1]
  const b = t[i + 2]
  const c = t[i + 3]
  switch (k.text) {
    case 'SELECT': {
      const rest = t.slice(i + 1, i + 9)
      const from = rest.findIndex((x) => x.text === 'FROM' && x.type === 'word')
      return (
        rest.some(
          (x, j) =>
            isFunctionCall(rest, j) ||
            x.text === '*' ||
            x.type === 'var' ||
            x.text === 'CASE' ||
            (x.type === 'num' &&
              (j === rest.length - 1 ||
                rest[j + 1]!.type === 'comma' ||
                rest[j + 1]!.type === 'comment' ||
                rest[j + 1]!.type === 'semi' ||
                rest[j + 1]!.text === 'ELSE' ||
                rest[j + 1]!.text === 'FROM')),
        ) ||
        (from !== -1 && rest[from + 1]?.type === 'word')
      )
    }
    case 'INSERT':
      return a?.text === 'INTO' && b?.type === 'word'
    case 'DELETE':
      return a?.text === 'FROM' && b?.type === 'word'
    case 'UPDATE':
      return a?.type === 'word' && b?.text === 'SET'
    case 'DROP':
    case 'CREATE':
    case 'ALTER':
    case 'TRUNCATE':
      return a?.type === 'word' && objects.has(a.text) && b?.type === 'word' && (c?.type !== 'word' || objectFollowers.has(c.text))
    case 'EXEC':
    case 'EXECUTE':
      // MSSQL procedures (`sp_addlogin`, `master..xp_cmdshell`), dynamic SQL (`exec(@q)`, `EXECUTE IMMEDIATE`)
      return (
        a !== undefined &&
        (a.type === 'var' ||
          a.type === 'lparen' ||
          a.text === 'IMMEDIATE' ||
          (a.type === 'word' && (/^(?:SP|XP)_/.test(a.text) || (a.text === 'MASTER' && b?.type === 'dot'))))
      )
    case 'DECLARE':
      return a?.type === 'var'
    case 'SET':
      return a?.type === 'var' && b?.type === 'op' && (b.text === '=' || b.text === ':=')
    case 'GRANT':
    case 'REVOKE':
      return (
        t.slice(i + 2, i + 6).some((x) => x.type === 'word' && (x.text === 'TO' || x.text === 'ON')) &&
        t.slice(i + 3, i + 8).some((x) => x.type === 'semi' || x.type === 'comment')
      )
    case 'COPY':
      return a?.type === 'word' && (b?.text === 'FROM' || b?.text === 'TO') && (c?.type === 'str' || c?.text === 'PROGRAM')
    case 'LOAD':
      return a?.text === 'DATA' && (b?.text === 'INFILE' || b?.text === 'LOCAL')
    case 'WAITFOR':
      return (a?.text === 'DELAY' || a?.text === 'TIME') && b?.type === 'str'
    case 'SHUTDOWN':
      return a === undefined || a.type === 'comment' || a.type === 'semi'
    case 'BACKUP':
      return (a?.text === 'DATABASE' || a?.text === 'LOG') && b?.type === 'word'
    case 'IF': {
      // MSSQL `IF (cond) SELECT … ELSE DROP …`: a condition, then a statement
      if (a?.type !== 'lparen') return false
      let depth = 0
      for (let j = i + 1; j < Math.min(t.length, i + 16); j++) {
        if (t[j]!.type === 'lparen') depth++
        else if (t[j]!.type === 'rparen' && --depth === 0)
          return t.slice(i + 2, j).some((x) => x.type === 'op' && comparisons.has(x.text)) && statementAt(t, j + 1)
      }
      return false
    }
  }
  return false
}

/** `(SELECT 1 …)`, `(SELECT (CASE …`: a subquery, which prose in brackets ("(select one)") is not. */
function subqueryAt(t: readonly Token[], i: number): boolean {
  return t[i]?.type === 'lparen' && t[i + 1]?.type === 'word' && t[i + 1]!.text === 'SELECT' && statementAt(t, i + 1)
}

/** Inline `/* … *\/` comments are whitespace to SQL (`DROP/**\/users`); one that ends the value cuts the query off. */
function dropInlineComments(t: Token[]): Token[] {
  if (!t.some((x, k) => x.type === 'comment' && x.text === '/*' && k < t.length - 1)) return t
  return t.filter((x, k) => !(x.type === 'comment' && x.text === '/*' && k < t.length - 1))
}

// Operators that only SQL writes after a value: `x'collate nocase--`, `' notnull --`, `x' mod id--`
const operatorWords = new Set(['COLLATE', 'NOTNULL', 'ISNULL', 'MOD', 'DIV', 'LIKE', 'RLIKE', 'REGEXP', 'SOUNDS', 'IS', 'GLOB'])
const isNullish = new Set(['NULL', 'TRUE', 'FALSE', 'UNKNOWN'])

/**
 * After a break-out: a short operator expression ending in a line comment, `x'-email--`,
 * `id'is not-id--`, `user'collate nocase--`: the value closes the string, extends the condition
 * and cuts the rest of the query off. The first token must be an operator, so a word after an
 * apostrophe ("don't -- ever") is not one.
 */
function commentedExpression(t: readonly Token[], i: number): boolean {
  const first = t[i]
  if (first === undefined) return false
  let j = i + 1
  if (first.type === 'word') {
    if (!operatorWords.has(first.text)) return false
    if (first.text === 'IS') {
      if (t[j]?.text === 'NOT') j++
      const x = t[j]
      if (x === undefined || !(isNullish.has(x.text) || x.type === 'op' || x.type === 'num' || x.text === '?')) return false
    }
    if (first.text === 'SOUNDS' && t[j]?.text === 'LIKE') j++
  } else if (!(first.type === 'op' && first.text.length === 1 && '=<>|&^+-*/%'.includes(first.text))) return false
  for (let n = 0; j < t.length && n < 3; j++, n++) {
    const x = t[j]!
    if (x.type === 'comment') return x.text !== '/*' && n <= 3
    if (!(x.type === 'word' || x.type === 'num' || x.type === 'op' || x.type === 'str' || x.text === '?')) return false
  }
  return t[j]?.type === 'comment' && t[j]!.text !== '/*'
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
    if (b?.type === 'num' || b?.type === 'lparen' || b?.type === 'var' || isFunctionCall(t, i + 2)) return true
    return (
      b?.type === 'word' &&
      (c?.type === 'comment' ||
        c?.type === 'semi' ||
        (c?.type === 'word' && orderEnd.has(c.text)) ||
        (k === 'GROUP' && c?.text === 'HAVING' && clauseContinues(t, i + 3)))
    )
  }
  // `x' AS alias WHERE 1=1`: an alias then a condition
  if (k === 'AS') return (a?.type === 'word' || a?.type === 'str') && b?.text === 'WHERE' && clauseContinues(t, i + 2)
  if (k === 'INTO') return a?.text === 'OUTFILE' || a?.text === 'DUMPFILE' || a?.type === 'var'
  if (k === 'LIMIT') return a?.type === 'num' && (b === undefined || b.type === 'comma' || b.type === 'comment' || b.text === 'OFFSET')
  if (k === 'HAVING' || k === 'WHERE')
    return a !== undefined && (a.type === 'num' || a.type === 'lparen' || isFunctionCall(t, i + 1)) && t.slice(i + 1, i + 6).some((x) => x.type === 'op')
  if (k === 'PROCEDURE') return a?.text === 'ANALYSE' || a?.text === 'ANALYZE'
  if (k === 'FROM') {
    // `FROM db.tbl WHERE 1=2 LIMIT`, `FROM(SELECT COUNT(*) …`: a table (qualified) and a clause, or a subquery
    if (subqueryAt(t, i + 1)) return true
    let j = i + 1
    while (j < i + 6 && t[j]?.type === 'word' && t[j + 1]?.type === 'dot') j += 2
    if (t[j]?.type !== 'word' || t[j + 1]?.type !== 'word') return false
    const c2 = t[j + 1]!.text
    // `FROM t WHERE col=database()`: after a table, a column compared is a condition too
    if (c2 === 'WHERE' && t[j + 2]?.type === 'word' && t[j + 3]?.type === 'op' && comparisons.has(t[j + 3]!.text)) return true
    return clauses.has(c2) && c2 !== 'FROM' && c2 !== 'AS' && clauseContinues(t, j + 1)
  }
  return false
}

/**
 * After a break-out (or after the number in the number context): does the rest read as SQL?
 * `t[0]` is the first token after the closing quote, or after the leading number.
 */
function tail(t: readonly Token[], context: SqlFinding['context']): SqlFinding | null {
  let i = 0
  // the rest of a value list the string sat in: `x', 'y', 3);DROP …`
  if (t[0]?.type === 'comma' && context !== 'tail') {
    let j = 0
    while (j < 16 && t[j]?.type === 'comma' && (t[j + 1]?.type === 'str' || t[j + 1]?.type === 'num' || t[j + 1]?.text === 'NULL')) j += 2
    if (t[j]?.type === 'rparen') i = j
  }
  while (t[i]?.type === 'rparen') i++ // `') OR ('1'='1`
  const first = t[i]
  if (first === undefined) return null
  const next = t[i + 1]
  if (first.type === 'comment') {
    // `admin'--`: the rest of the query is cut off. In the number context `5 --` is too common.
    return context === 'number' || context === 'tail' ? null : { rule: 'sqli-comment-cut', context, confidence: 0.85 }
  }
  if (first.type === 'semi') {
    if (statementAt(t, i + 1)) return { rule: 'sqli-stacked', context, confidence: 0.9 }
    if (
      next?.type === 'word' &&
      statements.has(next.text) &&
      (t[i + 2] === undefined || t[i + 2]!.type !== 'word' || statements.has(t[i + 2]!.text) || /^[A-Z_]+$/.test(t[i + 2]!.text))
    ) {
      if (t[i + 2] !== undefined || next.text === 'SHUTDOWN' || next.text === 'COMMIT') return { rule: 'sqli-stacked', context, confidence: 0.9 }
    }
    if (next?.type === 'comment' && context !== 'number' && context !== 'tail') return { rule: 'sqli-comment-cut', context, confidence: 0.8 }
    return null
  }
  const quoted = context === 'single-quote' || context === 'double-quote'
  // `IF(1=1) SELECT 1 ELSE DROP FUNCTION f--` as the whole tail
  if (first.text === 'IF' && first.type === 'word' && statementAt(t, i)) return { rule: 'sqli-stacked', context, confidence: 0.85 }
  // MSSQL runs a statement that follows another without `;`: `' exec sp_addlogin 'x'--`
  if (quoted && statementAt(t, i) && !openAtEnd(t)) return { rule: 'sqli-stacked', context, confidence: 0.85 }
  if (quoted && commentedExpression(t, i)) return { rule: 'sqli-comment-cut', context, confidence: 0.8 }
  const firstText = first.type === 'op' || first.type === 'word' ? first.text : ''
  // ` RLIKE (SELECT (CASE WHEN …`, `'=(SELECT 1 FROM …)`: compared with a subquery
  if ((comparisons.has(firstText) || (first.type === 'op' && '+-*/|&^%'.includes(firstText))) && subqueryAt(t, i + 1)) {
    return { rule: firstText === '+' || firstText === '|' || firstText === '&' ? 'sqli-concat' : 'sqli-boolean', context, confidence: 0.85 }
  }
  if (logical.has(firstText)) {
    const rest = t.slice(i + 1)
    if (!isOperand(rest[0])) return null
    // a literal followed by a number (`" OR "sunny day" 42`) is no SQL any dialect parses
    const literalThenNumber =
      (rest[0]!.type === 'str' || rest[0]!.type === 'num') && (rest[1]?.type === 'num' || (rest[0]!.type === 'num' && rest[1]?.type === 'str'))
    if (literalThenNumber) return { rule: 'sqli-boolean', context, confidence: 0.6 }
    if (context !== 'number' && context !== 'tail') return { rule: 'sqli-boolean', context, confidence: 0.9 }
    // number context: `1 OR 1=1`, `1 AND SLEEP(5)`, `-1 OR TRUE`; not `1 or 2`
    for (let k = 0; k < rest.length; k++) {
      const x = rest[k]!
      if (
        (x.type === 'op' && comparisons.has(x.text)) ||
        (x.type === 'word' && comparisons.has(x.text)) ||
        literals.has(x.text) ||
        isFunctionCall(rest, k) ||
        x.type === 'comment' ||
        subqueryAt(rest, k) ||
        x.text === '::' ||
        (x.text === '?' && rest[k - 1]?.type === 'str' && (rest[k + 1]?.type === 'str' || rest[k + 1]?.text === '|' || rest[k + 1]?.text === '&'))
      ) {
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
    if (c === 92)
      i++ // a backslash-escaped quote does not close (MySQL, PostgreSQL E'')
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
  // reading the server's files or copying the database out is never the app's own query
  if (fileStatement(t, i)) return { rule: 'sqli-statement', context: 'anywhere', confidence: 0.85 }
  if (t[i]?.text !== 'SELECT' || t[i]?.type !== 'word') return null
  const rest = t.slice(i + 1)
  const from = rest.findIndex((x) => x.text === 'FROM' && x.type === 'word')
  const terminated = rest.some((x) => x.type === 'semi' || x.type === 'comment')
  const internals = reachesInternals(rest) || toolBuiltSelect(rest)
  if (
    rest.some((x, k) => isFunctionCall(rest, k) || x.text === '*' || x.type === 'var') ||
    (from !== -1 && rest[from + 1]?.type === 'word' && (terminated || internals))
  ) {
    // a query of the database's credentials, settings or files (internals.ts) blocks
    return { rule: 'sqli-statement', context: 'anywhere', confidence: internals ? 0.85 : 0.75 }
  }
  return null
}

// Quote look-alikes that some database collations and app layers fold into `'`
const lookalikeQuote = /[\u2018\u2019\u201b\u2032\u00b4\u02bc]/
const lookalikeQuotes = new RegExp(lookalikeQuote.source, 'g')
// and zero-width characters that split keywords (`un\u200bion se\u200blect`): one test for both
const foldable = /[\u2018\u2019\u201b\u2032\u00b4\u02bc\u200b-\u200d\u2060\ufeff]/
const zeroWidth = /[\u200b-\u200d\u2060\ufeff]/g

const plusSigns = /\+/g
const emptyCommentTail = /^\s*(?:--|#)[-\s]*$/
const surer = (a: SqlFinding | null, b: SqlFinding | null): SqlFinding | null => (b !== null && (a === null || b.confidence > a.confidence) ? b : a)
const sure = 0.8

export function analyzeSql(value: string, chars: Chars | null = null): SqlFinding | null {
  let found = analyzeVariant(value, null)
  if (found !== null && found.confidence >= sure) return found
  // `’ or ’1’=’1`: quote look-alikes that some collations and app layers fold into `'`
  // (all ASCII when the caller knows its characters: nothing to fold)
  if (chars === null && foldable.test(value)) found = analyzeVariant(value.replace(lookalikeQuotes, "'").replace(zeroWidth, ''), found)
  if (found !== null && found.confidence >= sure) return found
  // `0+union+select+1,2`: PHP and others decode `+` as a space in cookies too; a value with no
  // space character that uses `+` between words is read that way as well
  if (value.indexOf('+') !== -1 && value.indexOf(' ') === -1) found = analyzeVariant(value.replace(plusSigns, ' '), found)
  if (found !== null && found.confidence >= sure) return found
  // `un","ion se","lect`: keywords cut into the items of a JSON array that the app joins back
  // (escaped or not); read with the cuts closed
  if (value.indexOf('","') !== -1 || value.indexOf('\\",\\"') !== -1) {
    const joined = value.replace(arrayCuts, '$1$2')
    if (joined !== value) found = analyzeVariant(joined, found)
  }
  return found
}

const arrayCuts = /([A-Za-z])\\?",\\?"([A-Za-z])/g

function analyzeVariant(text: string, best: SqlFinding | null): SqlFinding | null {
  best = surer(best, analyzeText(text))
  return best !== null && best.confidence >= sure ? best : surer(best, fields(text))
}

const fieldName = /^[A-Za-z_][\w.[\]-]{0,63}=/

/**
 * A text body or value in `name=value&name2=value2` shape (an HTML form posted as text/plain, a
 * query string carried inside a value): each value is also read on its own, for the number and
 * tail contexts need the value's start.
 */
function fields(value: string): SqlFinding | null {
  if (!fieldName.test(value)) return null
  let at = 0
  let best: SqlFinding | null = null
  for (let n = 0; n < 16 && at < value.length; n++) {
    const eq = value.indexOf('=', at)
    if (eq === -1) break
    let end = value.indexOf('&', eq)
    if (end === -1) end = value.length
    best = surer(best, analyzeText(value.slice(eq + 1, end)))
    if (best !== null && best.confidence >= sure) return best
    at = end + 1
    if (!fieldName.test(value.slice(at, at + 65))) break
  }
  return best
}

const isSpaceCode = (c: number) => c === 32 || (c >= 9 && c <= 13) || c === 160
const isDigitCode = (c: number) => c >= 48 && c <= 57
const isWordCode = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || isDigitCode(c) || c === 95 || c === 36 || (c >= 128 && c !== 160)

/** Past blanks, and past `*\/`, which the tokenizer skips without a token (the end of a versioned comment). */
function skipSpaces(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i)
    if (isSpaceCode(c)) i++
    else if (c === 42 && s.charCodeAt(i + 1) === 47) i += 2
    else return i
  }
}

/** Whether a word (not a number) starts at `i` that can open a tail: OR, AND, NOT, IF, a clause. */
function tailWordAt(s: string, i: number): boolean {
  if (i >= s.length) return false
  const c = s.charCodeAt(i)
  if (!isWordCode(c) || isDigitCode(c)) return false
  let j = i
  let ascii = true
  while (j < s.length && isWordCode(s.charCodeAt(j))) if (s.charCodeAt(j++) >= 128) ascii = false
  return ascii ? tailFilter.has(s, i, j) && tailWords.has(s.slice(i, j).toUpperCase()) : tailWords.has(s.slice(i, j).toUpperCase())
}

// Character classes for mayBeSql's scan (ASCII; every other character but U+00A0 is a word character)
const other = 0
const gate = 1
const slash = 2
const digit = 3
const word = 4
const charClass = new Uint8Array(128)
for (let c = 0; c < 128; c++) charClass[c] = isDigitCode(c) ? digit : isWordCode(c) ? word : other
// Characters any rule needs one of (see mayBeSql)
for (const ch of '\'"`[@;|&') charClass[ch.charCodeAt(0)] = gate
charClass[47] = slash
// Words that fire wherever they stand: anywhere(), statement(), subqueries
const anywhereWords: ReadonlySet<string> = new Set(['UNION', 'SELECT', 'INTO', 'WAITFOR', ...timeFunctions, ...oobFunctions])
/** A bit per letter (case folded), digit or `_`/`$`: 0-25 letters, 26 digits, 27 the rest. */
function letterBit(c: number): number {
  const l = c | 32
  return l >= 97 && l <= 122 ? 1 << (l - 97) : isDigitCode(c) ? 1 << 26 : 1 << 27
}

/**
 * A quick no for ASCII words: by length, first, second and last letter (case folded). Most words
 * of prose fail it ("Street" is SELECT's length, first and last letter, not its second), and only
 * those that pass are copied and upper-cased for the exact look-up.
 */
class WordFilter {
  readonly #first: Uint32Array
  readonly #second: Uint32Array
  readonly #last: Uint32Array

  constructor(words: ReadonlySet<string>) {
    const max = Math.max(...[...words].map((w) => w.length))
    this.#first = new Uint32Array(max + 1)
    this.#second = new Uint32Array(max + 1)
    this.#last = new Uint32Array(max + 1)
    for (const w of words) {
      this.#first[w.length]! |= letterBit(w.charCodeAt(0))
      // a one-letter word has no second letter: -1 gets the 'rest' bit, as in has()
      this.#second[w.length]! |= letterBit(w.length < 2 ? -1 : w.charCodeAt(1))
      this.#last[w.length]! |= letterBit(w.charCodeAt(w.length - 1))
    }
  }

  /** False when `s.slice(start, end)` (ASCII) cannot be one of the words. */
  has(s: string, start: number, end: number): boolean {
    const len = end - start
    return (
      len < this.#first.length &&
      (this.#first[len]! & letterBit(s.charCodeAt(start))) !== 0 &&
      (this.#last[len]! & letterBit(s.charCodeAt(end - 1))) !== 0 &&
      (this.#second[len]! & letterBit(len < 2 ? -1 : s.charCodeAt(start + 1))) !== 0
    )
  }
}

const anywhereFilter = new WordFilter(anywhereWords)
// Words that fire as the first token of a tail (tail(): logical operators, IF, clauses)
const tailWords: ReadonlySet<string> = new Set([...[...logical].filter((w) => /^[A-Z]+$/.test(w)), 'IF', ...clauses])
const tailFilter = new WordFilter(tailWords)

/**
 * Cheap checks first: whether `analyzeText` can find anything in `value`, in one pass
 * and without tokens. Every rule above needs at least one of: a quote (a break-out), `;` (a
 * stacked statement), `|`/`&` (`||`, `&&`), `@` (`@@version`), a backtick or `[` (quoted names),
 * `/*` (a versioned comment's code), a word that fires wherever it stands (UNION, SELECT, INTO,
 * WAITFOR, the time and out-of-band functions), or a logical or clause word (OR, AND, NOT, IF,
 * ORDER, FROM...) as the first token of a tail: of the value itself, or after a leading number.
 * `#` and `--` comments only hide tokens; a comment-cut needs a break-out. Prose ("Please leave
 * the parcel at the front door.", "12 Main Street, Apt. #3") has none of these and skips the
 * tokenizer. Mirrors the tokenizer's words: runs of word characters (letters, digits, `_`, `$`,
 * non-ASCII) upper-cased as it does; a run that starts with a digit belongs to a number.
 */
export function mayBeSql(value: string): boolean {
  const n = value.length
  // module tables read through locals: the scan below is the hot path
  const classes = charClass
  const filter = anywhereFilter
  // the first token of a tail: the value itself (after `)`s), or after a leading number (after `(`s and `-`s)
  let i = skipSpaces(value, 0)
  let j = i
  while (j < n && value.charCodeAt(j) === 41) j = skipSpaces(value, j + 1)
  if (tailWordAt(value, j)) return true
  j = i
  while (j < n && (value.charCodeAt(j) === 40 || value.charCodeAt(j) === 45)) j = skipSpaces(value, j + 1)
  const c0 = value.charCodeAt(j)
  if (isDigitCode(c0) || (c0 === 46 && isDigitCode(value.charCodeAt(j + 1)))) {
    if (c0 === 48 && (value.charCodeAt(j + 1) | 32) === 120) j += 2
    while (j < n && (isWordCode(value.charCodeAt(j)) || value.charCodeAt(j) === 46)) j++
    j = skipSpaces(value, j)
    const next = value.charCodeAt(j)
    // `1, 2) OR …` (a value list) and `1) OR …`: the tail starts further on; leave it to the analyzer
    if (next === 44 || next === 41 || tailWordAt(value, j)) return true
  }
  // everywhere: the characters without which no rule fires, and the words that fire anywhere
  for (i = 0; i < n; i++) {
    const c = value.charCodeAt(i)
    const k = c < 128 ? classes[c]! : c === 160 ? 0 /* other */ : 4 /* word */
    if (k === 0 /* other */) continue
    if (k === 1 /* gate */) return true
    if (k === 2 /* slash */) {
      // `/*!50000UNION*/`: MySQL runs a versioned comment's content, glued to digits here
      if (value.charCodeAt(i + 1) === 42) return true
      continue
    }
    // a run of word characters: a number (it swallows its letters: `1union` is one token) or a word
    const start = i
    let ascii = c < 128
    for (; i + 1 < n; i++) {
      const d = value.charCodeAt(i + 1)
      if (d < 128 ? classes[d]! < 3 /* digit */ : d === 160) break
      if (d >= 128) ascii = false
    }
    if (k === 3 /* digit */) continue
    // ASCII words filtered by length, first and last letter before the exact look-up
    if (ascii && !filter.has(value, start, i + 1)) continue
    if (anywhereWords.has(value.slice(start, i + 1).toUpperCase())) return true
  }
  return false
}

function analyzeText(value: string): SqlFinding | null {
  if (!mayBeSql(value)) return null
  return analyzeTokens(value)
}

/** analyzeText without the pre-gate (exported for the test that the gate never hides a finding). */
export function analyzeTokens(value: string): SqlFinding | null {
  const all = dropInlineComments(tokenize(value))
  const found = anywhere(all) ?? statement(all)
  // A value that is a whole SELECT statement (a query in a code-snippet field) is SQL, not an
  // injection into one: UNION inside it counts like any statement (0.75, higher paranoia only).
  if (found !== null && found.rule === 'sqli-union' && all[0]?.type === 'word' && all[0].text === 'SELECT') {
    return { rule: 'sqli-statement', context: 'anywhere', confidence: 0.75 }
  }
  if (found !== null && found.confidence >= sure) return found
  // `DELETE FROM users;--`: a statement ended and the rest of the query commented out (an empty
  // comment: "Delete from cart; -- changed my mind" is a note)
  const semi = value.lastIndexOf(';')
  if (semi !== -1 && emptyCommentTail.test(value.slice(semi + 1)) && statementAt(all, 0)) return { rule: 'sqli-stacked', context: 'tail', confidence: 0.85 }
  if (found !== null) return found
  // number context: the value starts as a number (or a parenthesised one)
  let n = 0
  while (all[n]?.type === 'lparen' || (all[n]?.type === 'op' && all[n]!.text === '-')) n++
  if (all[n]?.type === 'num') {
    const r = tail(all.slice(n + 1), 'number')
    if (r !== null) return r
  }
  // or with a function call, `mod(1,2);INSERT INTO …`: only a stacked statement counts there
  if (isFunctionCall(all, n) && all[n - 1] === undefined) {
    let depth = 0
    let j = n + 1
    for (; j < all.length; j++) {
      if (all[j]!.type === 'lparen') depth++
      else if (all[j]!.type === 'rparen' && --depth === 0) break
    }
    if (all[j + 1]?.type === 'semi' && statementAt(all, j + 2)) return { rule: 'sqli-stacked', context: 'number', confidence: 0.9 }
  }
  // the value is itself a continuation (` OR 1=1`, ` ORDER BY 5--`), appended to a query by the app
  const asTail = tail(all, 'tail')
  if (asTail !== null) return asTail
  for (const [q, context] of [
    [39, 'single-quote'],
    [34, 'double-quote'],
  ] as const) {
    const at = breakout(value, q)
    if (at === -1) continue
    const t = dropInlineComments(tokenize(value, at))
    const r = anywhere(t) ?? tail(t, context)
    // Cutting the query off proves nothing by itself: it counts where the string it closes held
    // a value an app would quote (`admin'--`, `alice@example.com'#`), not where random text
    // (a password: `JGf L/(dEatm]y'#G`) happens to hold a quote and then `#` or `--`.
    if (r !== null && r.rule === 'sqli-comment-cut' && !plausibleLiteral(value, at - 1)) continue
    if (r !== null) return r.context === 'anywhere' ? { ...r, context } : r
  }
  return null
}

/**
 * Whether `value.slice(0, end)` reads as a value an app would quote: a name, a number, an e-mail
 * address, a path. Its words are written as words are (`admin`, `Alice`, `ADMIN`), not in the
 * random case of generated text (`YBEf`).
 */
function plausibleLiteral(value: string, end: number): boolean {
  // letters in the current run, and whether the run has left its first pattern
  let run = 0
  let upperFirst = false
  let lowerSeen = false
  for (let i = 0; i < end; i++) {
    const c = value.charCodeAt(i)
    const upper = c >= 65 && c <= 90
    const lower = c >= 97 && c <= 122
    if (upper || lower) {
      if (run === 0) {
        upperFirst = upper
        lowerSeen = lower
      } else if (upper && (lowerSeen || !upperFirst))
        return false // `YBEf`, `aB`: an upper after a lower
      else if (lower && upperFirst && run > 1 && !lowerSeen)
        return false // `ABc`: a lower after two uppers
      else if (lower) lowerSeen = true
      run++
      continue
    }
    run = 0
    const ok = isWordCode(c) || isSpaceCode(c) || c === 64 || c === 46 || c === 45 || c === 43 || c === 47 || c === 58 || c === 44 || c === 37
    if (!ok) return false
  }
  return true
}
