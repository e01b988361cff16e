/**
 * Files a web server should never hand out, asked for by URL path (CRS 930130, the
 * nemesida "unwanted access" records): a version-control folder (`/.git`, `/.svn`), an editor's
 * swap or backup copy of a source file, which the server sends as text instead of running it
 * (`settings.php.swp`, `index.php~`, `config.php.bak`), a database dump or site backup
 * (`db.sql.gz`, `/backup.zip`), and a script name cut short by a character the server or its
 * file system stops at, so that a script uploaded as an image runs (`do.php;.png`, `do.php%00.png`,
 * `do.php%23.png`). Only the path: in a query or body `backup.zip` is just a file name.
 */

export type ExposureRule = 'traversal-exposed-file'

export interface ExposureFinding {
  readonly rule: ExposureRule
  readonly confidence: number
}

const vcs = new Set(['.git', '.svn', '.hg', '.bzr', '.gitconfig', '.git-credentials'])
// Source and configuration files whose copies give away code or secrets
const source = 'php\\d?|phtml|inc|aspx?|asax|ascx|jspx?|cgi|pl|py|rb|config|conf|cnf|ini|env|ya?ml|sql|xml|json|properties'
// `x.php.swp` (vim), `x.php~` (emacs, gedit), `x.php.bak` / `.old` / `.orig` / `.save` (by hand, nano, merges)
const backupCopy = new RegExp(`\\.(?:${source})(?:\\.(?:swp|swo|swn|bak|bck|bkp|old|orig|save|sav|tmp|backup|copy)|~)$`)
// Dumps and site archives: any `.sql` (compressed or not), or a backup-like name as an archive
const dump =
  /\.sql(?:\.(?:gz|bz2|xz|zip|7z|tar|tgz))?$|^(?:backups?|dump|db|database|site|www|wwwroot|htdocs|public_html|web)\.(?:zip|tar|tgz|tar\.gz|gz|bz2|xz|7z|rar)$/
// A script extension, then `;` (IIS), `#`, NUL, a line break or a character outside ASCII whose
// low byte is one of them (Java's char-to-byte truncation), then the extension an upload check saw
// (NUL as sent too: the decoded reading drops it)
const cutScript = /\.(?:php\d?|phtml|aspx?|asa|cer|jspx?|cgi|pl)(?:[;#\0\r\n\u0080-\uffff]|%00)[^/]{0,40}\.[a-z0-9]{2,5}$/

export function analyzeExposedFile(path: string): ExposureFinding | null {
  if (path.length > 2048 || path.indexOf('.') === -1) return null
  const lower = path.toLowerCase()
  let start = 0
  for (let i = 0; i <= lower.length; i++) {
    if (i < lower.length && lower.charCodeAt(i) !== 47 /* / */ && lower.charCodeAt(i) !== 92 /* \ */) continue
    const seg = lower.slice(start, i)
    start = i + 1
    if (seg === '' || seg.indexOf('.') === -1) continue
    if (vcs.has(seg)) return { rule: 'traversal-exposed-file', confidence: 0.9 }
    // only the file the path ends at is fetched
    if (i !== lower.length) continue
    if (backupCopy.test(seg) || dump.test(seg) || cutScript.test(seg)) return { rule: 'traversal-exposed-file', confidence: 0.85 }
  }
  return null
}
