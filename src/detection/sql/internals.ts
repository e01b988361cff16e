/**
 * A whole SQL statement aimed at the database's own secrets rather than the app's data: its
 * credential and role catalogs (`pg_shadow`, `mysql.user`, `sys.sql_logins`), its
 * configuration (`current_setting('data_directory')`), its files (`pg_read_file`, `load_file`,
 * `COPY ... TO '/tmp/x'`) or a backup to another host. A snippet of the app's own queries
 * (`SELECT id FROM customers`) names none of these; these statements are reconnaissance whatever
 * field carries them.
 */
import type { Token } from './tokenizer.js'

// Upper-cased word tokens (the tokenizer upper-cases words; `mysql.user` is `MYSQL` `.` `USER`)
const internalNames = new Set([
  'PG_SHADOW',
  'PG_AUTHID',
  'PG_USER',
  'PG_GROUP',
  'PG_ROLES',
  'PG_HBA_FILE_RULES',
  'PG_FILE_SETTINGS',
  'CURRENT_SETTING',
  'PG_READ_FILE',
  'PG_READ_BINARY_FILE',
  'PG_LS_DIR',
  'LO_IMPORT',
  'LO_EXPORT',
  'LOAD_FILE',
  'SYSUSERS',
  'SYSLOGINS',
  'SYSXLOGINS',
  'SQL_LOGINS',
  'SERVER_PRINCIPALS',
  'SYSSERVERS',
  'SYSDATABASES',
  'XP_CMDSHELL',
  'XP_DIRTREE',
  'DBA_USERS',
  'ALL_USERS',
  'USER_ROLE_PRIVS',
  'DBA_ROLE_PRIVS',
])

// MSSQL procedures that run commands, write the registry or create COM objects
const commandProcedures = new Set(['XP_CMDSHELL', 'XP_REGWRITE', 'XP_REGREAD', 'SP_OACREATE', 'SP_OAMETHOD', 'XP_DIRTREE', 'XP_FILEEXIST'])

/**
 * A SELECT built the way injection tools build them (sqlmap's error-based and boolean probes): a
 * subquery nested inside a function's arguments (`CONCAT(0x71..., (SELECT ...))`,
 * `CONVERT(INT, (SELECT ...))`) next to a marker spelled in hex or character codes
 * (`0x717a786a71`, `CHR(113)||CHR(122)||...`). Queries people write name their strings.
 */
export function toolBuiltSelect(t: readonly Token[]): boolean {
  let nested = false
  let codes = 0
  let hex = false
  for (let i = 0; i < t.length; i++) {
    const x = t[i]!
    if (x.type === 'lparen' && t[i + 1]?.text === 'SELECT' && (t[i - 1]?.type === 'comma' || t[i - 1]?.type === 'lparen' || t[i - 1]?.type === 'op'))
      nested = true
    else if (x.type === 'num' && /^0x[0-9a-f]{6,}$/i.test(x.text)) hex = true
    else if (x.type === 'word' && (x.text === 'CHAR' || x.text === 'CHR') && t[i + 1]?.type === 'lparen' && t[i + 2]?.type === 'num') codes++
  }
  return nested && (hex || codes >= 3)
}

/** Whether the statement tokens name a credential, configuration or file internal of the database. */
export function reachesInternals(t: readonly Token[]): boolean {
  for (let i = 0; i < t.length; i++) {
    const x = t[i]!
    if (x.type !== 'word') continue
    if (internalNames.has(x.text)) return true
    // `mysql.user`, `mysql.db`: MySQL's grant tables
    if (x.text === 'MYSQL' && t[i + 1]?.type === 'dot' && (t[i + 2]?.text === 'USER' || t[i + 2]?.text === 'DB')) return true
    // `INTO OUTFILE '/var/www/x.php'`, `INTO DUMPFILE`
    if (x.text === 'INTO' && (t[i + 1]?.text === 'OUTFILE' || t[i + 1]?.text === 'DUMPFILE')) return true
  }
  return false
}

/**
 * `COPY t TO '/tmp/x'` / `COPY t FROM PROGRAM 'id'` (PostgreSQL file and command access),
 * `BACKUP DATABASE x TO DISK='\\host\share\x'` (MSSQL exfiltration) and `EXEC master..xp_cmdshell`
 * (MSSQL commands; a bare call too: no one else names it) as a statement of their own.
 */
export function fileStatement(t: readonly Token[], at: number): boolean {
  const first = t[at]
  if (first?.type !== 'word') return false
  if (first.text === 'COPY') {
    // `COPY name [(columns)] TO|FROM` or `COPY (query) TO`, then a path or a program
    let i = at + 1
    if (t[i]?.type === 'word') i++
    if (t[i]?.type === 'lparen') {
      for (let depth = 0; i < t.length; i++) {
        if (t[i]!.type === 'lparen') depth++
        else if (t[i]!.type === 'rparen' && --depth === 0) break
      }
      i++
    }
    const dir = t[i]
    const target = t[i + 1]
    if (dir?.type !== 'word' || (dir.text !== 'TO' && dir.text !== 'FROM') || target === undefined) return false
    return target.text === 'PROGRAM' || (target.type === 'str' && /^['"]?(?:\/|\\|[a-z]:)/i.test(target.text))
  }
  if (first.text === 'EXEC' || first.text === 'EXECUTE') {
    let i = at + 1
    while (t[i]?.type === 'dot' || t[i]?.text === 'MASTER' || t[i]?.text === 'DBO' || t[i]?.text === 'SYS') i++
    return t[i]?.type === 'word' && commandProcedures.has(t[i]!.text)
  }
  // `BACKUP DATABASE master TO DISK = '\\host\share\x.bak'`
  const kind = t[at + 1]?.text
  return (
    first.text === 'BACKUP' &&
    (kind === 'DATABASE' || kind === 'LOG') &&
    t[at + 2]?.type === 'word' &&
    t[at + 3]?.text === 'TO' &&
    /^(?:DISKS?|URL|TAPE)$/.test(t[at + 4]?.text ?? '') &&
    (t[at + 5]?.text === '=' || t[at + 5]?.type === 'str')
  )
}
