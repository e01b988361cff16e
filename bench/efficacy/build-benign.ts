/**
 * Builds the benign corpus (bench/efficacy/benign/requests.jsonl.gz and sources.tsv) from the
 * real-world text on this machine (harvest.ts), shaped into API calls by family. Deterministic:
 * the same machine and seed give the same bytes. The README next to the output says what was
 * read, how it was filtered and shaped, and under which licences.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/efficacy/build-benign.js [--seed N] [--out DIR]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { BENIGN_FAMILIES, type BenignFamily, type BenignRecord } from './benign-corpus.js'
import { findRepoRoot, multipartBody, type EfficacyRequest } from './corpora.js'
import { attackDemo, chunks, debianLicences, harvest, splitMarkdown, type Harvest } from './harvest.js'
import { Gen, randomPassword } from './rng.js'

export const DEFAULT_SEED = 0xbe9196

// ---------------------------------------------------------------- arguments

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i === -1 ? undefined : process.argv[i + 1]
}

const root = findRepoRoot()
const seed = Number(arg('--seed') ?? DEFAULT_SEED)
const outDir = arg('--out') ?? join(root, 'bench/efficacy/benign')
/** How many requests each family gets (fewer where the text runs out) */
const TARGETS: Readonly<Record<BenignFamily, number>> = {
  'ci-steps': 1500,
  'code-snippets': 2500,
  changelog: 2200,
  'readme-markdown': 2200,
  'man-pages': 2200,
  docstrings: 2000,
  'names-bios': 1500,
  uploads: 1300,
  'login-forms': 1000,
  manifests: 1100,
  'search-queries': 2000,
  headers: 800,
  passwords: 1500,
  tokens: 1500,
}

// ---------------------------------------------------------------- the text

interface Piece {
  readonly text: string
  readonly source: string
  /** A title, heading or name that goes with it */
  readonly title: string
  readonly extra?: Readonly<Record<string, string>>
}

/** Pieces left out as attack demonstrations, per kind of source, with one example each */
const filtered = new Map<string, { n: number; example: string }>()

function keep(kind: string, p: Piece): boolean {
  const why = attackDemo(p.text + '\n' + p.title)
  if (why === null) return true
  const f = filtered.get(kind)
  if (f === undefined) filtered.set(kind, { n: 1, example: `${p.source}: ${why}` })
  else f.n++
  return false
}

function dedupe(pieces: readonly Piece[]): Piece[] {
  const seen = new Set<string>()
  return pieces.filter((p) => {
    const k = p.text
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

/** Cut at a paragraph boundary under `max` characters (a whole first paragraph cut at a line). */
function fit(text: string, max: number): string {
  if (text.length <= max) return text
  const c = chunks(text, max, 1)[0] ?? text
  if (c.length <= max) return c
  const cut = c.lastIndexOf('\n', max)
  return c.slice(0, cut > max / 2 ? cut : max).trimEnd()
}

function npmSource(p: { name: string; version: string }, file: string): string {
  return `npm:${p.name}@${p.version}:${file}`
}

const isProse = (s: string) => s.length >= 40 && /[a-z]{3,} [a-z]{2,} [a-z]{2,}/i.test(s) && !/```|^\s{4}|^\s*[|>#-]|\t/m.test(s)

/** Everything the families draw from, filtered and deduplicated, in a fixed order. */
function texts(h: Harvest) {
  // scripts of package.json files, one piece per entry; `extra.pkg` groups a package's scripts
  const scripts: Piece[] = []
  for (const p of h.npm)
    for (const [name, cmd] of p.scripts) scripts.push({ text: cmd, title: name, source: npmSource(p, 'package.json'), extra: { pkg: p.name } })

  const code: Piece[] = []
  const readmeSections: Piece[] = []
  const npmChangelog: Piece[] = []
  for (const p of h.npm) {
    if (p.readme !== null) {
      const md = splitMarkdown(p.readme.text)
      for (const s of md.sections)
        if (s.text.length >= 80)
          readmeSections.push({
            text: fit(s.text, 3000),
            title: s.heading.replace(/^#+\s*/, '') || p.name,
            source: npmSource(p, p.readme.file),
            extra: { pkg: p.name },
          })
      for (const c of md.code)
        if (c.code.length >= 20 && c.code.length <= 6000)
          code.push({ text: c.code, title: c.heading || p.name, source: npmSource(p, p.readme.file), extra: { language: c.language } })
    }
    if (p.changelog !== null) {
      const md = splitMarkdown(p.changelog.text)
      for (const s of md.sections.slice(0, 12))
        if (s.text.length >= 40)
          npmChangelog.push({ text: fit(s.text, 2500), title: s.heading.replace(/^#+\s*/, ''), source: npmSource(p, p.changelog.file), extra: { pkg: p.name } })
      for (const c of md.code)
        if (c.code.length >= 20 && c.code.length <= 6000)
          code.push({ text: c.code, title: c.heading || p.name, source: npmSource(p, p.changelog.file), extra: { language: c.language } })
    }
  }
  for (const d of h.debian.readmes) {
    const md = splitMarkdown(d.text)
    if (/\.md(\.gz)?$/i.test(d.file)) {
      for (const s of md.sections)
        if (s.text.length >= 80)
          readmeSections.push({ text: fit(s.text, 3000), title: s.heading.replace(/^#+\s*/, '') || d.pkg, source: d.source, extra: { pkg: d.pkg } })
      for (const c of md.code)
        if (c.code.length >= 20 && c.code.length <= 6000)
          code.push({ text: c.code, title: c.heading || d.pkg, source: d.source, extra: { language: c.language } })
    } else
      for (const c of chunks(d.text, 3000, 6))
        if (c.length >= 80) readmeSections.push({ text: c, title: `${d.pkg} ${d.file}`, source: d.source, extra: { pkg: d.pkg } })
  }
  // man pages: literal blocks (examples, synopses of commands) are code; the rest is prose
  const manParas: Piece[] = []
  const manSections: Piece[] = []
  const manTitles: Piece[] = []
  for (const m of h.man) {
    if (m.title !== '') manTitles.push({ text: m.title, title: m.name, source: m.source, extra: { section: m.section, lang: m.lang } })
    for (const s of m.sections) {
      const joined = fit(s.paragraphs.join('\n\n'), 2500)
      if (joined.length >= 80)
        manSections.push({
          text: joined,
          title: `${m.name}(${m.section}) ${s.heading}`,
          source: m.source,
          extra: { name: m.name, section: m.section, lang: m.lang, heading: s.heading },
        })
      for (const para of s.paragraphs)
        if (para.length >= 40 && !s.literal.includes(para))
          manParas.push({
            text: para,
            title: `${m.name}(${m.section}) ${s.heading}`,
            source: m.source,
            extra: { name: m.name, section: m.section, lang: m.lang, heading: s.heading },
          })
      if (m.lang === 'en')
        for (const lit of s.literal)
          if (lit.length >= 20 && lit.length <= 4000)
            code.push({
              text: lit,
              title: `${m.name}(${m.section}) ${s.heading}`,
              source: m.source,
              extra: { language: m.section === '3' || m.section === '2' ? 'c' : 'shell' },
            })
    }
  }
  // docstrings, and their doctests as code
  const docs: Piece[] = []
  for (const d of h.python.docs) {
    docs.push({
      text: fit(d.text, 3000),
      title: d.owner === '' ? d.module : `${d.module}: ${d.owner}`,
      source: d.source,
      extra: { module: d.module, owner: d.owner },
    })
    const doctest = d.text
      .split('\n\n')
      .filter((b) => /^\s*>>> /.test(b))
      .join('\n\n')
    if (doctest.length >= 20)
      code.push({ text: doctest, title: d.owner === '' ? d.module : `${d.module}: ${d.owner}`, source: d.source, extra: { language: 'python' } })
  }
  // changelogs: whole entries and their lines
  const entries: Piece[] = []
  for (const e of h.debian.debianEntries)
    entries.push({ text: fit(e.text, 2000), title: /^(\S+) \(([^)]*)\)/.exec(e.text)?.slice(1, 3).join(' ') ?? e.pkg, source: e.source, extra: { pkg: e.pkg } })
  for (const e of h.debian.upstreamEntries) entries.push({ text: fit(e.text, 2000), title: `${e.pkg} ${e.file}`, source: e.source, extra: { pkg: e.pkg } })
  entries.push(...npmChangelog)
  const lines: Piece[] = []
  for (const e of entries) {
    // bullet items with their continuation lines, as one line of a changelog
    for (const item of e.text.split(/\n(?=\s*[*+-] |\s*\[ )/)) {
      const line = item
        .replace(/\s*\n\s*/g, ' ')
        .replace(/^\s*[*+-]\s+/, '')
        .trim()
      if (line.length >= 15 && line.length <= 600 && !/^\S+ \([^)]*\) .*urgency=/.test(line) && !/^-- /.test(line))
        lines.push({ text: line, title: e.title, source: e.source, extra: e.extra ?? {} })
    }
  }
  // prose for bios: descriptions and first paragraphs, 40 to 400 characters
  const prose: Piece[] = []
  for (const p of h.npm) if (isProse(p.description)) prose.push({ text: p.description, title: p.name, source: npmSource(p, 'package.json') })
  for (const p of manParas)
    if (
      p.text.length <= 400 &&
      isProse(p.text) &&
      /^(DESCRIPTION|BESCHREIBUNG|DESCRIPCIÓN|DESCRIZIONE|BESCHRIJVING|BESKRIVNING|OPIS|ОПИСАНИЕ)$/i.test(p.extra?.['heading'] ?? '')
    )
      prose.push(p)
  for (const s of readmeSections)
    for (const para of s.text.split(/\n\s*\n/))
      if (para.length <= 400 && isProse(para)) prose.push({ text: para.replace(/\s*\n\s*/g, ' '), title: s.title, source: s.source })
  // package descriptions and titles for search queries
  const queries: Piece[] = []
  for (const p of h.npm) {
    if (p.description !== '') queries.push({ text: p.description, title: p.name, source: npmSource(p, 'package.json') })
    if (p.keywords.length > 0) queries.push({ text: p.keywords.slice(0, 4).join(' '), title: p.name, source: npmSource(p, 'package.json') })
  }
  for (const p of h.dpkg.packages) {
    const d = (p.fields['Description'] ?? '').split('\n')[0] ?? ''
    if (d !== '') queries.push({ text: d, title: p.name, source: `debian:${p.name}:/var/lib/dpkg/status` })
  }
  for (const m of h.python.meta)
    if (typeof m.fields['Summary'] === 'string' && m.fields['Summary'] !== '') queries.push({ text: m.fields['Summary'], title: m.name, source: m.source })
  for (const t of manTitles) {
    queries.push(t)
    const dash = t.text.indexOf(' - ')
    if (dash !== -1) queries.push({ ...t, text: t.text.slice(dash + 3) })
  }
  // names: changelog trailers, copyright files, npm people, Python authors
  const names: Piece[] = []
  for (const n of h.debian.names) names.push({ text: n.name, title: n.name, source: n.source })
  for (const p of h.npm) for (const n of p.people) names.push({ text: n, title: n, source: npmSource(p, 'package.json') })
  for (const m of h.python.meta)
    if (typeof m.fields['Author'] === 'string' && /^\p{Lu}[\p{L}'.-]+( [\p{L}'.-]+){1,3}$/u.test(m.fields['Author']))
      names.push({ text: m.fields['Author'], title: m.fields['Author'], source: m.source })
  // web addresses from manifests and dpkg
  const urls: Piece[] = []
  for (const p of h.npm)
    for (const u of [p.homepage, p.repository])
      if (u !== null && /^https?:\/\//.test(u)) urls.push({ text: u.replace(/#.*$/, ''), title: p.name, source: npmSource(p, 'package.json') })
  for (const p of h.dpkg.packages)
    if (/^https?:\/\//.test(p.fields['Homepage'] ?? ''))
      urls.push({ text: (p.fields['Homepage'] as string).replace(/#.*$/, ''), title: p.name, source: `debian:${p.name}:/var/lib/dpkg/status` })
  for (const m of h.python.meta)
    if (typeof m.fields['Home-page'] === 'string' && /^https?:\/\//.test(m.fields['Home-page']))
      urls.push({ text: m.fields['Home-page'], title: m.name, source: m.source })

  const f = (kind: string, xs: Piece[]) => dedupe(xs).filter((p) => keep(kind, p))
  return {
    scripts: dedupe(scripts).filter((p) => keep('package.json scripts', p)),
    code: f('code blocks', code),
    readmeSections: f('README sections', readmeSections),
    manParas: f('man page paragraphs', manParas),
    manSections: f('man page sections', manSections),
    docs: f('docstrings', docs),
    entries: f('changelog entries', entries),
    lines: f('changelog lines', lines),
    prose: f('prose for bios', prose),
    queries: f(
      'search terms',
      queries.map((q) => ({ ...q, text: q.text.replace(/\s+/g, ' ').trim() })).filter((q) => q.text.length >= 3 && q.text.length <= 200),
    ),
    names: dedupe(names),
    urls: dedupe(urls),
  }
}

// ---------------------------------------------------------------- request pieces

const DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example.org']

/** Browser User-Agent templates; CLI ones get the versions installed here (see clientAgents) */
const BROWSERS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.2420.81',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
]
const LANGS = [
  'en-GB,en;q=0.9',
  'en-US,en;q=0.9',
  'fr-FR,fr;q=0.9,en;q=0.8',
  'de-DE,de;q=0.9,en;q=0.7',
  'es-ES,es;q=0.9',
  'pt-BR,pt;q=0.9,en;q=0.6',
  'nl-NL,nl;q=0.9,en;q=0.8',
  'ja,en-US;q=0.8',
]
const APP_PAGES = ['/dashboard', '/settings/profile', '/projects', '/packages', '/docs', '/search', '/releases', '/snippets/new', '/wiki', '/login']

/** User-Agents of the clients installed here, with their versions */
function clientAgents(h: Harvest): string[] {
  const v = (pkg: string) => (h.dpkg.versions.get(pkg) ?? '').replace(/^\d+:/, '').replace(/[-+~].*$/, '')
  const npm = h.npm.find((p) => p.name === 'npm')
  const undici = h.npm.find((p) => p.name === 'undici')
  const out = [`node/${process.version.slice(1)}`, 'Go-http-client/1.1', 'okhttp/4.12.0']
  if (npm !== undefined) out.push(`npm/${npm.version} node/${process.version} linux x64 workspaces/false`)
  if (undici !== undefined) out.push(`undici/${undici.version}`)
  if (v('curl') !== '') out.push(`curl/${v('curl')}`)
  if (v('apt') !== '') out.push(`Debian APT-HTTP/1.3 (${v('apt')})`)
  if (v('git') !== '') out.push(`git/${v('git')}`)
  if (v('wget') !== '') out.push(`Wget/${v('wget')}`)
  const py = h.dpkg.versions.get('python3') ?? ''
  const pyMinor = /^(\d+\.\d+)/.exec(py)?.[1]
  if (pyMinor !== undefined) out.push(`Python-urllib/${pyMinor}`)
  for (const m of h.python.meta)
    if (/^(httplib2|requests|httpx|aiohttp|pip)$/i.test(m.name)) out.push(`${m.name.toLowerCase()}/${String(m.fields['Version'] ?? '')}`)
  return out
}

interface Ctx {
  readonly agents: readonly string[]
  readonly referers: readonly string[]
  readonly packages: readonly string[]
}

function base64url(g: Gen, n: number): string {
  return g.bytes(n).toString('base64url')
}

function jwt(g: Gen): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  const iat = 1_710_000_000 + g.int(0, 40_000_000)
  const alg = g.pick(['RS256', 'ES256', 'HS256', 'EdDSA'])
  const header = g.chance(0.6) ? { alg, typ: 'JWT', kid: g.hex(16) } : { alg, typ: 'JWT' }
  const payload: Record<string, unknown> = { sub: g.chance(0.5) ? g.uuid() : String(g.int(1, 9_999_999)), iat, exp: iat + g.pick([300, 900, 3600, 86400]) }
  if (g.chance(0.6)) payload['iss'] = g.pick(['https://auth.example.com/', 'https://login.example.org', 'https://id.example.net/realms/main'])
  if (g.chance(0.5)) payload['aud'] = g.pick(['api', 'https://api.example.com', 'web-app'])
  if (g.chance(0.5)) payload['scope'] = g.pick(['read write', 'openid profile email', 'packages:read', 'repo user:email'])
  if (g.chance(0.3)) payload['jti'] = g.uuid()
  const sigBytes = alg === 'ES256' ? 64 : alg === 'HS256' ? 32 : alg === 'EdDSA' ? 64 : 256
  return `${b64(header)}.${b64(payload)}.${base64url(g, sigBytes)}`
}

function cookieHeader(g: Gen, ctx: Ctx): string {
  const parts = [`session=${base64url(g, g.pick([16, 24, 32]))}`]
  if (g.chance(0.4)) parts.push(`csrftoken=${g.hex(32)}`)
  if (g.chance(0.5)) parts.push(`theme=${g.pick(['dark', 'light', 'system'])}`)
  if (g.chance(0.3)) parts.push(`_ga=GA1.2.${g.int(100000000, 999999999)}.${g.int(1600000000, 1730000000)}`)
  if (g.chance(0.3)) parts.push(`consent=${encodeURIComponent(JSON.stringify({ ads: g.chance(0.3), analytics: g.chance(0.6), v: 2 }))}`)
  if (g.chance(0.25)) parts.push(`recent=${encodeURIComponent(g.some(ctx.packages, 1, 4).join(','))}`)
  if (g.chance(0.2)) parts.push(`lang=${g.pick(['en', 'fr', 'de', 'es', 'pt-BR', 'ja'])}`)
  return parts.join('; ')
}

type Client = 'browser' | 'cli'

function headers(g: Gen, ctx: Ctx, opts: { client?: Client; auth?: boolean; contentType?: string } = {}): Record<string, string> {
  const client = opts.client ?? (g.chance(0.75) ? 'browser' : 'cli')
  const h: Record<string, string> = { host: 'api.example.com' }
  if (client === 'browser') {
    h['user-agent'] = g.pick(BROWSERS)
    h['accept'] = 'application/json, text/plain, */*'
    h['accept-language'] = g.pick(LANGS)
    h['accept-encoding'] = 'gzip, deflate, br'
    if (g.chance(0.6)) h['referer'] = g.chance(0.3) ? g.pick(ctx.referers) : 'https://app.example.com' + g.pick(APP_PAGES)
    if (g.chance(0.5)) h['origin'] = 'https://app.example.com'
    if (g.chance(0.45)) h['cookie'] = cookieHeader(g, ctx)
  } else {
    h['user-agent'] = g.pick(ctx.agents)
    h['accept'] = g.pick(['*/*', 'application/json', 'application/vnd.api+json, application/json'])
  }
  if (opts.auth !== false && g.chance(client === 'cli' ? 0.8 : 0.3))
    h['authorization'] = g.chance(0.1) ? 'Bearer ' + jwt(g) : g.chance(0.5) ? 'Bearer ' + base64url(g, 30) : `token ${g.hex(40)}`
  if (g.chance(0.1)) h['x-request-id'] = g.uuid()
  if (opts.contentType !== undefined) h['content-type'] = opts.contentType
  return h
}

/** Python's json.dumps: `", "` and `": "` separators, every non-ASCII character escaped. */
function pyDumps(v: unknown): string {
  return JSON.stringify(v, null, 1)
    .replace(/\n\s*/g, ' ')
    .replace(/([[{]) /g, '$1')
    .replace(/ ([\]}])/g, '$1')
    .replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}

function jsonRequest(g: Gen, ctx: Ctx, method: string, path: string, doc: unknown, client?: Client): EfficacyRequest {
  // a fifth of clients serialise as Python does (`ensure_ascii`: é as \u00e9)
  const py = g.chance(0.2)
  const opts: { client?: Client; contentType: string } = { contentType: g.chance(0.9) ? 'application/json' : 'application/json; charset=utf-8' }
  if (client !== undefined) opts.client = client
  return { method, path, headers: headers(g, ctx, opts), body: py ? pyDumps(doc) : JSON.stringify(doc) }
}

function formRequest(g: Gen, ctx: Ctx, method: string, path: string, fields: Record<string, string>, client: Client = 'browser'): EfficacyRequest {
  const h = headers(g, ctx, { client, contentType: 'application/x-www-form-urlencoded' })
  // a browser sends a textarea's line breaks as CRLF (the HTML form submission algorithm)
  const values = client === 'browser' ? Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.replace(/\r?\n/g, '\r\n')])) : fields
  return { method, path, headers: h, body: new URLSearchParams(values).toString() }
}

function multipartRequest(
  g: Gen,
  ctx: Ctx,
  path: string,
  fields: ReadonlyArray<{ name: string; value: string; filename?: string; contentType?: string }>,
): EfficacyRequest {
  const boundary = g.chance(0.6)
    ? '----WebKitFormBoundary' + base64url(g, 12).replace(/[-_]/g, 'x').slice(0, 16)
    : '--------------------------' + String(g.int(100000000, 999999999)) + String(g.int(100000000, 999999999))
  return { method: 'POST', path, headers: headers(g, ctx, { contentType: `multipart/form-data; boundary=${boundary}` }), body: multipartBody(boundary, fields) }
}

/** A URL query: a browser form's `+` for spaces, or fetch's `%20` */
function query(g: Gen, params: Record<string, string>): string {
  if (g.chance(0.5)) return new URLSearchParams(params).toString()
  return Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&')
}

/**
 * A package name as path segments: `@scope/name` keeps its slash (an encoded one, `%2F`, is
 * refused by the gateway before the WAF: not what this corpus measures).
 */
function seg(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/')
}

function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'page'
  )
}

function ascii(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ł/g, 'l')
    .replace(/Ł/g, 'L')
    .replace(/ø/g, 'o')
    .replace(/ß/g, 'ss')
    .replace(/æ/g, 'ae')
    .replace(/[^\x20-\x7e]/g, '')
}

/** An address at an example domain made from a name (never a real person's address) */
function emailFor(g: Gen, name: string): string {
  const parts = ascii(name)
    .toLowerCase()
    .replace(/\([^)]*\)/g, '')
    .split(/\s+/)
    .filter((w) => w !== '')
  const keepQuote = g.chance(0.5)
  const local = (g.chance(0.6) ? [parts[0], parts[parts.length - 1]].join('.') : (parts[0]?.[0] ?? 'x') + (parts[parts.length - 1] ?? '')).replace(
    keepQuote ? /[^a-z0-9.'-]/g : /[^a-z0-9.-]/g,
    '',
  )
  return `${local || 'user'}${g.chance(0.15) ? '+' + g.pick(['news', 'work', 'git']) : ''}@${g.pick(DOMAINS)}`
}

function loginFor(g: Gen, name: string): string {
  const parts = ascii(name)
    .toLowerCase()
    .replace(/[^a-z ]/g, '')
    .split(/\s+/)
    .filter((w) => w !== '')
  return g.pick([parts.join('.'), (parts[0]?.[0] ?? '') + (parts[parts.length - 1] ?? ''), parts.join('_'), `${parts[0] ?? 'user'}${g.int(1, 99)}`])
}

const LANG_EXT: Readonly<Record<string, string>> = {
  js: 'js',
  javascript: 'js',
  ts: 'ts',
  typescript: 'ts',
  sh: 'sh',
  bash: 'sh',
  shell: 'sh',
  console: 'sh',
  python: 'py',
  py: 'py',
  json: 'json',
  yaml: 'yml',
  yml: 'yml',
  c: 'c',
  html: 'html',
  css: 'css',
  sql: 'sql',
  diff: 'diff',
  jsx: 'jsx',
  tsx: 'tsx',
  text: 'txt',
  '': 'txt',
}

// ---------------------------------------------------------------- families

type Made = { source: string; shape: string; request: EfficacyRequest }
type Texts = ReturnType<typeof texts>

/** The pieces a family draws from, shuffled with its own generator; cycled when they run out. */
function draw<T>(g: Gen, xs: readonly T[], n: number): T[] {
  if (xs.length === 0) return []
  const order = g.shuffle(xs)
  const out: T[] = []
  for (let i = 0; i < n; i++) out.push(order[i % order.length] as T)
  return out
}

function ciSteps(g: Gen, ctx: Ctx, t: Texts, n: number): Made[] {
  const byPkg = new Map<string, Piece[]>()
  for (const s of t.scripts) {
    const k = s.extra?.['pkg'] ?? ''
    let l = byPkg.get(k)
    if (l === undefined) byPkg.set(k, (l = []))
    l.push(s)
  }
  return draw(g, t.scripts, n).map((s) => {
    const siblings = (byPkg.get(s.extra?.['pkg'] ?? '') ?? []).filter((x) => x !== s)
    const more = [s, ...g.some(siblings, 0, Math.min(3, siblings.length))]
    const project = slug(s.extra?.['pkg'] ?? 'project')
    switch (g.int(0, 3)) {
      case 0: {
        const steps: Array<Record<string, unknown>> = [
          { uses: 'actions/checkout@v4' },
          { uses: 'actions/setup-node@v4', with: { 'node-version': g.pick([18, 20, 22]), cache: 'npm' } },
          { name: 'Install', run: 'npm ci' },
        ]
        for (const m of more) steps.push({ name: m.title, run: m.text })
        const doc = {
          name: 'CI',
          on: { push: { branches: ['main'] }, pull_request: {} },
          jobs: { [g.pick(['build', 'test', 'ci', 'lint'])]: { 'runs-on': g.pick(['ubuntu-latest', 'ubuntu-22.04', 'macos-14']), steps } },
        }
        return { source: s.source, shape: 'json:workflow', request: jsonRequest(g, ctx, 'PUT', `/api/v1/projects/${project}/workflows/ci.yml`, doc) }
      }
      case 1:
        return {
          source: s.source,
          shape: 'json:step',
          request: jsonRequest(
            g,
            ctx,
            'POST',
            `/api/pipelines/${g.int(1000, 99999)}/steps`,
            {
              name: s.title,
              run: s.text,
              shell: g.pick(['bash', 'sh']),
              env: { CI: 'true', NODE_ENV: g.pick(['test', 'production']) },
              timeout_minutes: g.pick([10, 15, 30]),
            },
            'cli',
          ),
        }
      case 2:
        return {
          source: s.source,
          shape: 'json:scripts',
          request: jsonRequest(g, ctx, 'PATCH', `/api/projects/${project}/settings`, { scripts: Object.fromEntries(more.map((m) => [m.title, m.text])) }),
        }
      default:
        return {
          source: s.source,
          shape: 'json:gitlab-job',
          request: jsonRequest(
            g,
            ctx,
            'POST',
            `/api/v4/projects/${g.int(100, 99999)}/ci/lint`,
            {
              content: {
                stages: ['test'],
                [s.title.replace(/[^\w-]/g, '_') || 'job']: {
                  stage: 'test',
                  image: `node:${g.pick([18, 20, 22])}`,
                  script: ['npm ci', ...more.map((m) => m.text)],
                },
              },
            },
            'cli',
          ),
        }
    }
  })
}

function codeSnippets(g: Gen, ctx: Ctx, t: Texts, n: number): Made[] {
  return draw(g, t.code, n).map((c) => {
    const language = c.extra?.['language'] ?? ''
    const ext = LANG_EXT[language] ?? (language.replace(/[^a-z0-9]/g, '').slice(0, 6) || 'txt')
    switch (g.int(0, 3)) {
      case 0:
        return {
          source: c.source,
          shape: 'json:snippet',
          request: jsonRequest(g, ctx, 'POST', '/api/snippets', {
            title: c.title,
            language: language || 'text',
            code: c.text,
            visibility: g.pick(['public', 'private', 'internal']),
          }),
        }
      case 1:
        return {
          source: c.source,
          shape: 'json:gist',
          request: jsonRequest(
            g,
            ctx,
            'POST',
            '/api/gists',
            { description: c.title, public: g.chance(0.5), files: { [`example.${ext}`]: { content: c.text } } },
            'cli',
          ),
        }
      case 2:
        return {
          source: c.source,
          shape: 'json:question',
          request: jsonRequest(g, ctx, 'POST', '/api/questions', {
            title: `How do I use ${c.title}?`.slice(0, 150),
            body: `This is what I have:\n\n\`\`\`${language}\n${c.text}\n\`\`\``,
            tags: [language || 'code'],
          }),
        }
      default:
        return {
          source: c.source,
          shape: 'form:paste',
          request: formRequest(g, ctx, 'POST', '/paste', { title: c.title, syntax: language || 'text', expiry: g.pick(['1d', '1w', 'never']), code: c.text }),
        }
    }
  })
}

function changelog(g: Gen, ctx: Ctx, t: Texts, n: number): Made[] {
  const half = Math.floor(n / 2)
  const whole = draw(g, t.entries, half).map((e): Made => {
    const tag = /\(([^)]*)\)/.exec(e.title)?.[1] ?? /\d+\.\d+[\w.-]*/.exec(e.text)?.[0] ?? `v${g.int(0, 9)}.${g.int(0, 30)}.${g.int(0, 9)}`
    const repo = slug(e.extra?.['pkg'] ?? 'project')
    if (g.chance(0.75))
      return {
        source: e.source,
        shape: 'json:release',
        request: jsonRequest(
          g,
          ctx,
          'POST',
          `/api/repos/${repo}/${repo}/releases`,
          { tag_name: tag, name: e.title, body: e.text, draft: false, prerelease: g.chance(0.1) },
          g.chance(0.5) ? 'cli' : 'browser',
        ),
      }
    return {
      source: e.source,
      shape: 'form:release-notes',
      request: formRequest(g, ctx, 'POST', `/projects/${repo}/releases`, { version: tag, notes: e.text, publish: 'on' }),
    }
  })
  const lines = draw(g, t.lines, n - half).map((l): Made => {
    switch (g.int(0, 2)) {
      case 0:
        return {
          source: l.source,
          shape: 'json:change',
          request: jsonRequest(g, ctx, 'POST', `/api/projects/${slug(l.extra?.['pkg'] ?? 'p')}/changes`, {
            type: g.pick(['fixed', 'changed', 'added', 'security', 'removed']),
            message: l.text,
          }),
        }
      case 1:
        return {
          source: l.source,
          shape: 'json:commit',
          request: jsonRequest(
            g,
            ctx,
            'POST',
            `/api/repos/${slug(l.extra?.['pkg'] ?? 'p')}/commits`,
            { message: l.text, branch: g.pick(['main', 'master', 'debian/sid', 'release']), author: { name: 'CI', email: 'ci@example.com' } },
            'cli',
          ),
        }
      default:
        return {
          source: l.source,
          shape: 'query:changes',
          request: {
            method: 'GET',
            path: `/api/changes?${query(g, { q: l.text.slice(0, 200), project: slug(l.extra?.['pkg'] ?? 'p') })}`,
            headers: headers(g, ctx),
          },
        }
    }
  })
  // entries then lines, interleaved by the draw order
  return g.shuffle([...whole, ...lines])
}

function readmeMarkdown(g: Gen, ctx: Ctx, t: Texts, n: number): Made[] {
  return draw(g, t.readmeSections, n).map((s) => {
    switch (g.int(0, 3)) {
      case 0:
        return {
          source: s.source,
          shape: 'json:post',
          request: jsonRequest(g, ctx, 'POST', '/api/posts', { title: s.title, body: s.text, format: 'markdown', tags: [slug(s.extra?.['pkg'] ?? 'docs')] }),
        }
      case 1:
        return {
          source: s.source,
          shape: 'json:wiki',
          request: jsonRequest(g, ctx, 'PUT', `/api/wiki/${slug(s.extra?.['pkg'] ?? 'wiki')}/pages/${slug(s.title)}`, {
            content: s.text,
            message: `Update ${s.title}`.slice(0, 100),
          }),
        }
      case 2:
        return {
          source: s.source,
          shape: 'json:issue',
          request: jsonRequest(
            g,
            ctx,
            'POST',
            `/api/repos/${slug(s.extra?.['pkg'] ?? 'p')}/issues`,
            { title: `Docs: ${s.title}`.slice(0, 120), body: s.text, labels: ['documentation'] },
            'cli',
          ),
        }
      default:
        return {
          source: s.source,
          shape: 'form:comment',
          request: formRequest(g, ctx, 'POST', `/posts/${g.int(1, 99999)}/comments`, { body: s.text, format: 'markdown' }),
        }
    }
  })
}

function manPages(g: Gen, ctx: Ctx, t: Texts, n: number): Made[] {
  const half = Math.floor(n / 2)
  const sections = draw(g, t.manSections, half).map((s): Made => {
    const name = s.extra?.['name'] ?? 'page'
    return {
      source: s.source,
      shape: 'json:doc',
      request: jsonRequest(g, ctx, 'PUT', `/api/docs/man/${encodeURIComponent(s.extra?.['section'] ?? '1')}/${encodeURIComponent(name)}`, {
        title: s.title,
        lang: s.extra?.['lang'] ?? 'en',
        heading: s.extra?.['heading'] ?? '',
        body: s.text,
      }),
    }
  })
  const paras = draw(g, t.manParas, n - half).map((p): Made => {
    if (g.chance(0.6))
      return {
        source: p.source,
        shape: 'json:annotation',
        request: jsonRequest(g, ctx, 'POST', '/api/annotations', { document: p.title, quote: p.text, note: g.pick(['', 'see also', 'outdated?', 'nice']) }),
      }
    return { source: p.source, shape: 'form:comment', request: formRequest(g, ctx, 'POST', '/docs/comments', { page: p.title, text: p.text }) }
  })
  return g.shuffle([...sections, ...paras])
}

function docstrings(g: Gen, ctx: Ctx, t: Texts, n: number): Made[] {
  return draw(g, t.docs, n).map((d) => {
    const module = d.extra?.['module'] ?? 'module'
    const symbol = /^(?:async\s+)?(?:def|class)\s+(\w+)/.exec(d.extra?.['owner'] ?? '')?.[1] ?? ''
    switch (g.int(0, 2)) {
      case 0:
        return {
          source: d.source,
          shape: 'json:doc',
          request: jsonRequest(
            g,
            ctx,
            'PUT',
            `/api/docs/python/${encodeURIComponent(module)}${symbol === '' ? '' : '/' + symbol}`,
            { module, symbol, signature: d.extra?.['owner'] ?? '', docstring: d.text },
            'cli',
          ),
        }
      case 1:
        return {
          source: d.source,
          shape: 'json:notebook-cell',
          request: jsonRequest(g, ctx, 'PATCH', `/api/contents/notebooks/${g.uuid()}.ipynb`, {
            cells: [{ cell_type: 'markdown', metadata: {}, source: d.text.split(/(?<=\n)/) }],
            nbformat: 4,
            nbformat_minor: 5,
          }),
        }
      default:
        return {
          source: d.source,
          shape: 'form:comment',
          request: formRequest(g, ctx, 'POST', '/review/comments', { file: module.replace(/\./g, '/') + '.py', comment: d.text }),
        }
    }
  })
}

function namesBios(g: Gen, ctx: Ctx, t: Texts, n: number): Made[] {
  const quoted = t.names.filter((x) => /'/.test(x.text))
  const marked = t.names.filter((x) => /[^\x00-\x7f]/.test(x.text) && !/'/.test(x.text))
  const rest = t.names.filter((x) => /^[\x00-\x7f]*$/.test(x.text) && !/'/.test(x.text))
  // a quarter of the names carry an apostrophe, a third diacritics: the cases that trip WAFs
  const nq = Math.floor(n / 4)
  const nm = Math.floor(n / 3)
  const names = [...draw(g, quoted, nq), ...draw(g, marked, nm), ...draw(g, rest, n - nq - nm)]
  const bios = draw(g, t.prose, n)
  return g.shuffle(names).map((p, i) => {
    const bio = bios[i] as Piece
    const source = `${p.source} + ${bio.source}`
    switch (g.int(0, 2)) {
      case 0: {
        const doc: Record<string, unknown> = { name: p.text, displayName: p.text.split(' ')[0], bio: bio.text }
        if (g.chance(0.5)) doc['website'] = g.pick(t.urls).text
        if (g.chance(0.4))
          doc['location'] = g.pick(['Dublin, Ireland', 'Montréal, QC', 'São Paulo', 'Zürich', 'Kraków', "Coeur d'Alene, ID", 'Tokyo', 'Berlin'])
        return { source, shape: 'json:profile', request: jsonRequest(g, ctx, 'PATCH', `/api/users/${g.uuid()}`, doc) }
      }
      case 1:
        return {
          source,
          shape: 'form:signup',
          request: formRequest(g, ctx, 'POST', '/signup', { full_name: p.text, email: emailFor(g, p.text), about: bio.text, terms: 'on' }),
        }
      default:
        return {
          source,
          shape: 'json:author',
          request: jsonRequest(g, ctx, 'POST', '/api/authors', { name: p.text, sortName: p.text.split(' ').reverse().join(', '), about: bio.text }),
        }
    }
  })
}

function uploads(g: Gen, ctx: Ctx, t: Texts, n: number): Made[] {
  // text files as they are: changelog entries, README sections, man page sections, docstrings
  const files: Array<Piece & { filename: string }> = [
    ...t.entries.map((e) => ({
      ...e,
      filename: /changelog\.Debian/.test(e.source) ? 'changelog.Debian' : (/\/([^/:]+?)(\.gz)?$/.exec(e.source)?.[1] ?? 'CHANGELOG.md'),
    })),
    ...t.readmeSections.map((s) => ({ ...s, filename: /\/([^/:]+?)(\.gz)?$/.exec(s.source)?.[1] ?? 'README.md' })),
    ...t.manSections.map((s) => ({ ...s, filename: `${s.extra?.['name'] ?? 'page'}.${s.extra?.['section'] ?? '1'}.txt` })),
    ...t.docs.map((d) => ({ ...d, filename: `${d.extra?.['module'] ?? 'module'}.txt` })),
  ]
  return draw(g, files, n).map((f) => {
    const filename = ascii(f.filename).replace(/[^\w.@+-]/g, '_')
    const textType = /\.md$/i.test(filename) ? 'text/markdown' : 'text/plain'
    switch (g.int(0, 2)) {
      case 0:
        return {
          source: f.source,
          shape: 'multipart:file',
          request: multipartRequest(g, ctx, '/api/files', [
            { name: 'description', value: f.title },
            { name: 'folder', value: g.pick(['docs', 'notes', 'imports', 'release']) },
            { name: 'file', filename, contentType: textType, value: f.text },
          ]),
        }
      case 1:
        return {
          source: f.source,
          shape: 'text:put',
          request: {
            method: 'PUT',
            path: `/api/files/${encodeURIComponent(filename)}`,
            headers: headers(g, ctx, { client: 'cli', contentType: `${textType}; charset=utf-8` }),
            body: f.text,
          },
        }
      default:
        return {
          source: f.source,
          shape: 'json:file',
          request: jsonRequest(g, ctx, 'POST', '/api/uploads', { filename, contentType: textType, encoding: 'utf-8', content: f.text }),
        }
    }
  })
}

function passphrase(g: Gen, words: readonly string[]): string {
  const ws = Array.from({ length: g.int(3, 5) }, () => g.pick(words))
  switch (g.int(0, 3)) {
    case 0:
      return ws.join('-')
    case 1:
      return ws.join(' ')
    case 2:
      return ws.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('') + g.int(0, 99)
    default:
      return ws.join(g.pick(['.', '_', '+', '!'])) + g.pick(['!', '?', '#', '&', '*', '%', '$', '']) + g.int(1, 2025)
  }
}

function loginForms(g: Gen, ctx: Ctx, t: Texts, words: readonly string[], n: number): Made[] {
  return draw(g, t.names, n).map((p) => {
    const r = g.next()
    const password =
      r < 0.5
        ? randomPassword(g)
        : r < 0.8
          ? passphrase(g, words)
          : g.pick(words)[0]!.toUpperCase() + g.pick(words).slice(1) + g.int(1, 9999) + g.pick(['!', '#', '$', '%', '&', '*', '?', '@', "'", '"', ';', ')'])
    const source = `${p.source} + generated:password seed=0x${seed.toString(16)}`
    switch (g.int(0, 3)) {
      case 0:
        return {
          source,
          shape: 'form:login',
          request: formRequest(g, ctx, 'POST', '/login', {
            username: g.chance(0.5) ? loginFor(g, p.text) : emailFor(g, p.text),
            password,
            csrf_token: base64url(g, 32),
            remember: 'on',
            next: g.pick(APP_PAGES),
          }),
        }
      case 1:
        return {
          source,
          shape: 'json:login',
          request: jsonRequest(g, ctx, 'POST', '/api/auth/login', { email: emailFor(g, p.text), password, rememberMe: g.chance(0.5) }),
        }
      case 2:
        return {
          source,
          shape: 'form:oauth-password',
          request: formRequest(
            g,
            ctx,
            'POST',
            '/oauth/token',
            {
              grant_type: 'password',
              username: emailFor(g, p.text),
              password,
              client_id: g.pick(['web', 'cli', 'mobile-app']),
              scope: g.pick(['openid profile', 'read write', 'packages:read']),
            },
            'cli',
          ),
        }
      default:
        return {
          source,
          shape: 'json:register',
          request: jsonRequest(g, ctx, 'POST', '/api/auth/register', {
            name: p.text,
            email: emailFor(g, p.text),
            password,
            password_confirmation: password,
            acceptTerms: true,
          }),
        }
    }
  })
}

/** A manifest as a registry would receive it: the package.json without npm's own `_` fields. */
function npmManifest(m: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(m)) if (!k.startsWith('_') && k !== 'readme' && k !== 'gitHead') out[k] = v
  return out
}

function manifests(g: Gen, ctx: Ctx, h: Harvest, n: number): Made[] {
  const items: Array<() => Made> = []
  for (const p of h.npm) {
    const source = npmSource(p, 'package.json')
    const doc = npmManifest(p.manifest)
    if (attackDemo(JSON.stringify(doc)) !== null) continue
    items.push(() =>
      g.chance(0.8)
        ? { source, shape: 'json:package.json', request: jsonRequest(g, ctx, 'PUT', `/api/registry/${seg(p.name)}`, doc, 'cli') }
        : {
            source,
            shape: 'multipart:package.json',
            request: multipartRequest(g, ctx, `/api/registry/${seg(p.name)}/versions`, [
              { name: 'name', value: p.name },
              { name: 'version', value: p.version },
              { name: 'description', value: p.description },
              { name: 'manifest', filename: 'package.json', contentType: 'application/json', value: JSON.stringify(doc, null, 2) },
            ]),
          },
    )
  }
  for (const m of h.python.meta) {
    const f = m.fields
    const doc = {
      name: m.name,
      version: f['Version'] ?? '',
      summary: f['Summary'] ?? '',
      home_page: f['Home-page'] ?? '',
      author: f['Author'] ?? '',
      license: f['License'] ?? '',
      classifiers: f['Classifier'] ?? [],
      requires_dist: f['Requires-Dist'] ?? [],
      description: m.description.slice(0, 4000),
    }
    if (attackDemo(JSON.stringify(doc)) !== null) continue
    items.push(() => ({
      source: m.source,
      shape: 'json:python-metadata',
      request: jsonRequest(g, ctx, 'POST', `/api/python/${encodeURIComponent(m.name)}/upload`, doc, 'cli'),
    }))
  }
  for (const p of h.dpkg.packages) {
    const f = p.fields
    const doc = {
      package: p.name,
      version: f['Version'] ?? '',
      architecture: f['Architecture'] ?? '',
      maintainer: f['Maintainer'] ?? '',
      depends: f['Depends'] ?? '',
      section: f['Section'] ?? '',
      homepage: f['Homepage'] ?? '',
      description: f['Description'] ?? '',
    }
    if (attackDemo(JSON.stringify(doc)) !== null) continue
    items.push(() => ({
      source: `debian:${p.name}:/var/lib/dpkg/status`,
      shape: 'json:deb-control',
      request: jsonRequest(g, ctx, 'POST', '/api/debian/packages', doc, 'cli'),
    }))
  }
  return draw(g, items, Math.min(n, items.length)).map((f) => f())
}

function searchQueries(g: Gen, ctx: Ctx, t: Texts, n: number): Made[] {
  return draw(g, t.queries, n).map((q) => {
    switch (g.int(0, 3)) {
      case 0:
        return {
          source: q.source,
          shape: 'query:search',
          request: {
            method: 'GET',
            path: `/api/search?${query(g, g.chance(0.5) ? { q: q.text } : { q: q.text, page: String(g.int(1, 20)), sort: g.pick(['relevance', 'downloads', 'updated']) })}`,
            headers: headers(g, ctx, { client: 'browser' }),
          },
        }
      case 1:
        return {
          source: q.source,
          shape: 'query:registry',
          request: {
            method: 'GET',
            path: `/-/v1/search?${query(g, { text: q.text, size: '20', from: String(g.int(0, 5) * 20) })}`,
            headers: headers(g, ctx, { client: 'cli' }),
          },
        }
      case 2:
        return {
          source: q.source,
          shape: 'query:autocomplete',
          request: {
            method: 'GET',
            path: `/api/suggest?${query(g, { prefix: q.text.slice(0, g.int(3, Math.max(3, q.text.length))), limit: '10' })}`,
            headers: headers(g, ctx, { client: 'browser' }),
          },
        }
      default:
        return {
          source: q.source,
          shape: 'json:search',
          request: jsonRequest(g, ctx, 'POST', '/api/search', { query: q.text, filters: { type: g.pick(['package', 'doc', 'any']) }, limit: 25 }),
        }
    }
  })
}

function headerFamily(g: Gen, ctx: Ctx, t: Texts, n: number): Made[] {
  return draw(g, t.urls, n).map((u) => {
    const h = headers(g, ctx, { client: 'browser' })
    const pkg = u.title
    switch (g.int(0, 3)) {
      case 0:
        h['referer'] = u.text
        return { source: u.source, shape: 'header:referer', request: { method: 'GET', path: `/api/packages/${seg(pkg)}`, headers: h } }
      case 1: {
        // a search engine's result page sent us here: the package's description in its query
        const desc = t.queries.find((q) => q.title === pkg)?.text ?? pkg
        h['referer'] = `https://www.google.com/search?${new URLSearchParams({ q: desc }).toString()}`
        return { source: u.source, shape: 'header:search-referer', request: { method: 'GET', path: `/packages/${seg(pkg)}`, headers: h } }
      }
      case 2:
        h['cookie'] = `${cookieHeader(g, ctx)}; last_url=${encodeURIComponent(u.text)}; viewed=${encodeURIComponent(pkg)}`
        return { source: u.source, shape: 'header:cookie', request: { method: 'GET', path: '/api/recommendations', headers: h } }
      default: {
        const c = headers(g, ctx, { client: 'cli' })
        c['user-agent'] = `${g.pick(ctx.agents)} (+${u.text})`
        c['link'] = `<${u.text}>; rel="homepage"`
        return { source: u.source, shape: 'header:user-agent', request: { method: 'GET', path: `/api/packages/${seg(pkg)}/versions`, headers: c } }
      }
    }
  })
}

function passwords(g: Gen, ctx: Ctx, n: number): Made[] {
  const source = `generated:passwords seed=0x${seed.toString(16)}`
  return Array.from({ length: n }, () => {
    const password = randomPassword(g)
    const email = `user${g.int(1, 99999)}@${g.pick(DOMAINS)}`
    switch (g.int(0, 3)) {
      case 0:
        return { source, shape: 'json:password', request: jsonRequest(g, ctx, 'POST', '/api/auth/login', { email, password }) }
      case 1:
        return { source, shape: 'form:password', request: formRequest(g, ctx, 'POST', '/login', { username: email, password }) }
      case 2:
        return {
          source,
          shape: 'json:change-password',
          request: jsonRequest(g, ctx, 'POST', '/api/account/password', { current_password: randomPassword(g), password, password_confirmation: password }),
        }
      default:
        return {
          source,
          shape: 'json:vault-item',
          request: jsonRequest(g, ctx, 'POST', '/api/vault/items', {
            name: g.pick(['Email', 'Bank', 'Router admin', 'Work VPN', 'Registry token']),
            username: email,
            password,
            url: 'https://login.example.com/',
          }),
        }
    }
  })
}

const KEY_PREFIXES = ['ak_live_', 'ak_test_', 'key-', 'api_', 'tok_', 'pat_', 'dbk_']
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

function token(g: Gen): { kind: string; value: string } {
  switch (g.int(0, 6)) {
    case 0:
      return { kind: 'hex', value: g.hex(g.pick([32, 40, 64])) }
    case 1:
      return { kind: 'base64url', value: base64url(g, g.pick([24, 32, 48, 64])) }
    case 2:
      return { kind: 'base64', value: g.bytes(g.pick([16, 32, 33, 48])).toString('base64') }
    case 3:
      return { kind: 'jwt', value: jwt(g) }
    case 4:
      return { kind: 'uuid', value: g.uuid() }
    case 5:
      return { kind: 'api-key', value: g.pick(KEY_PREFIXES) + Array.from({ length: g.int(24, 40) }, () => ALNUM[g.int(0, ALNUM.length - 1)]).join('') }
    default:
      return { kind: 'uuid-compact', value: g.uuid().replace(/-/g, '') }
  }
}

function tokens(g: Gen, ctx: Ctx, n: number): Made[] {
  return Array.from({ length: n }, () => {
    const { kind, value } = token(g)
    const source = `generated:tokens seed=0x${seed.toString(16)}`
    const h = headers(g, ctx, { client: g.chance(0.5) ? 'cli' : 'browser', auth: false })
    switch (g.int(0, 5)) {
      case 0:
        h['authorization'] = `Bearer ${value}`
        return { source, shape: `header:bearer:${kind}`, request: { method: 'GET', path: '/api/me', headers: h } }
      case 1:
        h['x-api-key'] = value
        return { source, shape: `header:api-key:${kind}`, request: { method: 'GET', path: `/api/projects?page=${g.int(1, 9)}`, headers: h } }
      case 2:
        return {
          source,
          shape: `query:${kind}`,
          request: {
            method: 'GET',
            path: `/api/exports/${g.uuid()}?${query(g, { [g.pick(['access_token', 'token', 'sig', 'key'])]: value, expires: String(1_710_000_000 + g.int(0, 40_000_000)) })}`,
            headers: h,
          },
        }
      case 3:
        h['cookie'] = `${g.pick(['session', 'sid', 'auth_token', '__Host-session'])}=${value}; theme=dark`
        return { source, shape: `cookie:${kind}`, request: { method: 'GET', path: '/api/notifications', headers: h } }
      case 4:
        return { source, shape: `json:${kind}`, request: jsonRequest(g, ctx, 'POST', '/api/tokens/verify', { token: value, type: kind }) }
      default:
        return {
          source,
          shape: `form:${kind}`,
          request: formRequest(g, ctx, 'POST', '/oauth/token', { grant_type: 'refresh_token', refresh_token: value, client_id: 'web' }, 'cli'),
        }
    }
  })
}

// ---------------------------------------------------------------- main

function familySeed(family: string): number {
  return (seed ^ createHash('sha256').update(family).digest().readUInt32LE(0)) >>> 0
}

function main(): void {
  const t0 = Date.now()
  const h = harvest([join(root, 'node_modules'), '/usr/lib/node_modules'])
  const t = texts(h)
  const ctx: Ctx = { agents: clientAgents(h), referers: t.urls.map((u) => u.text), packages: h.npm.map((p) => p.name) }
  const words = h.words
  const made: Record<BenignFamily, Made[]> = {} as Record<BenignFamily, Made[]>
  for (const family of BENIGN_FAMILIES) {
    const g = new Gen(familySeed(family))
    const n = TARGETS[family]
    made[family] = ((): Made[] => {
      switch (family) {
        case 'ci-steps':
          return ciSteps(g, ctx, t, n)
        case 'code-snippets':
          return codeSnippets(g, ctx, t, n)
        case 'changelog':
          return changelog(g, ctx, t, n)
        case 'readme-markdown':
          return readmeMarkdown(g, ctx, t, n)
        case 'man-pages':
          return manPages(g, ctx, t, n)
        case 'docstrings':
          return docstrings(g, ctx, t, n)
        case 'names-bios':
          return namesBios(g, ctx, t, n)
        case 'uploads':
          return uploads(g, ctx, t, n)
        case 'login-forms':
          return loginForms(g, ctx, t, words, n)
        case 'manifests':
          return manifests(g, ctx, h, n)
        case 'search-queries':
          return searchQueries(g, ctx, t, n)
        case 'headers':
          return headerFamily(g, ctx, t, n)
        case 'passwords':
          return passwords(g, ctx, n)
        case 'tokens':
          return tokens(g, ctx, n)
      }
    })()
  }

  // within a family, records from one source sit together: the file compresses far better
  const bySource = (a: Made, b: Made) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0)
  const records: BenignRecord[] = []
  for (const family of BENIGN_FAMILIES)
    [...made[family]]
      .sort(bySource)
      .forEach((m, i) => records.push({ id: `${family}:${String(i).padStart(5, '0')}`, family, source: m.source, shape: m.shape, request: m.request }))
  const jsonl = records.map((r) => JSON.stringify(r)).join('\n') + '\n'
  const gz = gzipSync(Buffer.from(jsonl, 'utf8'), { level: 9 })
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, 'requests.jsonl.gz'), gz)

  // where the records came from, and the licence each source package states
  const origins = new Map<string, { n: number; licence: string }>()
  const originOf = (s: string): string => /^(debian:[^:]+|npm:[^:]+|python:[^:]+|generated:\w+)/.exec(s)?.[1] ?? s
  const licence = (o: string): string => {
    if (o.startsWith('debian:')) return debianLicences(o.slice(7))
    if (o.startsWith('npm:')) return h.npm.find((p) => `npm:${p.name}@${p.version}` === o)?.license ?? 'unknown'
    if (o.startsWith('python:')) return String(h.python.meta.find((m) => m.source.startsWith(o))?.fields['License'] ?? 'unknown')
    return 'generated by build-benign.ts (no third-party text)'
  }
  for (const r of records) {
    for (const part of r.source.split(' + ')) {
      const o = originOf(part)
      const e = origins.get(o)
      if (e === undefined) origins.set(o, { n: 1, licence: '' })
      else e.n++
    }
  }
  const rows = [...origins].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([o, e]) => `${o}\t${e.n}\t${licence(o).replace(/\s+/g, ' ')}`)
  writeFileSync(join(outDir, 'sources.tsv'), 'origin\trecords\tlicence (as the package states it)\n' + rows.join('\n') + '\n')

  // ---- report
  console.log(
    `harvest: ${h.man.length} man pages, ${h.debian.debianEntries.length} Debian changelog entries, ${h.debian.upstreamEntries.length} upstream changelog chunks, ${h.debian.readmes.length} Debian READMEs, ${h.npm.length} npm packages, ${h.python.docs.length} docstrings, ${h.python.meta.length} Python metadata files, ${h.dpkg.packages.length} dpkg packages, ${t.names.length} names, ${words.length} words (${h.dictionary ?? 'no dictionary: man page words'})`,
  )
  console.log(
    `pieces: ${Object.entries(t)
      .map(([k, v]) => `${k} ${v.length}`)
      .join(', ')}`,
  )
  console.log('left out as attack demonstrations:')
  for (const [k, f] of filtered) console.log(`  ${k.padEnd(24)} ${String(f.n).padStart(5)}  e.g. ${f.example}`)
  for (const family of BENIGN_FAMILIES) {
    const shapes = new Map<string, number>()
    for (const m of made[family]) {
      const k = m.shape.replace(/:(hex|base64url|base64|jwt|uuid|api-key|uuid-compact)$/, '')
      shapes.set(k, (shapes.get(k) ?? 0) + 1)
    }
    console.log(`${family.padEnd(16)} ${String(made[family].length).padStart(6)}  ${[...shapes].map(([s, c]) => `${s} ${c}`).join(', ')}`)
  }
  console.log(
    `${records.length} records, ${(jsonl.length / 1048576).toFixed(1)} MiB of JSON lines, ${(gz.length / 1048576).toFixed(2)} MiB gzipped, sha256 ${createHash('sha256').update(gz).digest('hex').slice(0, 16)}; ${origins.size} origins in sources.tsv; ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  )
}

main()
