/**
 * The analyzers the engine runs, one entry per attack category (design.md §4). Each reads one
 * decoded reading of a value and answers a rule id and a confidence, or null. `names` judges
 * parameter names and JSON keys, where some attacks live (`user[$ne]`, `__proto__`).
 */
import type { InputLocation } from './types.js'
import { analyzeSql } from './sql/analyzer.js'
import { analyzeXss } from './xss/analyzer.js'
import { analyzeCmdi } from './cmdi/analyzer.js'
import { analyzeTraversal } from './traversal/analyzer.js'
import { analyzeNosql, analyzeNosqlName } from './nosql/analyzer.js'
import { analyzeLdap } from './ldap/analyzer.js'
import { analyzeXpath } from './xpath/analyzer.js'
import { analyzeXxe } from './xxe/analyzer.js'
import { analyzeCrlf, analyzeCrlfName } from './crlf/analyzer.js'
import { analyzePrototypePollution, analyzePrototypePollutionName } from './prototype-pollution/analyzer.js'
import { analyzeScanner } from './scanner/analyzer.js'

export type Category =
  | 'sqli'
  | 'xss'
  | 'cmdi'
  | 'traversal'
  | 'ssrf'
  | 'ssti'
  | 'jndi'
  | 'nosql'
  | 'ldap'
  | 'xpath'
  | 'xxe'
  | 'crlf'
  | 'prototype-pollution'
  | 'scanner'
  | 'limits'

export interface RuleHit {
  readonly rule: string
  readonly confidence: number
}

export interface Analyzer {
  readonly category: Category
  /** Judges one reading of a value. */
  readonly value: ((text: string) => RuleHit | null) | null
  /** Judges a parameter name or object key (raw and decoded). */
  readonly name: ((name: string) => RuleHit | null) | null
  /** Where it applies: null for every location; header inputs may be narrowed by name. */
  readonly locations: ReadonlySet<InputLocation> | null
  /** For header inputs: only these header names (lower case); null for all inspected headers. */
  readonly headers: ReadonlySet<string> | null
  /** A cheap test on the raw reading: false means the analyzer cannot fire, skip it. */
  readonly precheck: ((text: string) => boolean) | null
}

function analyzer(category: Category, value: Analyzer['value'], extra: Partial<Omit<Analyzer, 'category' | 'value'>> = {}): Analyzer {
  return Object.freeze({ category, value, name: extra.name ?? null, locations: extra.locations ?? null, headers: extra.headers ?? null, precheck: extra.precheck ?? null })
}

export const analyzers: readonly Analyzer[] = Object.freeze([
  analyzer('sqli', analyzeSql),
  analyzer('xss', analyzeXss),
  analyzer('cmdi', analyzeCmdi),
  analyzer('traversal', analyzeTraversal),
  analyzer('nosql', analyzeNosql, { name: analyzeNosqlName }),
  analyzer('ldap', analyzeLdap),
  analyzer('xpath', analyzeXpath),
  analyzer('xxe', analyzeXxe, { precheck: (t) => t.indexOf('<') !== -1 }),
  analyzer('crlf', analyzeCrlf, { name: analyzeCrlfName }),
  analyzer('prototype-pollution', analyzePrototypePollution, { name: analyzePrototypePollutionName }),
  // Attack tools announce themselves in User-Agent; elsewhere their names are just words.
  analyzer('scanner', analyzeScanner, { locations: new Set(['header']), headers: new Set(['user-agent']) }),
])
