/**
 * Path traversal and file inclusion: a value read as a path that climbs out of
 * its directory (`../`, `..\`, `....//` that survives a naive strip, `..;/` for servlets), names
 * a file no client should ask for (`/etc/passwd`, `win.ini`, `.git/config`, `/proc/self/environ`),
 * or uses a stream wrapper (`php://filter`, `zip://`, `file://`). Runs on the decoded readings, so
 * `%2e%2e%2f`, `%c0%ae` and `..%252f` arrive here as `../`. Remote inclusion: rfi.ts.
 */
import { remoteInclude } from './rfi.js'
import { charSet, holds, meets, type Chars } from '../chars.js'

export type TraversalRule = 'traversal-dotdot' | 'traversal-sensitive-file' | 'traversal-system-path' | 'traversal-wrapper' | 'traversal-remote-include'

export interface TraversalFinding {
  readonly rule: TraversalRule
  readonly confidence: number
}

// Matched against the lower-cased path with '/' separators, as whole path suffixes or segments.
const sensitive = [
  '/etc/passwd',
  '/etc/shadow',
  '/etc/group',
  '/etc/hosts',
  '/etc/issue',
  '/etc/hostname',
  '/etc/motd',
  '/etc/crontab',
  '/etc/sudoers',
  '/etc/fstab',
  '/etc/mysql/',
  '/etc/apache2/',
  '/etc/nginx/',
  '/etc/httpd/',
  '/etc/ssh/',
  '/etc/security/',
  '/proc/self/',
  '/proc/version',
  '/proc/cpuinfo',
  '/proc/meminfo',
  '/proc/net/',
  '/proc/1/',
  '/proc/sched_debug',
  '/proc/mounts',
  '/var/log/',
  '/var/run/secrets',
  '/root/',
  '/.ssh/',
  '/id_rsa',
  '/id_dsa',
  '/authorized_keys',
  '/.bash_history',
  '/.git/',
  '/.svn/',
  '/.hg/',
  '/.env',
  '/.htaccess',
  '/.htpasswd',
  '/web.config',
  '/wp-config.php',
  '/config.php',
  '/windows/win.ini',
  '/win.ini',
  '/boot.ini',
  '/system.ini',
  '/windows/system32/',
  '/winnt/',
  '/inetpub/',
  '/system32/drivers/etc/hosts',
  '/web-inf/web.xml',
  '/web-inf/',
  '/meta-inf/',
  '/.aws/credentials',
  '/.docker/config.json',
  '/.kube/config',
  '/.bashrc',
  '/.bash_profile',
  '/.profile',
  '/.cshrc',
  '/.zshrc',
  '/.sh_history',
  '/.mysql_history',
  '/.psql_history',
  '/.netrc',
  '/.pgpass',
  '/master.passwd',
  '/ntuser.dat',
  '/sysprep.inf',
  '/sysprep.xml',
  '/unattend.xml',
  '/unattend.txt',
  '/etc/subuid',
  '/etc/subgid',
  '/etc/gshadow',
  // r-command trust files, X11 cookies, mail forwarding, Apache password files; Windows
  // deployment answer files and SCCM task variables (credentials in clear)
  '/.rhosts',
  '/.shosts',
  '/.forward',
  '/.xauthority',
  '/.passwd',
  '/.logout',
  '/unattended.xml',
  '/unattended.txt',
  '/smsosd/osdlogs/variables.dat',
  '/system volume information/',
  // AI coding assistants' project folders: settings, MCP servers, keys
  '/.claude/',
  '/.cursor/',
  '/.roo/',
  '/.windsurf/',
  '/.a0proj/',
  '/.codeium/',
  '/.continue/',
  '/.aider',
  '/.cline/',
  '/.kiro/',
  '/.codex/',
  '/.opencode/',
  '/.plandex/',
  '/.junie/',
  '/.rovodev/',
  '/.zed/',
  '/.fabric/',
  '/.n8n/',
  '/.aiignore',
  '/.cursorignore',
]
const wrappers = [
  'php://',
  'file://',
  'zip://',
  'phar://',
  'expect://',
  'glob://',
  'data://',
  'compress.zlib://',
  'compress.bzip2://',
  'jar:file:',
  'jar:http',
  'netdoc:',
  'ogg://',
  'rar://',
  'ssh2.',
]

/**
 * Folds what old servers (IIS, Tomcat, naive decoders) treated as path syntax: Unicode slash and
 * dot look-alikes, textual `0x2e`/`0x2f`/`0x5c`, and the stray bytes of broken overlong sequences
 * (`%c0%2e`, `%c1%9c` decode to Latin-1 noise around the real characters).
 */
// What foldPath may change: anything outside printable ASCII, or a textual `0x` escape
const foldable = /[^\x20-\x7e]|0[xX]/

export function foldPath(value: string): string {
  // Fast path: plain printable ASCII without a textual 0x escape has nothing to fold.
  if (!foldable.test(value)) return value
  return value
    .replace(/0x2e/gi, '.')
    .replace(/0x2f/gi, '/')
    .replace(/0x5c/gi, '\\')
    .replace(/[\u2215\u2044\uff0f\u29f8]/g, '/')
    .replace(/[\u2216\uff3c\u29f9\ufe68]/g, '\\')
    .replace(/[\uff0e\u2024\ufe52]/g, '.')
    .replace(/[\u0000-\u001f\u007f-\u00ff\ufffd]/g, '')
}

// Sensitive names of one segment (`.env`, `win.ini`): the only ones a value without any slash can name.
const bareNames = sensitive.filter((s) => s.indexOf('/', 1) === -1 && !s.endsWith('/')).map((s) => s.slice(1))
// their first characters: a value starting with none of them names none (most values end there)
const bareFirst = new Set(bareNames.map((b) => b[0]))

// Escapes no standard decoder accepts (`%c1%pc`, `%%35%%63`, `%uEFC8`) and runs of broken
// multi-byte noise: old IIS and servlet decoders turned them into separators (the dotdotpwn
// encodings). Read as "/" in a second pass. `%{1,2}`, not `%+`: a run of `%` must not backtrack.
const junkEscapes = /%{1,2}(?:u[0-9a-f]{4}|[0-9a-z]{2})|[\u0080-\u00ff\ufffd]+/gi

/**
 * How `raw` reads to the decoders below: 0, several ways; 1, as itself only: printable ASCII
 * (nothing to fold, no broken multi-byte noise), no '%' (no junk escapes), no textual `0x` and
 * no `..` (no `..2f`); 2, as itself and with no '/', '\\' or ':' either, so that only a bare
 * file name or a filter name at its start can match.
 */
function readsAs(raw: string, chars: Chars | null): 0 | 1 | 2 {
  if (chars !== null) {
    if (meets(chars, foldedOrEscaped)) return 0
    if (holds(chars, 46) && raw.indexOf('..') !== -1) return 0
    if ((holds(chars, 120) || holds(chars, 88)) && (raw.indexOf('0x') !== -1 || raw.indexOf('0X') !== -1)) return 0
    return meets(chars, separatorSet) ? 1 : 2
  }
  let separators = false
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i)
    if (c < 32 || c > 126 || c === 37 /* % */) return 0
    if ((c === 120 || c === 88) && raw.charCodeAt(i - 1) === 48) return 0
    if (c === 46 && raw.charCodeAt(i + 1) === 46) return 0
    if (c === 47 || c === 92 || c === 58) separators = true
  }
  return separators ? 1 : 2
}

// readsAs' characters, for a caller that knows the value's (chars.ts): controls, DEL and '%'; separators
const foldedOrEscaped = charSet(String.fromCharCode(...Array.from({ length: 32 }, (_, c) => c), 127) + '%')
const separatorSet = charSet('/\\:')

// First letters of what a value without separators can name: the bare file names, the filters
const bareStarts = new Set([...bareNames.map((b) => b[0]!), 'c', 's', 'z'])
// Without a separator only the value's start can match (a bare name and the character after
// it, a filter name): past this many characters the rest of a long text changes nothing
const bareReach = Math.max(...bareNames.map((b) => b.length), 40) + 2

export function analyzeTraversal(raw: string, chars: Chars | null = null): TraversalFinding | null {
  // cheap checks first: most values, prose and addresses, read one way only
  const reads = readsAs(raw, chars)
  if (reads === 2) {
    if (!bareStarts.has(raw.charAt(0).toLowerCase())) return null
    // (prose: no lower-casing of the whole text for a name at its start)
    return judgePath(raw.length > bareReach ? raw.slice(0, bareReach) : raw)
  }
  if (reads !== 0) return judgePath(raw)
  const first = judgePath(foldPath(raw))
  // Short of a sure finding, the value is read again the ways old decoders read it
  if (first !== null && first.confidence >= 0.9) return first
  if (raw.indexOf('%') !== -1 || /[\u0080-\u00ff\ufffd]/.test(raw)) {
    // `%25` first: the junk may itself be URL-encoded once or twice (`%25c1%25af`)
    const unwrapped = raw.replace(/%(?:25){1,3}/gi, '%')
    // what is left of '%' after that is noise between the dots and separators (`%\..%\..`)
    const second = judgePath(
      foldPath(
        unwrapped
          .replace(/%2e/gi, '.')
          .replace(/%2f|%5c/gi, '/')
          .replace(junkEscapes, '/')
          .replace(/%/g, ''),
      ),
    )
    if (second !== null && (first === null || second.confidence > first.confidence)) return second
  }
  // `..2f..2fetc2fpasswd`: encoded separators that lost their '%' on the way
  if (/\.\.(?:2f|5c)/i.test(raw)) {
    const third = judgePath(foldPath(raw.replace(/2f|5c/gi, '/')))
    if (third !== null && (first === null || third.confidence > first.confidence)) return third
  }
  return first
}

// A value that is nothing but an absolute path into the system's own directories asks for a
// server file by name (the LFI lists): no API parameter has a reason to carry one. User
// folders (`/home/...`, `C:\Users\...`) are left alone: browsers and upload tools send those.
const systemRoot = /^\/(?:etc|proc|sys|var|usr|opt|root|boot|bin|sbin|lib|lib64|dev|srv|private|system|library|volumes)\/[^/]/
const windowsRoot = /^(?:[a-z]:)?\/+(?:windows|winnt|program ?files[^/]*|programdata|inetpub|xampp|wamp|apache[^/]*|mysql|php\d*|appserv|system32)\/[^/]/
// PHP stream filter names, the pieces of `php://filter/...` chains
const phpFilter = /^(?:convert\.iconv\.|convert\.(?:base64|quoted-printable)-(?:en|de)code|string\.(?:rot13|toupper|tolower|strip_tags)|zlib\.(?:de|in)flate)/

/** A segment of 64 or more of one character (`AAAA…A/../`): padding, not a name. */
function paddedSegment(path: string): boolean {
  let run = 0
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i)
    run = c !== 47 /* / */ && c === path.charCodeAt(i - 1) ? run + 1 : 0
    if (run >= 63) return true
  }
  return false
}

function judgePath(value: string): TraversalFinding | null {
  const lower = value.toLowerCase()
  if (lower.indexOf(':') !== -1) for (const w of wrappers) if (lower.includes(w)) return { rule: 'traversal-wrapper', confidence: 0.9 }
  if (phpFilter.test(lower)) return { rule: 'traversal-wrapper', confidence: 0.85 }
  if (lower.indexOf('://') !== -1) {
    const rfi = remoteInclude(lower)
    if (rfi > 0) return { rule: 'traversal-remote-include', confidence: rfi }
  }
  if (lower.indexOf('/') === -1 && lower.indexOf('\\') === -1) {
    // No path separator: no climbing, no absolute path; only a bare sensitive file name, at the
    // start and ending the value (as the general rule below would judge it).
    if (!bareFirst.has(lower[0])) return null
    for (const b of bareNames) {
      if (!lower.startsWith(b)) continue
      const next = lower[b.length]
      if (next === undefined || next === '?' || next === '%' || next === '#') return { rule: 'traversal-sensitive-file', confidence: 0.95 }
    }
    return null
  }
  const path = lower.replace(/\\/g, '/')
  // climbing segments: '..', '...' and longer runs of dots, '..;params'
  let climbs = 0
  let start = 0
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path[i] === '/') {
      let seg = path.slice(start, i)
      const semi = seg.indexOf(';')
      if (semi !== -1) seg = seg.slice(0, semi)
      if (seg.length >= 2 && /^\.+$/.test(seg)) climbs++
      start = i + 1
    }
  }
  // a path of its own: a leading '/', a drive, or climbing at the start. Dot runs with '?' or '*'
  // in them (`.?/`, `??/`) are the wildcard climbs old Windows APIs accepted (dotdotpwn): a
  // value made only of them before a sensitive name is aimed at that file.
  const bare = path.replace(/^[a-z]:\//, '').replace(/^(?:[.?*]*\/)+/, '')
  const rooted = '/' + bare.replace(/\/{2,}/g, '/')
  for (const s of sensitive) {
    const at = rooted.indexOf(s)
    if (at === -1) continue
    // a directory pattern ('/etc/mysql/') or a multi-segment file ('/etc/passwd') names itself;
    // a bare name ('/.env', '/win.ini') must end the path, so ".env files are ignored" is prose
    const multi = s.indexOf('/', 1) !== -1
    const next = rooted[at + s.length]
    const ends = s.endsWith('/') || next === undefined || next === '/' || next === '?' || next === '%' || next === '#'
    // a dotfile ending a value that is only a path (`users/.htpasswd`) is asked for by name
    const dotfile = s.charCodeAt(1) === 46 && !multi && next === undefined && !/\s/.test(path)
    if ((multi || climbs > 0 || dotfile || path.startsWith('/') || /^[a-z]:\//.test(path) || bare.startsWith(s.slice(1))) && ends) {
      return { rule: 'traversal-sensitive-file', confidence: 0.95 }
    }
  }
  // an absolute path to a server's configuration, keys or logs
  if (
    (path.startsWith('/') || /^[a-z]:\//.test(path)) &&
    /(?:\.(?:conf|cnf|ini|log|pem|key|properties|htpasswd|bak|sql|db|sqlite)|(?:access|error)[._]?log)(?:$|%00|\?|\0)/.test(path)
  ) {
    return { rule: 'traversal-sensitive-file', confidence: 0.8 }
  }
  if (path.length <= 512 && path.indexOf('\n') === -1 && (systemRoot.test(path) || windowsRoot.test(path)))
    return { rule: 'traversal-system-path', confidence: 0.8 }
  if (climbs >= 2) return { rule: 'traversal-dotdot', confidence: 0.85 }
  // One level up. A value that *is* a climbing path (`../config`, `..;/x`, `/..%2fx`) is aimed at
  // a file parameter; inside text ("see [logo](../images/a.png)") it is a relative link: low.
  // `./` segments change nothing: `/./../x` is `../x`.
  // Path truncation: a segment of one character repeated past any real name, then a climb, so
  // that what the app appends (`.php`) falls off the end of a length-limited buffer
  if (climbs === 1 && paddedSegment(path)) return { rule: 'traversal-dotdot', confidence: 0.85 }
  if (climbs === 1) return { rule: 'traversal-dotdot', confidence: /^\s*\/?(?:\.\/+)*\.{2,}(?:;[^/]*)?\//.test(path) ? 0.8 : 0.6 }
  return null
}
