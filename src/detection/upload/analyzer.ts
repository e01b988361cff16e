/**
 * Dangerous upload file names (CRS 933110/944140/932180): a file the server would run
 * (`shell.php`, `a.jsp`, `x.aspx`) or that reconfigures it (`.htaccess`, `web.config`,
 * `.user.ini`). Judged only where a value is a file name: a multipart part's `filename` and the
 * headers raw-upload clients send it in (`X-File-Name`); elsewhere `index.php` is just a link.
 * The tricks servers fall for count too: trailing dots and spaces (Windows drops them), a space
 * before the extension, an inner extension Apache still maps to PHP (`photo.php.jpg`), IIS's
 * `shell.asp;.jpg`.
 */

export type UploadRule = 'upload-script-file' | 'upload-server-config'

export interface UploadFinding {
  readonly rule: UploadRule
  readonly confidence: number
}

/** Header names that carry an upload's file name (lower case, as Node reports them). */
export const fileNameHeaders: ReadonlySet<string> = new Set([
  'x-filename',
  'x-file-name',
  'x_filename',
  'x_file_name',
  'x.filename',
  'x.file.name',
  'x-upload-filename',
  'x-upload-file-name',
])

/** Whether an input holds an upload's file name: a multipart part's file name or one of the headers. */
export function isFileNameInput(location: string, name: string): boolean {
  if (location === 'header') return fileNameHeaders.has(name)
  return location === 'body' && name.endsWith('.filename')
}

// Extensions a web server hands to an interpreter: PHP's family (Apache maps `php3`-`php8`,
// `phtml`, `phar`, `pht`, `phps`, `phpt`), JSP, classic ASP and ASP.NET handlers.
const phpExtension = /^(?:php\d*|phtml|phar|pht|phps|phpt|pgif)$/
const scriptExtensions = new Set(['jsp', 'jspx', 'jspf', 'asp', 'aspx', 'asa', 'asax', 'ascx', 'ashx', 'asmx', 'cfm', 'cfml'])
// Files that change how the server treats the folder they land in, or hold its secrets.
const serverConfigs = new Set(['.htaccess', '.htpasswd', '.htdigest', '.user.ini', 'php.ini', 'web.config', 'global.asa', 'global.asax', '.boto'])

export function analyzeUploadName(text: string): UploadFinding | null {
  if (text.length > 1024) return null
  // the last path segment, without the trailing dots and blanks Windows and some parsers drop
  const cut = Math.max(text.lastIndexOf('/'), text.lastIndexOf('\\'))
  let end = text.length
  while (end > cut + 1 && (text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) <= 32)) end--
  const base = text.slice(cut + 1, end).toLowerCase()
  if (base === '') return null
  if (serverConfigs.has(base)) return { rule: 'upload-server-config', confidence: 0.9 }
  // IIS reads `shell.asp;.jpg` as `shell.asp`
  const semi = base.indexOf(';')
  const name = semi === -1 ? base : base.slice(0, semi)
  const parts = name.split('.')
  if (parts.length < 2) return null
  const last = parts[parts.length - 1]!.trim()
  if (phpExtension.test(last) || scriptExtensions.has(last)) return { rule: 'upload-script-file', confidence: 0.9 }
  // `photo.php.jpg`: Apache's AddHandler runs any file with `.php` among its extensions
  for (let i = 1; i < parts.length - 1; i++) {
    if (phpExtension.test(parts[i]!.trim())) return { rule: 'upload-script-file', confidence: 0.85 }
  }
  return null
}
