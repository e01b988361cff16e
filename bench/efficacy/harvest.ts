/**
 * Real-world text for the benign corpus (build-benign.ts), read from this machine: man pages
 * (roff stripped), Debian changelogs and READMEs, the package manifests, READMEs and changelogs
 * of installed npm packages, Python docstrings and package metadata, dpkg's package descriptions,
 * and the names of the people in changelogs, copyright files and manifests.
 *
 * Everything is read in a sorted order and capped per package, so one build of one machine is
 * reproducible. Text that is itself an attack demonstration (a README showing an XSS payload)
 * is left out by `attackDemo` and counted per kind of source.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'

// ---------------------------------------------------------------- helpers

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort(byName)
  } catch {
    return []
  }
}

function isFile(p: string): boolean {
  try {
    return lstatSync(p).isFile()
  } catch {
    return false
  }
}

function isDir(p: string): boolean {
  try {
    return lstatSync(p).isDirectory()
  } catch {
    return false
  }
}

/** UTF-8 where it decodes, Latin-1 otherwise (old man pages and changelogs). */
export function decode(buf: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf)
  } catch {
    return buf.toString('latin1')
  }
}

/** A text file, gunzipped when it ends in .gz; null when unreadable or binary. */
export function readText(path: string, maxBytes = 4 << 20): string | null {
  let buf: Buffer
  try {
    buf = readFileSync(path)
    if (path.endsWith('.gz')) buf = gunzipSync(buf, { maxOutputLength: maxBytes })
  } catch {
    return null
  }
  if (buf.length > maxBytes || buf.subarray(0, 4096).includes(0)) return null
  return decode(buf).replace(/\r\n?/g, '\n')
}

/** `n` items spread evenly over a sorted list: a sample that is the same on every run. */
export function spread<T>(xs: readonly T[], n: number): T[] {
  if (xs.length <= n) return [...xs]
  const out: T[] = []
  for (let i = 0; i < n; i++) out.push(xs[Math.floor((i * xs.length) / n)] as T)
  return out
}

/** Control characters other than tab and newline: none of them in the corpus. */
export function clean(s: string): string {
  return s
    .replace(/[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]/g, '')
    .replace(/[ \t]+\n/g, '\n')
    .trim()
}

// ---------------------------------------------------------------- attack demonstrations

/**
 * Payload markers that are an attack demonstration by themselves: a script tag that alerts, an
 * event handler that alerts, `' or '1'='1`, `UNION SELECT NULL`, a JNDI lookup, `{{7*7}}`,
 * a deep `../` to /etc/passwd, an external XML entity.
 */
const strongMarkers: readonly RegExp[] = [
  /<script\b[^>]*>[\s\S]{0,80}?\b(alert|prompt|confirm|document\.cookie)\b/i,
  /\bon(error|load|mouseover|focus|click)\s*=\s*["']?\s*(alert|prompt|confirm|eval)\b/i,
  /javascript:\s*(alert|prompt|confirm|eval)\s*\(/i,
  /'\s*or\s+'?1'?\s*=\s*'?1/i,
  /\bunion\s+(all\s+)?select\s+(null\b|\d+\s*,|@@|user\s*\(|version\s*\()/i,
  /\$\{jndi:/i,
  /\{\{\s*7\s*\*\s*7\s*\}\}/,
  /(\.\.\/){3,}(etc\/(passwd|shadow)|windows\/win\.ini)/i,
  /<!ENTITY\s+\S+\s+SYSTEM\b/i,
]
/** Words that say a text is about attacks... */
const attackWords =
  /\b(sql[- ]injections?|xss|cross[- ]site[- ]scripting|injection attacks?|exploit(s|ed|ing)?|payloads?|shellcode|path traversal|directory traversal)\b/i
/** ...and markers that, next to them, make it a demonstration. */
const weakMarkers = /<script|\bon(error|load)\s*=|\/etc\/passwd|\bunion\s+select\b|\bor\s+1\s*=\s*1\b|\balert\s*\(|document\.cookie|<iframe|<svg[^>]*onload/i

/** Percent-escapes decoded where they decode (a test URL in a README: `?a=%3Cscript%3E...`). */
function percentDecoded(text: string): string {
  if (!/%[0-9a-f]{2}/i.test(text)) return text
  return text.replace(/(?:%[0-9a-f]{2})+/gi, (m) => {
    try {
      return decodeURIComponent(m)
    } catch {
      return m
    }
  })
}

/** Why a piece of text is an attack demonstration, or null when it is not one. */
export function attackDemo(text: string): string | null {
  for (const t of new Set([text, percentDecoded(text)])) {
    for (const re of strongMarkers) if (re.test(t)) return 'payload marker'
    if (attackWords.test(t) && weakMarkers.test(t)) return 'attack words next to a payload marker'
  }
  return null
}

// ---------------------------------------------------------------- dpkg

export interface DpkgPackage {
  readonly name: string
  readonly fields: Readonly<Record<string, string>>
}

export interface Dpkg {
  /** Installed file -> package */
  readonly owner: ReadonlyMap<string, string>
  readonly packages: readonly DpkgPackage[]
  readonly versions: ReadonlyMap<string, string>
}

export function readDpkg(): Dpkg {
  const owner = new Map<string, string>()
  const info = '/var/lib/dpkg/info'
  for (const f of list(info)) {
    if (!f.endsWith('.list')) continue
    const pkg = f.slice(0, -5).replace(/:.*$/, '')
    const text = readText(join(info, f))
    if (text === null) continue
    for (const line of text.split('\n')) if (line !== '' && !owner.has(line)) owner.set(line, pkg)
  }
  const packages: DpkgPackage[] = []
  const versions = new Map<string, string>()
  const status = readText('/var/lib/dpkg/status', 64 << 20) ?? ''
  for (const para of status.split(/\n\n+/)) {
    const fields: Record<string, string> = {}
    let last = ''
    for (const line of para.split('\n')) {
      if (/^\s/.test(line) && last !== '') fields[last] += '\n' + line
      else {
        const colon = line.indexOf(':')
        if (colon <= 0) continue
        last = line.slice(0, colon)
        fields[last] = line.slice(colon + 1).trim()
      }
    }
    const name = fields['Package']
    if (name === undefined || !/\binstalled$/.test(fields['Status'] ?? '')) continue
    packages.push({ name, fields })
    if (fields['Version'] !== undefined) versions.set(name, fields['Version'])
  }
  packages.sort((a, b) => byName(a.name, b.name))
  return { owner, packages, versions }
}

/** The Debian package that installed a file, through symlinked directories too. */
function ownerOf(dpkg: Dpkg, path: string): string | null {
  const direct = dpkg.owner.get(path)
  if (direct !== undefined) return direct
  // /usr/lib/... may be listed as /lib/... (merged /usr) and the reverse
  const alt = path.startsWith('/usr/') ? path.slice(4) : '/usr' + path
  return dpkg.owner.get(alt) ?? null
}

/**
 * The licences a package's copyright file states: the `License:` short names of a
 * machine-readable (DEP-5) file, or the licence families a free-form one names.
 */
export function debianLicences(pkg: string): string {
  const file = `/usr/share/doc/${pkg}/copyright`
  const text = readText(file)
  if (text === null) return 'unknown (no copyright file)'
  const names = new Set<string>()
  if (/^Format:\s*\S*copyright-format/m.test(text)) {
    for (const m of text.matchAll(/^License:[ \t]*([^\n]+)$/gm)) {
      const v = (m[1] as string).trim()
      if (v.length <= 60 && /^[\w.+ ,()/-]+$/.test(v)) names.add(v)
    }
    if (names.size > 0) return [...names].slice(0, 6).join('; ')
  }
  const families: Array<[RegExp, string]> = [
    [/GNU\s+(Lesser|Library)\s+General\s+Public\s+License|\bLGPL/i, 'LGPL'],
    [/GNU\s+General\s+Public\s+License|\bGPL\b/i, 'GPL'],
    [/Apache\s+License/i, 'Apache'],
    [/\bBSD\b|Redistribution\s+and\s+use\s+in\s+source\s+and\s+binary\s+forms/i, 'BSD-style'],
    [/\bMIT\b|Permission\s+is\s+hereby\s+granted,\s+free\s+of\s+charge/i, 'MIT/Expat-style'],
    [/Artistic\s+License/i, 'Artistic'],
    [/Python\s+Software\s+Foundation|\bPSF\b/i, 'PSF'],
    [/Mozilla\s+Public\s+License|\bMPL\b/i, 'MPL'],
    [/public\s+domain/i, 'public domain'],
    [/GNU\s+Free\s+Documentation\s+License|\bGFDL\b/i, 'GFDL'],
  ]
  for (const [re, name] of families) if (re.test(text)) names.add(name)
  return `${names.size > 0 ? [...names].join('; ') : 'see the file'} (free-form ${file})`
}

// ---------------------------------------------------------------- man pages (roff)

export interface ManPage {
  readonly name: string
  readonly section: string
  readonly lang: string
  /** The NAME line: `ls - list directory contents` */
  readonly title: string
  readonly sections: ReadonlyArray<{ readonly heading: string; readonly paragraphs: readonly string[]; readonly literal: readonly string[] }>
  readonly source: string
  readonly pkg: string
}

const glyphs: Readonly<Record<string, string>> = {
  aq: "'",
  dq: '"',
  lq: '\u201c',
  rq: '\u201d',
  oq: '\u2018',
  cq: '\u2019',
  em: '\u2014',
  en: '\u2013',
  hy: '-',
  bu: '\u2022',
  co: '\u00a9',
  rg: '\u00ae',
  tm: '\u2122',
  ti: '~',
  ha: '^',
  rs: '\\',
  sl: '/',
  Fo: '\u00ab',
  Fc: '\u00bb',
  fo: '\u2039',
  fc: '\u203a',
  pl: '+',
  mi: '-',
  mu: '\u00d7',
  di: '\u00f7',
  eq: '=',
  '<=': '\u2264',
  '>=': '\u2265',
  ga: '`',
  aa: '\u00b4',
  de: '\u00b0',
  '->': '\u2192',
  '<-': '\u2190',
  ua: '\u2191',
  da: '\u2193',
  ss: '\u00df',
  ba: '|',
  or: '|',
  lB: '[',
  rB: ']',
  lC: '{',
  rC: '}',
  la: '\u27e8',
  ra: '\u27e9',
  at: '@',
  sh: '#',
  Do: '$',
  Eu: '\u20ac',
  Po: '\u00a3',
  ct: '\u00a2',
  Ye: '\u00a5',
  sc: '\u00a7',
  ps: '\u00b6',
  dg: '\u2020',
  '12': '\u00bd',
  '14': '\u00bc',
  '34': '\u00be',
  '**': '*',
  ul: '_',
  ru: '_',
  bv: '|',
  br: '|',
  'u+': '+',
  '+-': '\u00b1',
  '!=': '\u2260',
  '==': '\u2261',
  OK: '\u2713',
  'r!': '\u00a1',
  'r?': '\u00bf',
  ae: '\u00e6',
  AE: '\u00c6',
  oe: '\u0153',
  OE: '\u0152',
  '/o': '\u00f8',
  '/O': '\u00d8',
  ao: '\u00e5',
  AO: '\u00c5',
  '-D': '\u00d0',
  Sd: '\u00f0',
  TP: '\u00de',
  Tp: '\u00fe',
  ':y': '\u00ff',
  '.i': '\u0131',
  char39: "'",
  char34: '"',
  char92: '\\',
  char46: '.',
  char45: '-',
  char96: '`',
  char126: '~',
  char94: '^',
}
const accents: Readonly<Record<string, string>> = {
  ':': '\u0308',
  "'": '\u0301',
  '`': '\u0300',
  '^': '\u0302',
  '~': '\u0303',
  ',': '\u0327',
  v: '\u030c',
  o: '\u030a',
}
const strings: Readonly<Record<string, string>> = {
  lq: '\u201c',
  rq: '\u201d',
  Aq: "'",
  aq: "'",
  R: '\u00ae',
  Tm: '\u2122',
  'C+': 'C++',
  Lq: '\u201c',
  Rq: '\u201d',
  ga: '`',
  PI: '\u03c0',
}

function glyph(name: string): string {
  const g = glyphs[name]
  if (g !== undefined) return g
  const u = /^u([0-9A-Fa-f]{4,6})(?:_[0-9A-Fa-f]{4,6})*$/.exec(name)
  if (u !== null) return String.fromCodePoint(parseInt(u[1] as string, 16))
  const c = /^char(\d+)$/.exec(name)
  if (c !== null) return String.fromCodePoint(Number(c[1]))
  if (name.length === 2 && accents[name[0] as string] !== undefined) return (name[1] + (accents[name[0] as string] as string)).normalize('NFC')
  return ''
}

const escape =
  /\\(f(\[[^\]]*\]|\(..|.)|s[+-]?(\d|\(\d\d|\[\d+\])|\*(\[[^\]]*\]|\(..|.)|\[([^\]]*)\]|\((..)|[hvwlLoDbxXRSNZ]'[^']*'|n[+-]?(\[[^\]]*\]|\(..|.)|k.|z.|(.))/g

/** Inline roff escapes to text. */
export function unescapeRoff(s: string): string {
  return s.replace(
    escape,
    (
      m: string,
      _all: string,
      _fn: string | undefined,
      _s: string | undefined,
      str: string | undefined,
      bracket: string | undefined,
      paren: string | undefined,
      _n: string | undefined,
      single: string | undefined,
    ) => {
      if (str !== undefined) {
        const name = str.startsWith('[') ? str.slice(1, -1) : str.startsWith('(') ? str.slice(1) : str
        return strings[name] ?? ''
      }
      if (bracket !== undefined) return glyph(bracket)
      if (paren !== undefined) return glyph(paren)
      if (single !== undefined) {
        switch (single) {
          case '-':
            return '-'
          case 'e':
          case '\\':
            return '\\'
          case ' ':
          case '~':
          case '0':
            return ' '
          case "'":
            return "'"
          case '`':
            return '`'
          case '.':
            return '.'
          case 't':
            return '\t'
          case '&':
          case '|':
          case '^':
          case '%':
          case 'c':
          case ':':
          case '!':
          case ')':
          case ',':
          case '/':
          case 'd':
          case 'u':
          case 'p':
          case 'r':
          case '{':
          case '}':
          case 'a':
            return ''
          default:
            return single
        }
      }
      // fonts, sizes, motions, widths, registers
      return m.startsWith('\\') ? '' : m
    },
  )
}

/** A macro line's arguments, double quotes grouping. */
function macroArgs(rest: string): string[] {
  const out: string[] = []
  const re = /"((?:[^"]|"")*)"?|(\S+)/g
  for (const m of rest.matchAll(re)) out.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : (m[2] as string))
  return out
}

const mdocDrop = new Set([
  'Ar',
  'Cm',
  'Pa',
  'Li',
  'Ev',
  'Va',
  'Ic',
  'Em',
  'Sy',
  'Dv',
  'Er',
  'Fa',
  'Fn',
  'Ft',
  'Ad',
  'Ms',
  'Tn',
  'Ql',
  'Dq',
  'Sq',
  'Qq',
  'Pq',
  'Aq',
  'Bq',
  'Brq',
  'Ek',
  'No',
  'An',
  'Lk',
  'Mt',
  'Cd',
  'Vt',
  'Ot',
  'Fd',
  'In',
  'St',
  'Bx',
  'Ux',
  'At',
  'Nx',
  'Fx',
  'Ox',
  'Bsx',
])
const mdocInline = new Set([...mdocDrop, 'Nm', 'Nd', 'Fl', 'Op', 'Oo', 'Oc', 'Xr', 'Ns', 'Xo', 'Xc', 'Pf'])

/** An mdoc macro line (`.It Fl a Ar file`) to text (`-a file`). */
function mdocLine(tokens: readonly string[], nameMacro: string): string {
  let out = ''
  let noSpace = false
  const push = (s: string) => {
    if (s === '') return
    out += out === '' || noSpace || /^[.,;:)\]]$/.test(s) ? s : ' ' + s
    noSpace = false
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string
    if (t === 'Fl') {
      const next = tokens[i + 1]
      if (next !== undefined && !mdocInline.has(next)) {
        push('-' + next)
        i++
      } else push('-')
    } else if (t === 'Xr') {
      push(`${tokens[i + 1] ?? ''}(${tokens[i + 2] ?? ''})`)
      i += 2
    } else if (t === 'Nm') push(nameMacro)
    else if (t === 'Nd') push('-')
    else if (t === 'Op' || t === 'Oo') push('[')
    else if (t === 'Oc') push(']')
    else if (t === 'Ns') noSpace = true
    else if (t === 'Xo' || t === 'Xc' || t === 'Pf' || mdocDrop.has(t)) continue
    else push(t)
  }
  // an `.Op` opened a bracket that closes at the end of its line
  const open = (out.match(/\[/g) ?? []).length - (out.match(/\]/g) ?? []).length
  return out + ']'.repeat(Math.max(0, open))
}

/** A man page's roff source to its NAME line and sections of paragraphs and literal blocks. */
export function parseRoff(src: string): { title: string; sections: Array<{ heading: string; paragraphs: string[]; literal: string[] }> } {
  const sections: Array<{ heading: string; paragraphs: string[]; literal: string[] }> = []
  let section = { heading: '', paragraphs: [] as string[], literal: [] as string[] }
  sections.push(section)
  let para: string[] = []
  let nofill = false
  let skipUntil: string | null = null
  let nameMacro = ''
  // the line after `.TP` is the item's tag: a line of its own, its text follows on the next
  let tag = false
  const add = (text: string) => {
    para.push(tag && !nofill ? text + '\n' : text)
    tag = false
  }
  const flush = () => {
    if (para.length === 0) return
    const text = (
      nofill
        ? para.join('\n')
        : para
            .join(' ')
            .replace(/\n /g, '\n')
            .replace(/[ \t]+/g, ' ')
    ).trim()
    if (text !== '') {
      section.paragraphs.push(text)
      if (nofill) section.literal.push(text)
    }
    para = []
  }
  for (const raw of src.split('\n')) {
    const line = raw.replace(/\\"[^\n]*$/, '').replace(/\s+$/, '')
    if (skipUntil !== null) {
      if (line.startsWith(skipUntil)) skipUntil = null
      continue
    }
    if (/^[.']\s*\\"/.test(raw)) continue
    const m = /^[.']\s*(\S+)\s*(.*)$/.exec(line)
    if (m !== null) {
      const name = m[1] as string
      const rest = m[2] as string
      const args = macroArgs(rest).map(unescapeRoff)
      switch (name) {
        case 'SH':
        case 'Sh':
          flush()
          nofill = false
          section = { heading: args.join(' ').trim(), paragraphs: [], literal: [] }
          sections.push(section)
          break
        case 'SS':
        case 'Ss':
          flush()
          if (args.length > 0) section.paragraphs.push(args.join(' '))
          break
        case 'TP':
          if (!nofill) flush()
          tag = true
          break
        case 'PP':
        case 'P':
        case 'LP':
        case 'Pp':
        case 'HP':
        case 'RS':
        case 'RE':
        case 'in':
        case 'ti':
        case 'ne':
        case 'Bl':
        case 'El':
        case 'TQ':
          if (!nofill) flush()
          break
        case 'sp':
          if (nofill) para.push('')
          else flush()
          break
        case 'br':
          if (!nofill) flush()
          break
        case 'IP':
        case 'It':
          if (!nofill) flush()
          if (name === 'It') {
            const t = mdocLine(macroArgs(rest), nameMacro)
            if (t !== '') para.push(unescapeRoff(t))
          } else if (args[0] !== undefined && args[0] !== '' && !/^[•*\-o]$/.test(args[0])) para.push(args[0])
          break
        case 'nf':
        case 'EX':
        case 'Vb':
          flush()
          nofill = true
          break
        case 'fi':
        case 'EE':
        case 'Ve':
          flush()
          nofill = false
          break
        case 'Bd':
          flush()
          nofill = /-literal|-unfilled/.test(rest)
          break
        case 'Ed':
          flush()
          nofill = false
          break
        case 'de':
        case 'de1':
        case 'am':
        case 'ig':
          skipUntil = '..'
          break
        case 'TS':
          flush()
          skipUntil = '.TE'
          break
        case 'EQ':
          skipUntil = '.EN'
          break
        case 'B':
        case 'I':
        case 'SM':
        case 'SB':
        case 'UR':
        case 'MT':
        case 'UE':
        case 'ME':
          if (args.length > 0) add(args.join(' '))
          break
        case 'BR':
        case 'RB':
        case 'IR':
        case 'RI':
        case 'BI':
        case 'IB':
          add(args.join(''))
          break
        case 'Nm':
          if (nameMacro === '' && args[0] !== undefined) nameMacro = args[0]
          para.push(args.length > 0 ? args.join(' ') : nameMacro)
          break
        case 'Nd':
          para.push('- ' + args.join(' '))
          break
        default:
          // other mdoc macros carry text; every other request (.if, .ds, .ft, .ad...) is layout
          if (/^[A-Z][a-z]{1,2}$/.test(name) && mdocInline.has(name)) para.push(unescapeRoff(mdocLine([name, ...macroArgs(rest)], nameMacro)))
          break
      }
      continue
    }
    const text = unescapeRoff(line)
    if (nofill) para.push(text)
    else if (text.trim() === '') flush()
    else add(text.trim())
  }
  flush()
  // NAME is a man page's first section, whatever its language calls it
  const nameSection = sections.find((s) => s.heading !== '')
  const title = (nameSection?.paragraphs.join(' ') ?? '').replace(/\s+/g, ' ').trim()
  return { title, sections: sections.filter((s) => s.paragraphs.length > 0 && s !== nameSection) }
}

/**
 * Man pages under /usr/share/man: every language and section, at most `perGroup` pages per
 * directory and name prefix (`gcloud-...` alone has 16,000 pages), spread evenly.
 */
export function readManPages(dpkg: Dpkg, perGroup = 5): ManPage[] {
  const root = '/usr/share/man'
  const dirs: Array<{ dir: string; lang: string; section: string }> = []
  for (const top of list(root)) {
    const full = join(root, top)
    if (!isDir(full)) continue
    if (/^man\w+$/.test(top)) dirs.push({ dir: full, lang: 'en', section: top.slice(3) })
    else for (const sub of list(full)) if (/^man\w+$/.test(sub) && isDir(join(full, sub))) dirs.push({ dir: join(full, sub), lang: top, section: sub.slice(3) })
  }
  const pages: ManPage[] = []
  for (const { dir, lang, section } of dirs) {
    const groups = new Map<string, string[]>()
    for (const f of list(dir)) {
      const p = join(dir, f)
      if (!isFile(p)) continue // symlinks are aliases of pages read anyway
      const key = (f.split(/[-_.]/)[0] ?? f).toLowerCase()
      let g = groups.get(key)
      if (g === undefined) groups.set(key, (g = []))
      g.push(f)
    }
    for (const files of groups.values()) {
      for (const f of spread(files, perGroup)) {
        const p = join(dir, f)
        const src = readText(p, 2 << 20)
        if (src === null || (/^\.so\s/m.test(src.slice(0, 200).trim()) && src.trim().split('\n').length < 3)) continue
        const parsed = parseRoff(src)
        if (parsed.sections.length === 0) continue
        const pkg = ownerOf(dpkg, p) ?? 'unknown'
        pages.push({
          name: f.replace(/\.gz$/, '').replace(/\.[^.]+$/, ''),
          section,
          lang,
          title: clean(parsed.title),
          sections: parsed.sections.map((s) => ({
            heading: clean(s.heading),
            paragraphs: s.paragraphs.map(clean).filter((x) => x !== ''),
            literal: s.literal.map(clean).filter((x) => x !== ''),
          })),
          source: `debian:${pkg}:${p}`,
          pkg,
        })
      }
    }
  }
  return pages
}

// ---------------------------------------------------------------- Debian docs

export interface TextDoc {
  readonly source: string
  readonly pkg: string
  readonly file: string
  readonly text: string
}

export interface DebianDocs {
  /** changelog.Debian entries: the newest few per package */
  readonly debianEntries: readonly TextDoc[]
  /** Upstream changelog and NEWS chunks */
  readonly upstreamEntries: readonly TextDoc[]
  readonly readmes: readonly TextDoc[]
  /** Names and where they were read: changelog trailers, copyright files */
  readonly names: ReadonlyArray<{ name: string; source: string }>
}

/** Blank-line separated blocks grouped into chunks of at most `max` characters. */
export function chunks(text: string, max: number, limit: number): string[] {
  const out: string[] = []
  let cur = ''
  for (const block of text.split(/\n\s*\n/)) {
    const b = block.replace(/\s+$/, '')
    if (b.trim() === '') continue
    if (cur !== '' && cur.length + b.length + 2 > max) {
      out.push(cur)
      if (out.length >= limit) return out
      cur = ''
    }
    cur = cur === '' ? b.slice(0, max) : cur + '\n\n' + b
  }
  if (cur !== '' && out.length < limit) out.push(cur)
  return out
}

const corporate =
  /\b(inc|inc\.|ltd|llc|gmbh|corp|corporation|foundation|project|software|contributors?|authors?|team|community|limited|university|institute|developers?|maintainers?|company|group|systems|technologies|others|the|and|et al)\b/i

/** A person's name as written in a trailer or copyright line, or null. */
export function personName(raw: string): string | null {
  const s = raw
    .replace(/<[^>]*>/g, '')
    .replace(/\([^)]*@[^)]*\)/g, '')
    .replace(/\b(19|20)\d\d(\s*[-,]\s*(19|20)?\d\d)*\b/g, '')
    .replace(/\(c\)|©|copyright/gi, '')
    .replace(/[,;:]+$/, '')
    .replace(/\s+/g, ' ')
    .trim()
  if (s.length < 4 || s.length > 60 || corporate.test(s) || /[@/\\0-9_=<>{}[\]|*]/.test(s)) return null
  const words = s.split(' ')
  if (words.length < 2 || words.length > 5) return null
  if (!/^\p{Lu}/u.test(s) || !words.every((w) => /^[\p{L}\p{M}'’.\-()]+$/u.test(w))) return null
  return s
}

export function readDebianDocs(entriesPerPackage = 3, upstreamPerPackage = 6): DebianDocs {
  const root = '/usr/share/doc'
  const debianEntries: TextDoc[] = []
  const upstreamEntries: TextDoc[] = []
  const readmes: TextDoc[] = []
  const names: Array<{ name: string; source: string }> = []
  for (const pkg of list(root)) {
    const dir = join(root, pkg)
    if (!isDir(dir)) continue
    const files = list(dir)
    for (const f of files) {
      const p = join(dir, f)
      if (!isFile(p)) continue
      const source = `debian:${pkg}:${p}`
      if (/^changelog\.Debian(\.gz)?$/.test(f)) {
        const text = readText(p)
        if (text === null) continue
        const entries = text.split(/\n(?=\S[^\n]*\([^)]*\)[^\n]*;\s*urgency=)/)
        for (const e of entries.slice(0, entriesPerPackage)) if (e.trim() !== '') debianEntries.push({ source, pkg, file: f, text: clean(e) })
        // every trailer, not only the newest entries': the names are what is wanted here
        for (const m of text.matchAll(/^ -- ([^<\n]+?)\s*<[^>\n]*>/gm)) {
          const n = personName(m[1] as string)
          if (n !== null) names.push({ name: n, source })
        }
      } else if (/^(changelog|NEWS|CHANGES|HISTORY|RELEASE[-_]NOTES)(\.(md|txt|rst))?(\.gz)?$/i.test(f)) {
        const text = readText(p)
        if (text === null) continue
        for (const c of chunks(text, 3000, upstreamPerPackage)) upstreamEntries.push({ source, pkg, file: f, text: clean(c) })
      } else if (/^README/i.test(f) && !/\.(html?|pdf|png|svg)(\.gz)?$/i.test(f)) {
        const text = readText(p)
        if (text === null) continue
        readmes.push({ source, pkg, file: f, text: clean(text) })
      } else if (f === 'copyright') {
        const text = readText(p)
        if (text === null) continue
        for (const m of text.matchAll(/^(?:Copyright:|\s+|Copyright\s+(?:\(c\)|©)?)\s*(?:(?:19|20)\d\d[-,\d\s]*)+(.+)$/gim)) {
          const n = personName(m[1] as string)
          if (n !== null) names.push({ name: n, source })
        }
      }
    }
  }
  return { debianEntries, upstreamEntries, readmes, names }
}

// ---------------------------------------------------------------- npm packages

export interface NpmPackage {
  readonly name: string
  readonly version: string
  readonly dir: string
  readonly manifest: Readonly<Record<string, unknown>>
  readonly license: string
  readonly description: string
  readonly keywords: readonly string[]
  readonly scripts: ReadonlyArray<readonly [string, string]>
  readonly homepage: string | null
  readonly repository: string | null
  readonly people: readonly string[]
  readonly readme: { readonly file: string; readonly text: string } | null
  readonly changelog: { readonly file: string; readonly text: string } | null
}

function repoUrl(r: unknown): string | null {
  const raw =
    typeof r === 'string' ? r : typeof r === 'object' && r !== null && typeof (r as { url?: unknown }).url === 'string' ? (r as { url: string }).url : null
  if (raw === null) return null
  const gh = /^(?:github:)?([\w.-]+\/[\w.-]+)$/.exec(raw)
  if (gh !== null) return `https://github.com/${gh[1]}`
  return raw
    .replace(/^git\+/, '')
    .replace(/^git:\/\//, 'https://')
    .replace(/^ssh:\/\/git@/, 'https://')
    .replace(/\.git$/, '')
}

function personOf(p: unknown): string | null {
  if (typeof p === 'string') return personName(p.replace(/\s*[<(].*$/, ''))
  if (typeof p === 'object' && p !== null && typeof (p as { name?: unknown }).name === 'string') return personName((p as { name: string }).name)
  return null
}

/** Package directories under node_modules roots (scoped ones too, nested node_modules too). */
function packageDirs(root: string, out: string[], depth = 0): void {
  if (depth > 6) return
  for (const name of list(root)) {
    if (name.startsWith('.')) continue
    const p = join(root, name)
    if (name.startsWith('@')) {
      for (const sub of list(p)) if (existsSync(join(p, sub, 'package.json'))) packageDirs2(join(p, sub), out, depth)
    } else if (existsSync(join(p, 'package.json'))) packageDirs2(p, out, depth)
  }
}

function packageDirs2(dir: string, out: string[], depth: number): void {
  out.push(dir)
  const nested = join(dir, 'node_modules')
  if (isDir(nested)) packageDirs(nested, out, depth + 1)
}

export function readNpmPackages(roots: readonly string[]): NpmPackage[] {
  const dirs: string[] = []
  for (const r of roots) if (existsSync(r)) packageDirs(realpathSync(r), dirs)
  const seen = new Set<string>()
  const out: NpmPackage[] = []
  for (const dir of dirs) {
    let manifest: Record<string, unknown>
    try {
      manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>
    } catch {
      continue
    }
    const name = typeof manifest['name'] === 'string' ? manifest['name'] : null
    const version = typeof manifest['version'] === 'string' ? manifest['version'] : null
    if (name === null || version === null || seen.has(`${name}@${version}`)) continue
    seen.add(`${name}@${version}`)
    const files = list(dir)
    const readmeFile = files.find((f) => /^readme(\.(md|markdown|txt))?$/i.test(f))
    const changelogFile = files.find((f) => /^(changelog|history|changes|release-notes)(\.(md|markdown|txt))?$/i.test(f))
    const readText2 = (f: string | undefined) => {
      if (f === undefined) return null
      const t = readText(join(dir, f), 1 << 20)
      return t === null ? null : { file: f, text: clean(t) }
    }
    const scripts =
      typeof manifest['scripts'] === 'object' && manifest['scripts'] !== null
        ? Object.entries(manifest['scripts'] as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].trim() !== '')
        : []
    const people = [
      manifest['author'],
      ...(Array.isArray(manifest['contributors']) ? manifest['contributors'] : []),
      ...(Array.isArray(manifest['maintainers']) ? manifest['maintainers'] : []),
    ]
      .map(personOf)
      .filter((x): x is string => x !== null)
    const typeOf = (l: unknown) =>
      typeof l === 'string'
        ? l
        : typeof l === 'object' && l !== null && typeof (l as { type?: unknown }).type === 'string'
          ? (l as { type: string }).type
          : null
    // `license`, the old `licenses` array, or the first line of a LICENSE file
    const licenseFile = files.find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f))
    const license =
      typeOf(manifest['license']) ??
      (Array.isArray(manifest['licenses'])
        ? manifest['licenses']
            .map(typeOf)
            .filter((x) => x !== null)
            .join(' OR ') || null
        : null) ??
      (licenseFile !== undefined ? `${(readText(join(dir, licenseFile)) ?? '').trim().split('\n')[0]?.slice(0, 60) ?? ''} (${licenseFile})` : 'unknown')
    out.push({
      name,
      version,
      dir,
      manifest,
      license,
      description: typeof manifest['description'] === 'string' ? manifest['description'] : '',
      keywords: Array.isArray(manifest['keywords']) ? manifest['keywords'].filter((k): k is string => typeof k === 'string') : [],
      scripts,
      homepage: typeof manifest['homepage'] === 'string' ? manifest['homepage'] : null,
      repository: repoUrl(manifest['repository']),
      people,
      readme: readText2(readmeFile),
      changelog: readText2(changelogFile),
    })
  }
  return out.sort((a, b) => byName(`${a.name}@${a.version}`, `${b.name}@${b.version}`))
}

// ---------------------------------------------------------------- markdown

export interface MdSection {
  readonly heading: string
  readonly text: string
}

export interface CodeBlock {
  readonly heading: string
  readonly language: string
  readonly code: string
}

/** Markdown split at headings (never inside a fenced block), and its fenced code blocks. */
export function splitMarkdown(md: string): { sections: MdSection[]; code: CodeBlock[] } {
  const sections: MdSection[] = []
  const code: CodeBlock[] = []
  let heading = ''
  let cur: string[] = []
  let fence: { marker: string; language: string; lines: string[] } | null = null
  const flush = () => {
    const text = cur.join('\n').trim()
    if (text !== '') sections.push({ heading, text })
    cur = []
  }
  for (const line of md.split('\n')) {
    if (fence !== null) {
      cur.push(line)
      if (line.trim().startsWith(fence.marker) && line.trim().replace(/[`~]/g, '') === '') {
        const body = fence.lines.join('\n').replace(/^\n+|\s+$/g, '')
        if (body !== '') code.push({ heading: heading.replace(/^#+\s*/, ''), language: fence.language, code: body })
        fence = null
      } else fence.lines.push(line)
      continue
    }
    const f = /^\s{0,3}(```+|~~~+)\s*([\w+#.-]*)/.exec(line)
    if (f !== null) {
      fence = { marker: (f[1] as string).slice(0, 3), language: (f[2] as string).toLowerCase(), lines: [] }
      cur.push(line)
      continue
    }
    if (/^#{1,4}\s+\S/.test(line)) {
      flush()
      heading = line.trim()
    }
    cur.push(line)
  }
  flush()
  return { sections, code }
}

// ---------------------------------------------------------------- Python

export interface PyDoc {
  readonly source: string
  readonly module: string
  /** The def/class line it documents, or '' for a module docstring */
  readonly owner: string
  readonly text: string
}

export interface PyMeta {
  readonly source: string
  readonly name: string
  readonly fields: Readonly<Record<string, string | string[]>>
  readonly description: string
}

/** textwrap.dedent for every line but the first (how docstrings are written). */
function dedentDoc(s: string): string {
  const lines = s.split('\n')
  const rest = lines.slice(1).filter((l) => l.trim() !== '')
  const indent = rest.length === 0 ? 0 : Math.min(...rest.map((l) => (/^ */.exec(l) as RegExpExecArray)[0].length))
  return [lines[0]?.trim() ?? '', ...lines.slice(1).map((l) => l.slice(indent))].join('\n').trim()
}

/**
 * Docstrings without a Python parser: triple-quoted strings that open a module or follow a
 * `def`/`class` line (ending in `:`), string prefixes r/u allowed, f-strings and bytes not.
 */
export function docstrings(src: string): Array<{ owner: string; text: string }> {
  const out: Array<{ owner: string; text: string }> = []
  // where the first statement starts: a string there is the module's docstring
  const firstCode = /^(?:[ \t]*(?:#[^\n]*)?\n)*/.exec(src)?.[0].length ?? 0
  // every triple-quoted string in order, so that a closing quote is never read as an opening one
  const re = /([rRuUbBfF]{0,2})("""|''')([\s\S]*?)\2/g
  for (const m of src.matchAll(re)) {
    const prefix = (m[1] as string).toLowerCase()
    if (prefix.includes('b') || prefix.includes('f')) continue
    const start = m.index ?? 0
    const lineStart = src.lastIndexOf('\n', start - 1) + 1
    if (src.slice(lineStart, start).trim() !== '') continue // not a statement of its own
    const moduleDoc = lineStart <= firstCode
    // the line before, past blank and comment lines
    let prevLine = ''
    for (let end = lineStart - 1; end > 0;) {
      const from = src.lastIndexOf('\n', end - 1) + 1
      const t = src.slice(from, end).trim()
      if (t !== '' && !t.startsWith('#')) {
        prevLine = src.slice(from, end)
        break
      }
      end = from - 1
    }
    const owner = /^\s*(async\s+def|def|class)\s/.test(prevLine) || /\)\s*(->[^:]+)?:\s*$/.test(prevLine) ? prevLine.trim() : ''
    if (!moduleDoc && owner === '' && !/:\s*$/.test(prevLine)) continue
    const text = dedentDoc(m[3] as string)
    if (text.length >= 40) out.push({ owner: moduleDoc ? '' : owner, text })
  }
  return out
}

function pyFiles(dir: string, out: string[], depth = 0): void {
  if (depth > 8) return
  for (const name of list(dir)) {
    const p = join(dir, name)
    if (name === '__pycache__' || /^(tests?|testing|_vendor)$/.test(name) || /^test_.*\.py$/.test(name)) continue
    if (name.endsWith('.py') && isFile(p)) out.push(p)
    else if (isDir(p) && !name.endsWith('-info')) pyFiles(p, out, depth + 1)
  }
}

export function readPython(dpkg: Dpkg, root = '/usr/lib/python3/dist-packages', perFile = 6, perPackage = 250): { docs: PyDoc[]; meta: PyMeta[] } {
  const files: string[] = []
  pyFiles(root, files)
  const docs: PyDoc[] = []
  const perTop = new Map<string, number>()
  for (const f of files) {
    const rel = f.slice(root.length + 1)
    const top = (rel.split('/')[0] ?? rel).replace(/\.py$/, '')
    if ((perTop.get(top) ?? 0) >= perPackage) continue
    const src = readText(f, 2 << 20)
    if (src === null) continue
    const pkg = ownerOf(dpkg, f)
    const source = pkg !== null ? `debian:${pkg}:${f}` : `python:${top}:${f}`
    const module = rel
      .replace(/\.py$/, '')
      .replace(/\//g, '.')
      .replace(/\.__init__$/, '')
    for (const d of spread(docstrings(src), perFile)) {
      if ((perTop.get(top) ?? 0) >= perPackage) break
      docs.push({ source, module, owner: d.owner, text: clean(d.text) })
      perTop.set(top, (perTop.get(top) ?? 0) + 1)
    }
  }
  const meta: PyMeta[] = []
  for (const name of list(root)) {
    if (!/\.(dist|egg)-info$/.test(name)) continue
    const dir = join(root, name)
    const p = isDir(dir) ? [join(dir, 'METADATA'), join(dir, 'PKG-INFO')].find(isFile) : isFile(dir) ? dir : undefined
    if (p === undefined) continue
    const text = readText(p)
    if (text === null) continue
    const split = text.indexOf('\n\n')
    const head = split === -1 ? text : text.slice(0, split)
    const fields: Record<string, string | string[]> = {}
    let last = ''
    for (const line of head.split('\n')) {
      if (/^\s/.test(line) && last !== '') {
        const v = fields[last]
        if (typeof v === 'string') fields[last] = v + '\n' + line.trim()
        continue
      }
      const colon = line.indexOf(':')
      if (colon <= 0) continue
      last = line.slice(0, colon)
      const v = line.slice(colon + 1).trim()
      const prev = fields[last]
      fields[last] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
    }
    const pkg = ownerOf(dpkg, p)
    meta.push({
      source: pkg !== null ? `debian:${pkg}:${p}` : `python:${name}:${p}`,
      name: String(fields['Name'] ?? name),
      fields,
      description: clean(split === -1 ? String(fields['Description'] ?? '') : text.slice(split + 2)),
    })
  }
  return { docs, meta }
}

// ---------------------------------------------------------------- everything

export interface Harvest {
  readonly dpkg: Dpkg
  readonly man: readonly ManPage[]
  readonly debian: DebianDocs
  readonly npm: readonly NpmPackage[]
  readonly python: { readonly docs: readonly PyDoc[]; readonly meta: readonly PyMeta[] }
  /** Words of the English man pages' prose, for passphrases (no /usr/share/dict here) */
  readonly words: readonly string[]
  readonly dictionary: string | null
}

export function harvest(npmRoots: readonly string[]): Harvest {
  const dpkg = readDpkg()
  const man = readManPages(dpkg)
  const debian = readDebianDocs()
  const npm = readNpmPackages(npmRoots)
  const python = readPython(dpkg)
  // /usr/share/dict/words when installed; otherwise the words of the English man pages
  const dictFile = ['/usr/share/dict/words', '/usr/share/dict/american-english', '/usr/share/dict/british-english'].find(isFile) ?? null
  let words: string[]
  if (dictFile !== null) words = (readText(dictFile) ?? '').split('\n').filter((w) => /^[a-z]{4,10}$/.test(w))
  else {
    const counts = new Map<string, number>()
    for (const p of man) {
      if (p.lang !== 'en') continue
      for (const s of p.sections)
        for (const para of s.paragraphs) for (const w of para.toLowerCase().match(/\b[a-z]{4,10}\b/g) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1)
    }
    words = [...counts]
      .filter(([, n]) => n >= 3)
      .map(([w]) => w)
      .sort(byName)
  }
  return { dpkg, man, debian, npm, python, words, dictionary: dictFile }
}
