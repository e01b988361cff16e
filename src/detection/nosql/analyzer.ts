/**
 * NoSQL (MongoDB-style) injection. The attack is usually in the shape, not the
 * text: a query parser such as `qs` turns `user[$ne]=x` into `{ user: { $ne: 'x' } }`, and a JSON
 * body can send `{"password": {"$ne": null}}` directly. So names and JSON keys are judged by
 * `analyzeNosqlName`, values by `analyzeNosql`: an operator object written into a string,
 * JavaScript aimed at `$where` (`' && this.password.match(/.*\/)//`, `';sleep(5000);`), or shell
 * calls on `db.*`. Only MongoDB's own operator names count, so `$5`, `$USD` and JSON Schema's
 * `$ref`/`$schema`/`$id` pass.
 */

export type NosqlRule = 'nosql-operator' | 'nosql-where' | 'nosql-shell' | 'nosql-couchdb-roles'

export interface NosqlFinding {
  readonly rule: NosqlRule
  readonly confidence: number
}

// Query and aggregation operators an attacker uses to turn equality into a predicate (lower case).
const operators = new Set([
  'ne',
  'eq',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'nin',
  'regex',
  'where',
  'exists',
  'expr',
  'or',
  'and',
  'not',
  'nor',
  'elemmatch',
  'function',
  'accumulator',
  'comment',
  'size',
  'type',
  'mod',
  'all',
  'text',
  'jsonschema',
  'options',
])
const operatorAlternation = [...operators].join('|')

// `{"$gt": ""}`, `{ $ne: 1 }`, `$where: '1 == 1'`, `', $or: [ {}`: an operator used as a key.
// `&exists` is the same key after a parser that maps '&' to '$' (PayloadsAllTheThings probes it).
const operatorKey = new RegExp(`(?:^|[\\s{,\\['"])["']?[$&](?:${operatorAlternation})["']?\\s*:`, 'i')
// `user[$ne]=1` written into a value (a whole query string, or a value decoded twice).
const operatorBracket = new RegExp(`\\[\\s*\\$(?:${operatorAlternation})\\s*\\]`, 'i')

// JavaScript for a `$where` clause: a quote breakout followed by a boolean or a statement.
const whereRules: [RegExp, number][] = [
  [/['"]\s*(?:&&|\|\|)\s*this\.[\w$]{1,64}/, 0.95],
  [/['"]\s*;\s*(?:return\s*(?:\(\s*)?(?:true\b|1\b|['"])|sleep\s*\(|[A-Za-z_$][\w$]{0,30}\s*=\s*new\s+Date\b)/, 0.9],
  [/(?:^|;)\s*(?:\d{1,20}\s*)?;\s*return\s*(?:\(\s*)?(?:true|false|1|0)\b/, 0.9],
  [/\|\|\s*(['"]?)(\w{1,16})\1\s*===?\s*\1\2\1(?!\w)/, 0.9],
  [/(?:^|[;'"])\s*sleep\s*\(\s*\d{3,}\s*\)/, 0.9],
  [/\bthis\.[\w$]{1,64}\.match\s*\(/, 0.7],
  [/\bdo\s*\{[^}]{0,80}new\s+Date\b[^}]{0,40}\}\s*while\s*\(/, 0.9],
]
// The mongo shell: `db.users.find()`, `db.injection.insert({...})`, `db.getCollection('x')`.
const shell =
  /\bdb\.(?:[\w$]{1,64}\.(?:find|findOne|insert|insertOne|insertMany|update|updateOne|updateMany|remove|deleteOne|deleteMany|drop|mapReduce|aggregate|count|distinct|save|findAndModify)|getCollection|getCollectionNames|dropDatabase|eval|runCommand|getSiblingDB|adminCommand)\s*\(/
// CouchDB's duplicate-key privilege escalation (CVE-2017-12635) sends `"roles": ["_admin"]` in a user document.
const couchRoles = /"roles"\s*:\s*\[[^\]]{0,200}"_admin"/

export function analyzeNosql(value: string): NosqlFinding | null {
  if (value.indexOf('$') !== -1 || value.indexOf('&') !== -1) {
    if (operatorBracket.test(value)) return { rule: 'nosql-operator', confidence: 0.95 }
    if (operatorKey.test(value)) return { rule: 'nosql-operator', confidence: 0.9 }
  }
  for (const [re, confidence] of whereRules) if (re.test(value)) return { rule: 'nosql-where', confidence }
  if (value.indexOf('db.') !== -1 && shell.test(value)) return { rule: 'nosql-shell', confidence: 0.9 }
  if (value.indexOf('_admin') !== -1 && couchRoles.test(value)) return { rule: 'nosql-couchdb-roles', confidence: 0.85 }
  return null
}

/**
 * One raw input name: a query/form name (`user[$ne]`, `login[$nin][]`, `a.$gt`) or one JSON
 * object key (`$where`). Any segment that is a MongoDB operator makes the parameter an operator
 * object once a query parser has expanded it.
 */
export function analyzeNosqlName(name: string): NosqlFinding | null {
  if (name.indexOf('$') === -1) return null
  let start = 0
  for (let i = 0; i <= name.length; i++) {
    const c = name[i]
    if (i === name.length || c === '[' || c === ']' || c === '.') {
      const seg = name.slice(start, i).trim()
      if (seg.length > 1 && seg[0] === '$' && operators.has(seg.slice(1).toLowerCase())) {
        return { rule: seg.toLowerCase() === '$where' || seg.toLowerCase() === '$function' ? 'nosql-where' : 'nosql-operator', confidence: 0.95 }
      }
      start = i + 1
    }
  }
  return null
}
