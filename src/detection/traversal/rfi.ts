/**
 * Remote file inclusion (CRS 931100/931120): a parameter that is a URL an `include` or
 * `require` would fetch and run. Two shapes give it away:
 * - the host is a literal IP address (`http://66.240.183.75/crash.php`, `ftp://1.1.1.1`,
 *   `https://[2001:db8::1]/x.php`): exploit kits host payloads on bare servers, and a link an
 *   API stores names a domain;
 * - the URL ends in `?` (or `%00`) after a script or text file (`http://evil.example/shell.txt?`):
 *   the trick that turns the `.php` the app appends into a query string.
 * Internal addresses are SSRF's business (ssrf/); this judges public ones.
 */
import { isIP } from 'node:net'

const scheme = /^(?:https?|ftps?):\/\//
// What an include runs or reads as code: the payload lists' shells are `.txt`, `.php`, `.inc`...
const includable = /\.(?:php\d?|phtml|inc|txt|sh|pl|py|cgi|jsp|aspx?|gif|jpg|png)$/

/** The confidence that a value is a remote file to include, or 0. */
export function remoteInclude(lower: string): number {
  if (lower.length > 2048) return 0
  const value = lower.trim()
  const m = scheme.exec(value)
  if (m === null) return 0
  const rest = value.slice(m[0].length)
  // authority: up to the first '/', '?' or '#'; userinfo dropped
  let end = rest.length
  for (const c of ['/', '?', '#']) {
    const at = rest.indexOf(c)
    if (at !== -1 && at < end) end = at
  }
  const authority = rest.slice(rest.lastIndexOf('@', end) + 1, end)
  const path = rest.slice(end)
  // the file before a trailing `?`, `%00` or NUL (the query cut), or before the query
  let fileEnd = path.length
  for (;;) {
    if (path.endsWith('?', fileEnd) || path.endsWith('\0', fileEnd)) fileEnd--
    else if (path.endsWith('%00', fileEnd)) fileEnd -= 3
    else break
  }
  const cut = fileEnd < path.length
  if (!cut) {
    const q = path.search(/[?#]/)
    if (q !== -1) fileEnd = q
  }
  const script = includable.test(path.slice(0, fileEnd))
  if (cut && script) return 0.85
  // `[v6]:port`, `v4:port`, or a bare v6 literal (more than one ':')
  let host = authority
  const colon = host.indexOf(':')
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']') === -1 ? host.length : host.indexOf(']'))
  else if (colon !== -1 && colon === host.lastIndexOf(':')) host = host.slice(0, colon)
  if (isIP(host) === 0) return 0
  // a raw address serving a script, or offering FTP, is a payload host
  if (script || m[0].startsWith('ftp')) return 0.85
  return 0
}
