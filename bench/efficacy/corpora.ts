// Loaders that turn the shared attack corpora into replayable requests for
// `npm run efficacy`. Corpora are read in place from
// <root>/../shared/corpora at run time, never copied into the repo.
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'

export type EfficacySource = 'payloadsallthethings' | 'nemesida' | 'crs' | 'benign'

export interface EfficacyRequest {
  method: string
  path: string
  headers: Record<string, string>
  body?: string
}

export interface EfficacyCase {
  readonly source: EfficacySource
  readonly category: string
  readonly expect: 'block' | 'pass'
  readonly id: string
  readonly request: EfficacyRequest
}

export interface SkippedCase {
  readonly source: EfficacySource
  readonly id: string
  readonly reason: string
}

export interface LoadResult {
  readonly cases: EfficacyCase[]
  readonly skipped: SkippedCase[]
}

// Realistic client headers: bare tool defaults trip WAF rules and measure the
// wrong thing.
export const BROWSER_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'host': 'api.example.com',
  'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'accept': 'application/json, text/plain, */*',
  'accept-language': 'en-GB,en;q=0.9',
})

export function findRepoRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from)
  for (;;) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'drawbridge') return dir
      } catch {
        // an unreadable package.json is not ours: keep walking
      }
    }
    const up = dirname(dir)
    if (up === dir) throw new Error('drawbridge package.json not found above ' + from)
    dir = up
  }
}

export function corporaDir(): string {
  return process.env['EFFICACY_CORPORA_DIR'] ?? join(findRepoRoot(), '..', 'shared', 'corpora')
}

export function corporaAvailable(dir: string = corporaDir()): boolean {
  return existsSync(join(dir, 'payloadsallthethings')) && existsSync(join(dir, 'nemesida-waf-bypass')) && existsSync(join(dir, 'crs-regression'))
}

function walk(dir: string): string[] {
  const out: string[] = []
  // sorted so ids and order are stable across file systems
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...walk(p))
    else if (entry.isFile()) out.push(p)
  }
  return out
}

function posixRel(base: string, p: string): string {
  return relative(base, p).split(sep).join('/')
}

// Some lists are Latin-1 (e.g. FUZZDB_MSSQL_Enumeration.txt): fall back
// rather than turn bytes into U+FFFD.
function readText(file: string): string {
  const buf = readFileSync(file)
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf)
  } catch {
    return buf.toString('latin1')
  }
}

// Lone surrogates would make encodeURIComponent throw
function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
}

// Like Python requests' requote_uri: keep reserved characters and valid %XX,
// escape the rest, so payloads stay as close as possible to what the upstream
// tools put on the wire. '#' is escaped too, or it would be cut as a fragment.
const SAFE = new Set("!$&'()*+,/:;=?@[]~-._".split(''))
export function requote(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string
    if (/[A-Za-z0-9]/.test(ch) || SAFE.has(ch)) {
      out += ch
    } else if (ch === '%' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out += ch
    } else {
      const cp = s.codePointAt(i) as number
      const str = String.fromCodePoint(cp)
      if (str.length === 2) i++
      out += encodeURIComponent(wellFormed(str)).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    }
  }
  return out
}

// Node's HTTP client refuses header values outside field-content (RFC 9110 §5.5)
export function isSendableHeaderValue(v: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(v)
}

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 6)
}

// ---------------------------------------------------------------- PayloadsAllTheThings

const PATT_CATEGORIES: Readonly<Record<string, string>> = {
  'SQL Injection': 'sqli',
  'XSS Injection': 'xss',
  'Command Injection': 'cmdi',
  'Directory Traversal': 'traversal',
  'File Inclusion': 'lfi',
  'Server Side Template Injection': 'ssti',
  'NoSQL Injection': 'nosqli',
  'LDAP Injection': 'ldap',
  'XXE Injection': 'xxe',
  'Open Redirect': 'open-redirect',
}

export function loadPayloadsAllTheThings(root: string = corporaDir()): LoadResult {
  const base = join(root, 'payloadsallthethings')
  const cases: EfficacyCase[] = []
  const skipped: SkippedCase[] = []
  for (const dir of readdirSync(base).sort()) {
    const full = join(base, dir)
    if (!statSync(full).isDirectory()) continue
    const category = PATT_CATEGORIES[dir] ?? dir.toLowerCase().replace(/\s+/g, '-')
    for (const sub of ['Intruder', 'Intruders']) {
      const listDir = join(full, sub)
      if (!existsSync(listDir)) continue
      for (const file of walk(listDir)) {
        const rel = posixRel(base, file)
        const lines = readText(file).split('\n')
        lines.forEach((raw, idx) => {
          const payload = raw.endsWith('\r') ? raw.slice(0, -1) : raw
          if (payload.trim() === '') return
          const id = `${rel}:${idx + 1}`
          // open-redirect lists are URLs: put them where a redirect target goes
          const param = category === 'open-redirect' ? 'next' : 'q'
          const getPath = category === 'open-redirect' ? '/login' : '/search'
          cases.push({
            source: 'payloadsallthethings',
            category,
            expect: 'block',
            id: id + ':query',
            request: { method: 'GET', path: `${getPath}?${param}=${encodeURIComponent(wellFormed(payload))}`, headers: { ...BROWSER_HEADERS } },
          })
          cases.push({
            source: 'payloadsallthethings',
            category,
            expect: 'block',
            id: id + ':json',
            request: {
              method: 'POST',
              path: '/api/items',
              headers: { ...BROWSER_HEADERS, 'content-type': 'application/json' },
              body: JSON.stringify({ name: payload }),
            },
          })
        })
      }
    }
  }
  return { cases, skipped }
}

// ---------------------------------------------------------------- nemesida waf-bypass

const NEMESIDA_CATEGORIES: Readonly<Record<string, string>> = {
  API: 'api',
  CM: 'custom-method',
  FP: 'fp',
  GraphQL: 'graphql',
  LDAP: 'ldap',
  LFI: 'lfi',
  MFD: 'multipart',
  Misc: 'misc',
  NoSQLi: 'nosqli',
  OR: 'open-redirect',
  RCE: 'rce',
  RFI: 'rfi',
  SQLi: 'sqli',
  SSI: 'ssi',
  SSRF: 'ssrf',
  SSTI: 'ssti',
  UWA: 'unwanted-access',
  XSS: 'xss',
}

interface NemesidaRecord {
  URL?: string
  ARGS?: string
  BODY?: string
  COOKIE?: string
  'USER-AGENT'?: string
  REFERER?: string
  HEADER?: string
  BOUNDARY?: string
  METHOD?: string
  ENCODE?: string
  JSON?: boolean
  BLOCKED?: boolean
}

const NEMESIDA_ZONES = ['URL', 'ARGS', 'BODY', 'COOKIE', 'USER-AGENT', 'REFERER', 'HEADER'] as const
type NemesidaZone = (typeof NEMESIDA_ZONES)[number]
// The tool only sends URL, USER-AGENT and REFERER unencoded
const ENCODABLE_ZONES: ReadonlySet<NemesidaZone> = new Set(['ARGS', 'BODY', 'COOKIE', 'HEADER'])

function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;')
}

// Python's urllib.parse.quote_plus
function quotePlus(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+')
}

function encodeOne(v: string, encode: string): string {
  switch (encode) {
    case 'HTML-ENTITY':
      return quotePlus(htmlEscape(v))
    // reproduces the tool's '\\u00' + hex(ord) verbatim, odd widths included
    case 'UTF-16':
      return Array.from(v)
        .map((c) => '\\u00' + (c.codePointAt(0) as number).toString(16))
        .join('')
    case 'BASE64':
      return Buffer.from(v, 'utf8').toString('base64')
    default:
      return v
  }
}

// Mirrors payload_encoding() of nemesida-waf/waf-bypass: ARGS/BODY values are
// encoded per k=v pair, other zones as a whole.
function nemesidaEncode(zone: NemesidaZone, payload: string, encode: string): string {
  if (encode === '') return payload
  if (zone !== 'ARGS' && zone !== 'BODY') return encodeOne(payload, encode)
  return payload
    .split('&')
    .map((item) => {
      const eq = item.indexOf('=')
      return eq === -1 ? encodeOne(item, encode) : item.slice(0, eq) + '=' + encodeOne(item.slice(eq + 1), encode)
    })
    .join('&')
}

export function multipartBody(boundary: string, fields: ReadonlyArray<{ name: string; value: string; filename?: string; contentType?: string }>): string {
  let body = ''
  for (const f of fields) {
    body += `--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"`
    if (f.filename !== undefined) body += `; filename="${f.filename}"`
    body += '\r\n'
    if (f.contentType !== undefined) body += `Content-Type: ${f.contentType}\r\n`
    body += `\r\n${f.value}\r\n`
  }
  return body + `--${boundary}--\r\n`
}

export function loadNemesida(root: string = corporaDir()): LoadResult {
  const base = join(root, 'nemesida-waf-bypass', 'payload')
  const cases: EfficacyCase[] = []
  const skipped: SkippedCase[] = []
  for (const dir of readdirSync(base).sort()) {
    if (!statSync(join(base, dir)).isDirectory()) continue
    const category = NEMESIDA_CATEGORIES[dir] ?? dir.toLowerCase()
    for (const file of walk(join(base, dir)).filter((f) => f.endsWith('.json'))) {
      const rel = posixRel(base, file)
      let records: NemesidaRecord[]
      try {
        records = (JSON.parse(readFileSync(file, 'utf8')) as { payload: NemesidaRecord[] }).payload
      } catch {
        skipped.push({ source: 'nemesida', id: rel, reason: 'unparsable JSON' })
        continue
      }
      records.forEach((rec, ri) => {
        const recId = records.length > 1 ? `${rel}#${ri}` : rel
        // BLOCKED defaults to true in the tool; FP holds records that must pass
        const expect = rec.BLOCKED === false || dir === 'FP' ? 'pass' : 'block'
        let encodes = (rec.ENCODE ?? '')
          .replace(/,/g, ' ')
          .split(/\s+/)
          .filter(Boolean)
          .map((e) => e.toUpperCase())
        const isApi = dir === 'API'
        const isMfd = dir === 'MFD'
        if (isApi || isMfd) encodes = []
        if (rec.JSON === true && encodes.length > 0) {
          skipped.push({ source: 'nemesida', id: recId, reason: 'JSON together with ENCODE (the tool refuses it)' })
          return
        }
        for (const zone of NEMESIDA_ZONES) {
          const rawValue = rec[zone]
          if (typeof rawValue !== 'string' || rawValue === '') continue
          // %RND% is a random-token placeholder in the tool; a hash keeps ids stable
          const value = rawValue.replace(/%RND%/g, shortHash(recId + zone))
          const method = rec.METHOD !== undefined ? rec.METHOD.toUpperCase() : zone === 'BODY' ? 'POST' : 'GET'
          const variants = ENCODABLE_ZONES.has(zone) ? ['', ...encodes] : ['']
          for (const encode of variants) {
            const id = `${recId}:${zone}${encode === '' ? '' : ':' + encode}`
            const v = nemesidaEncode(zone, value, encode)
            const headers: Record<string, string> = { ...BROWSER_HEADERS }
            let path = '/'
            let body: string | undefined
            switch (zone) {
              case 'URL':
                path = requote(v.startsWith('/') ? v : '/' + v)
                break
              case 'ARGS':
                path = '/?' + requote(v)
                break
              case 'BODY':
                if (isMfd) {
                  if (rec.BOUNDARY !== undefined && rec.BOUNDARY !== '') {
                    headers['content-type'] = 'multipart/form-data; boundary=' + rec.BOUNDARY
                    body = v
                  } else {
                    const boundary = 'drawbridge' + createHash('sha256').update(id).digest('hex').slice(0, 30)
                    headers['content-type'] = 'multipart/form-data; boundary=' + boundary
                    body = multipartBody(boundary, [{ name: 'f' + shortHash(id), value: v }])
                  }
                } else if (isApi || rec.JSON === true) {
                  headers['content-type'] = 'application/json'
                  body = v
                } else {
                  // the tool sends no Content-Type; a form type lets a WAF parse it
                  headers['content-type'] = 'application/x-www-form-urlencoded'
                  body = v
                }
                break
              case 'COOKIE':
                headers['cookie'] = `WBC-${shortHash(id)}=${v}`
                break
              case 'USER-AGENT':
                headers['user-agent'] = v
                break
              case 'REFERER':
                headers['referer'] = v
                break
              case 'HEADER':
                headers[`wbh-${shortHash(id)}`] = v
                break
            }
            if (isApi && zone !== 'BODY') headers['content-type'] = 'application/json'
            const bad = Object.values(headers).find((h) => !isSendableHeaderValue(h))
            if (bad !== undefined) {
              skipped.push({ source: 'nemesida', id, reason: 'header value not sendable (CR/LF/control or non-Latin-1)' })
              continue
            }
            cases.push({ source: 'nemesida', category, expect, id, request: body === undefined ? { method, path, headers } : { method, path, headers, body } })
          }
        }
      })
    }
  }
  return { cases, skipped }
}

// ---------------------------------------------------------------- CRS regression

interface CrsInput {
  method?: string
  uri?: string
  headers?: Record<string, unknown>
  data?: unknown
  encoded_request?: string
}

interface CrsStage {
  input?: CrsInput
  output?: {
    log?: { expect_ids?: unknown; no_expect_ids?: unknown }
    expect_ids?: unknown
    no_expect_ids?: unknown
  }
}

const CRS_CATEGORIES: ReadonlyArray<readonly [number, string]> = [
  [930, 'lfi'],
  [931, 'rfi'],
  [932, 'rce'],
  [933, 'php'],
  [934, 'generic'],
  [941, 'xss'],
  [942, 'sqli'],
  [943, 'session-fixation'],
  [944, 'java'],
]

export function crsCategory(ruleId: number): string {
  const family = Math.floor(ruleId / 1000)
  return CRS_CATEGORIES.find(([f]) => f === family)?.[1] ?? 'other'
}

function ids(v: unknown): number[] {
  return Array.isArray(v) ? v.map(Number).filter(Number.isFinite) : []
}

// Hop-by-hop and framing headers are recomputed by whatever replays the case
const DROP_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection'])

function dechunk(body: string): string {
  let out = ''
  let rest = body
  for (;;) {
    const nl = rest.indexOf('\r\n')
    if (nl === -1) return out + rest
    const size = parseInt(rest.slice(0, nl), 16)
    if (!Number.isFinite(size) || size === 0) return out
    out += rest.slice(nl + 2, nl + 2 + size)
    rest = rest.slice(nl + 2 + size + 2)
  }
}

export function parseRawRequest(raw: string): EfficacyRequest {
  const split = raw.search(/\r?\n\r?\n/)
  const head = split === -1 ? raw : raw.slice(0, split)
  let body = split === -1 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '')
  const [requestLine = '', ...lines] = head.split(/\r?\n/)
  const [method = 'GET', target = '/'] = requestLine.split(' ')
  const headers: Record<string, string> = {}
  let chunked = false
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (name === 'transfer-encoding' && /chunked/i.test(value)) chunked = true
    if (DROP_HEADERS.has(name)) continue
    headers[name] = name in headers ? headers[name] + ', ' + value : value
  }
  if (chunked) body = dechunk(body)
  return body === '' ? { method, path: target, headers } : { method, path: target, headers, body }
}

function normalisePath(uri: string): string {
  if (uri.startsWith('/')) return uri
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(uri)
  if (abs !== null) return uri.slice(abs[0].length).startsWith('/') ? uri.slice(abs[0].length) : '/' + uri.slice(abs[0].length)
  return '/' + uri
}

export interface CrsStats {
  files: number
  tests: number
  stages: number
}

export function loadCrs(root: string = corporaDir()): LoadResult & { stats: CrsStats } {
  const base = join(root, 'crs-regression', 'tests', 'regression', 'tests')
  const cases: EfficacyCase[] = []
  const skipped: SkippedCase[] = []
  const stats: CrsStats = { files: 0, tests: 0, stages: 0 }
  for (const file of walk(base).filter((f) => /\.ya?ml$/.test(f))) {
    const rel = posixRel(base, file)
    stats.files++
    let doc: { rule_id?: number; tests?: Array<{ test_id?: number | string; stages?: Array<CrsStage & { stage?: CrsStage }> }> } | null
    try {
      doc = parseYaml(readFileSync(file, 'utf8')) as typeof doc
    } catch {
      skipped.push({ source: 'crs', id: rel, reason: 'unparsable YAML' })
      continue
    }
    if (doc === null || !Array.isArray(doc.tests)) {
      skipped.push({ source: 'crs', id: rel, reason: 'file holds no tests (comments only)' })
      continue
    }
    const protocol = /REQUEST-92[01]-/.test(rel)
    for (const test of doc.tests) {
      stats.tests++
      ;(test.stages ?? []).forEach((wrapped, si) => {
        stats.stages++
        // older go-ftw files wrap each stage in `stage:`
        const stage: CrsStage = wrapped.stage ?? wrapped
        const id = `${rel}#${String(test.test_id)}${(test.stages?.length ?? 0) > 1 ? '.' + si : ''}`
        if (protocol) {
          skipped.push({ source: 'crs', id, reason: '920/921 protocol test' })
          return
        }
        const log = stage.output?.log ?? stage.output ?? {}
        const expectIds = ids(log.expect_ids)
        const attackIds = expectIds.filter((n) => n >= 930000 && n <= 944999)
        if (attackIds.length === 0) {
          if (expectIds.length > 0) skipped.push({ source: 'crs', id, reason: 'expects only non-attack rules (911/913/922/949/95x/98x)' })
          else if (ids(log.no_expect_ids).length > 0) skipped.push({ source: 'crs', id, reason: 'only no_expect_ids (verdict unknown for a non-CRS WAF)' })
          else skipped.push({ source: 'crs', id, reason: 'no rule expectation (status/regex/error only)' })
          return
        }
        const input = stage.input ?? {}
        let request: EfficacyRequest
        if (typeof input.encoded_request === 'string' && input.encoded_request !== '') {
          request = parseRawRequest(Buffer.from(input.encoded_request, 'base64').toString('latin1'))
        } else {
          const headers: Record<string, string> = {}
          for (const [k, v] of Object.entries(input.headers ?? {})) {
            if (DROP_HEADERS.has(k.toLowerCase())) continue
            headers[k.toLowerCase()] = String(v)
          }
          const data = Array.isArray(input.data) ? input.data.join('\r\n') : input.data
          request = { method: input.method ?? 'GET', path: input.uri ?? '/', headers }
          if (typeof data === 'string' && data !== '') request.body = data
        }
        request.path = normalisePath(request.path)
        cases.push({ source: 'crs', category: crsCategory(attackIds[0] as number), expect: 'block', id, request })
      })
    }
  }
  return { cases, skipped, stats }
}

export function loadAllCorpora(root: string = corporaDir()): LoadResult {
  const parts = [loadPayloadsAllTheThings(root), loadNemesida(root), loadCrs(root)]
  return { cases: parts.flatMap((p) => p.cases), skipped: parts.flatMap((p) => p.skipped) }
}
