/**
 * The analyzers the engine runs, one entry per attack category. Each reads one
 * decoded reading of a value and answers a rule id and a confidence, or null. `names` judges
 * parameter names and JSON keys, where some attacks live (`user[$ne]`, `__proto__`).
 */
import type { InputLocation } from './types.js'
import { charSet, type Chars } from './chars.js'
import { analyzeSql } from './sql/analyzer.js'
import { analyzeXss } from './xss/analyzer.js'
import { analyzeCmdi, analyzeCmdiAgent, analyzeCmdiPath } from './cmdi/analyzer.js'
import { analyzeTraversal } from './traversal/analyzer.js'
import { analyzeExposedFile } from './traversal/exposure.js'
import { analyzeNosql, analyzeNosqlName } from './nosql/analyzer.js'
import { analyzeLdap } from './ldap/analyzer.js'
import { analyzeXpath } from './xpath/analyzer.js'
import { analyzeXxe } from './xxe/analyzer.js'
import { analyzeCrlf, analyzeCrlfName } from './crlf/analyzer.js'
import { analyzePrototypePollution, analyzePrototypePollutionName } from './prototype-pollution/analyzer.js'
import { analyzeScanner } from './scanner/analyzer.js'
import { analyzeSsrf } from './ssrf/analyzer.js'
import { analyzeSsti } from './ssti/analyzer.js'
import { analyzeJndi } from './jndi/analyzer.js'
import { analyzeSession, analyzeSessionName } from './session/analyzer.js'
import { analyzeCode, analyzeCodeName } from './code/analyzer.js'
import { analyzeJavaToken } from './code/java-token.js'
import { analyzeUploadName, isFileNameInput } from './upload/analyzer.js'

export type Category =
  | 'sqli'
  | 'xss'
  | 'cmdi'
  | 'traversal'
  | 'ssrf'
  | 'ssti'
  | 'jndi'
  | 'code'
  | 'nosql'
  | 'ldap'
  | 'xpath'
  | 'xxe'
  | 'crlf'
  | 'prototype-pollution'
  | 'scanner'
  | 'session-fixation'
  | 'upload'
  | 'parser-differential'
  | 'limits'

export interface RuleHit {
  readonly rule: string
  readonly confidence: number
}

export interface Analyzer {
  readonly category: Category
  /**
   * Judges one reading of a value. `chars`: the reading's characters (chars.ts), for cheap-first
   * checks; null when it holds one outside ASCII, or when the caller has not worked them out.
   */
  readonly value: ((text: string, chars: Chars | null) => RuleHit | null) | null
  /** Judges a parameter name or object key (raw and decoded). */
  readonly name: ((name: string) => RuleHit | null) | null
  /** Where it applies: null for every location; header inputs may be narrowed by name. */
  readonly locations: ReadonlySet<InputLocation> | null
  /** For header inputs: only these header names (lower case); null for all inspected headers. */
  readonly headers: ReadonlySet<string> | null
  /** Also runs on the low-risk headers (`lowRiskHeaders`) that the others skip. */
  readonly allHeaders: boolean
  /** Headers this analyzer never judges (their values are the client's own context). */
  readonly skipHeaders: ReadonlySet<string> | null
  /** Only the inputs this accepts (by location and name); null for all that the rest allows. */
  readonly inputs: ((location: InputLocation, name: string) => boolean) | null
  /** Also judges values of plain characters only, which the others skip as harmless. */
  readonly plainValues: boolean
  /**
   * ASCII characters without which this analyzer cannot fire, as a 128-bit set (4 words); null:
   * always runs. A reading with none of them, and nothing outside ASCII (look-alikes, fullwidth
   * forms), skips the analyzer: "12 Main Street, Apt. #3" needs the SQL analyzer (`1 or true` is
   * all letters) but cannot be shell, HTML or a path.
   */
  readonly triggers: Chars | null
}

/**
 * Headers that carry no free text an app interprets (or carry credentials whose bytes are
 * random): only analyzers with `allHeaders` look at them, for Log4Shell lands in any header a
 * Java app logs.
 */
export const lowRiskHeaders: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'accept-encoding',
  'te',
  'upgrade',
  'if-modified-since',
  'if-unmodified-since',
  'if-none-match',
  'if-match',
  'cache-control',
  'pragma',
  'dnt',
  'upgrade-insecure-requests',
  'priority',
  'sec-fetch-dest',
  'sec-fetch-mode',
  'sec-fetch-site',
  'sec-fetch-user',
  'sec-ch-ua',
  'sec-ch-ua-mobile',
  'sec-ch-ua-platform',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'x-request-id',
  'authorization',
  'proxy-authorization',
  'content-type',
])

type Extra = Partial<Omit<Analyzer, 'category' | 'value' | 'triggers'>> & { readonly triggers?: string }

function analyzer(category: Category, value: Analyzer['value'], extra: Extra = {}): Analyzer {
  return Object.freeze({
    category,
    value,
    name: extra.name ?? null,
    locations: extra.locations ?? null,
    headers: extra.headers ?? null,
    allHeaders: extra.allHeaders ?? false,
    skipHeaders: extra.skipHeaders ?? null,
    inputs: extra.inputs ?? null,
    plainValues: extra.plainValues ?? false,
    triggers: extra.triggers === undefined ? null : charSet(extra.triggers),
  })
}

// Trigger sets are deliberately wide: a character listed needlessly costs a little time, one
// missing costs detections. The efficacy run (npm run efficacy) checks them against the corpora.
export const analyzers: readonly Analyzer[] = Object.freeze([
  // `1 OR TRUE`, `1 UNION SELECT name FROM users`: SQL needs no special character at all.
  analyzer('sqli', analyzeSql),
  analyzer('xss', analyzeXss, { triggers: '<>:\'"`(=[.&\\+{' }),
  // a value that is itself a command line (`time ifconfig`, `IF EXIST x CMD`) may hold only blanks
  analyzer('cmdi', analyzeCmdi, { locations: new Set(['query', 'header', 'cookie', 'body']), triggers: ';|&`$(){}<>%\n\r-/:\\\'"*?[~ \t+' }),
  analyzer('cmdi', analyzeCmdiPath, { locations: new Set(['path']), triggers: ';|&`$(){}<>%\n\r-/:\\\'"*?[~ \t+' }),
  // `0x2e0x2e0x2f` spells `../` in letters and digits: x/X trigger too
  analyzer('traversal', analyzeTraversal, { triggers: './\\:xX%;' }),
  // `/.git`, `settings.php.swp`, `db.sql.gz`, `do.php;.png`: only where the value is the path a server maps to a file
  analyzer('traversal', analyzeExposedFile, { locations: new Set(['path']), triggers: '.' }),
  // operators need `$` (or `&`, a parser's stand-in), `$where` JavaScript a quote, `;`, `||` or a
  // call, the shell a call: never a bare '.', '_' or '=' (prose, file names, e-mail addresses)
  analyzer('nosql', analyzeNosql, { name: analyzeNosqlName, triggers: '$&|;\'"(' }),
  analyzer('ldap', analyzeLdap, { triggers: '()*|&=\\!~<>' }),
  analyzer('xpath', analyzeXpath, { triggers: '\'"(/[=@|*' }),
  analyzer('xxe', analyzeXxe, { triggers: '<%&' }),
  analyzer('crlf', analyzeCrlf, { name: analyzeCrlfName, triggers: '\r\n' }),
  analyzer('prototype-pollution', analyzePrototypePollution, { name: analyzePrototypePollutionName, triggers: '_' + 'Pp' }),
  // Origin and Referer name the page the browser is on (often localhost in development): the
  // app never fetches them.
  analyzer('ssrf', analyzeSsrf, { triggers: ':/@\\[%', skipHeaders: new Set(['origin', 'referer']) }),
  analyzer('ssti', analyzeSsti, { triggers: '{}$#<%@(?*[_' }),
  analyzer('jndi', analyzeJndi, { allHeaders: true, triggers: '$:' }),
  analyzer('code', analyzeCode, { name: analyzeCodeName, triggers: '(<$:"\'`+/=[{@' }),
  // `java.lang.Runtime`, `cnVudGltZQ`: one token for a deserializer, letters and dots only
  // (a dotted name, or base64 with at least two capitals)
  analyzer('code', analyzeJavaToken, { triggers: '.ABCDEFGHIJKLMNOPQRSTUVWXYZ' }),
  // a User-Agent that is a command line, not product tokens (`env --version`)
  analyzer('cmdi', analyzeCmdiAgent, { locations: new Set(['header']), headers: new Set(['user-agent']), triggers: ' \t' }),
  // Attack tools announce themselves in User-Agent; elsewhere their names are just words.
  analyzer('scanner', analyzeScanner, { locations: new Set(['header']), headers: new Set(['user-agent']) }),
  // A session cookie's name is only suspicious where cookies do not belong: the URL and the body.
  analyzer('session-fixation', analyzeSession, { name: analyzeSessionName, locations: new Set(['query', 'body']), triggers: '.-' }),
  // A file name is only dangerous as a file name: a multipart part's, or a raw upload's header.
  // `shell.php` is all plain characters: judged even so.
  analyzer('upload', analyzeUploadName, { locations: new Set(['header', 'body']), inputs: isFileNameInput, plainValues: true, triggers: '.;' }),
])
