import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeTraversal, foldPath } from '../../src/detection/traversal/analyzer.js'
import { analyzeExposedFile } from '../../src/detection/traversal/exposure.js'
import { surest } from './support.js'

const detect = (value: string) => surest(analyzeTraversal, value)

test('paths are folded the way old servers read them', () => {
  assert.equal(foldPath('..\u2215..\u2215etc'), '../../etc')
  assert.equal(foldPath('0x2e0x2e0x2fetc'), '../etc')
  assert.equal(foldPath('\uff0e\uff0e/'), '../')
})

const attacks: [string, number][] = [
  ['../../../etc/passwd', 0.95],
  ['..\\..\\..\\windows\\win.ini', 0.95],
  ['%2e%2e%2f%2e%2e%2fetc%2fshadow', 0.95],
  ['..%252f..%252f..%252fetc%252fpasswd', 0.95],
  ['%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', 0.95],
  ['....//....//etc/passwd', 0.95],
  ['/etc/passwd%00.png', 0.95],
  ['..;/..;/WEB-INF/web.xml', 0.95],
  ['php://filter/convert.base64-encode/resource=index.php', 0.9],
  ['file:///etc/hosts', 0.9],
  ['C:\\xampp\\apache\\conf\\httpd.conf', 0.8],
  ['../../../../tmp/x', 0.85],
  ['/proc/self/environ', 0.95],
  // path truncation: padding past the buffer, then one climb
  ['A'.repeat(200) + '/../index', 0.85],
  ['.git/config', 0.95],
  // dotdotpwn shapes: wildcard climbs, junk separators (overlongs, `%%35%63`, `%uXXXX`), themselves URL-encoded
  ['??/??/??/boot.ini', 0.95],
  ['.?%c0%af.?%c0%afwindows%c0%afwin.ini', 0.95],
  ['..%%35%%63..%%35%%63etc%%35%%63shadow', 0.95],
  ['%2e%2e%uEFC8%2e%2e%uEFC8etc%uEFC8hosts', 0.95],
  ['.%2500.%25c1%25afetc%25c1%25afgroup', 0.95],
  ['/%25%5c..%25%5c..%25%5c..%25%5c..%00', 0.85],
  ['..2f..2f..2fetc2fshadow', 0.95],
  // the LFI lists: absolute paths into system directories and well-known files, asked for by name
  ['/usr/local/apache2/conf/extra/httpd-ssl.conf', 0.8],
  ['/var/spool/cron/crontabs/root', 0.8],
  ['/opt/lampp/logs/access_log', 0.8],
  ['C:\\Program Files\\FileZilla Server\\FileZilla Server.xml', 0.8],
  ['\\inetpub\\wwwroot\\global.asa', 0.8],
  ['C:/Windows/Panther/Unattend.xml', 0.95],
  ['members/.htpasswd', 0.95],
  ['.htaccess', 0.95],
  ['/./../x', 0.8],
  ['convert.iconv.UTF8.UTF16|convert.base64-decode', 0.85],
  ['convert.iconv.CP1390.CSIBM932', 0.85],
  ['/.rhosts', 0.95],
  ['.passwd', 0.95],
  ['C:/unattended.xml', 0.95],
  ['C:/MININT/SMSOSD/OSDLOGS/VARIABLES.DAT', 0.95],
  ['/app/.claude/settings.local.json', 0.95],
  // remote file inclusion, from a bare server or with the `?` that cuts the appended `.php`
  ['http://66.240.183.75/crash.php', 0.85],
  ['https://[2001:db8:701::29c8]/gecko.php', 0.85],
  ['ftp%3A%2F%2F1.1.1.1', 0.85],
  ['http://1.2.3.4:8080/shell.txt?', 0.85],
  ['http://evil.example/shell.txt?', 0.85],
  ['https://evil.example/c99.php%00', 0.85],
]

const benign = [
  'docs/readme.md',
  'report (final).pdf',
  'https://example.com/a/b',
  'v1.2.3',
  'file.tar.gz',
  'Wait... what?',
  'a/b/c',
  'C:/Users/me/file.txt',
  '/api/v1/items',
  'Loading...',
  'see ./config',
  '.env files are ignored',
  'my.environment',
  // user folders are where uploads and browsers point; prose may name system paths
  '/home/alice/notes/todo.txt',
  'C:\\Users\\Bob\\Desktop\\cv.pdf',
  'copy it to /usr/local/bin and restart',
  'the profile page',
  '.5',
  'users/profile',
  // links an API stores: domains, a bare IP without a script, a form URL with an empty query
  'https://example.com/index.php',
  'http://8.8.8.8/',
  'https://93.184.216.34/docs/index.html',
  'https://example.com/search?',
  'https://example.com/a.php?x=1',
  'see http://1.2.3.4/a.php for the old page',
  'please forward this to /support',
  'my .passwd file is gone',
  'unattended-upgrades.log',
  'a'.repeat(80) + ' then /x/y',
]

test('traversal and file inclusion: attacks are found', () => {
  for (const [value, confidence] of attacks) {
    const f = detect(value)
    assert.ok(f !== null, `missed: ${value}`)
    assert.ok(f.confidence >= confidence, `${value}: ${f.rule} ${f.confidence}`)
  }
})

test('traversal: ordinary paths and prose pass; one level up in text scores low, a value that is a climbing path does not', () => {
  for (const value of benign) assert.equal(detect(value), null, value)
  assert.ok(detect('docs/../images/a.png')!.confidence < 0.8)
  assert.ok(detect('../images/a.png')!.confidence >= 0.8)
  assert.ok(detect('..%5cboot.ini')!.confidence >= 0.8, 'a Windows separator survives the decoding')
})

test('traversal analysis stays linear on long adversarial input', () => {
  for (const v of [
    '../'.repeat(100_000),
    '.'.repeat(300_000),
    '/etc'.repeat(70_000),
    '%25'.repeat(100_000),
    '?/'.repeat(100_000) + 'x',
    '..2f'.repeat(70_000),
    'http://1.2.3.4/' + '?'.repeat(300_000) + 'x',
    'http://a/' + '%00'.repeat(100_000),
    'http://' + '@'.repeat(300_000),
  ]) {
    const t = performance.now()
    analyzeTraversal(v)
    assert.ok(performance.now() - t < 2000)
  }
})

test('exposed files: a URL path to a version-control folder, a swap or backup copy of source, a dump, a cut-short script name', () => {
  const exposed = (path: string) => surest(analyzeExposedFile, path, false)
  for (const path of [
    '/.git',
    '/app/.svn',
    '/.gitconfig',
    '/settings.php.swp',
    '/wp-config.php~',
    '/config/.env.bak',
    '/inc/db.inc.old',
    '/db.sql.gz',
    '/dump.sql',
    '/backup.zip',
    '/backup/db.gz',
    '/%2e/backup.zip',
    '/do.php;.png',
    '/do.php%3B.png',
    '/do.php%23.png',
    '/do.php%00.jpg',
    '/do.php%5Cu000a.png',
    '/uploads/a.asp;.jpg',
  ]) {
    const f = exposed(path)
    assert.ok(f !== null && f.confidence >= 0.8, `missed: ${path}`)
  }
  // ordinary downloads, assets and API paths
  for (const path of [
    '/downloads/report.zip',
    '/static/app.js',
    '/api/v1/db/status',
    '/docs/backup-guide.html',
    '/files/site-map.xml',
    '/a.php',
    '/index.php/users',
    '/img/logo.png',
    '/git/commits',
    '/api/sql/queries',
    '/blog/how-to-use-.gitignore',
    '/releases/v1.2.tar.gz',
  ])
    assert.equal(exposed(path), null, path)
  // AI coding assistants' folders, wherever they are named
  for (const path of ['/.codex/config.toml', '/.zed/settings.json', '/.kiro/hooks/x.sh']) assert.ok(detect(path) !== null, path)
  for (const v of ['/.php;'.repeat(50_000), '.'.repeat(300_000), '/a'.repeat(100_000) + '.sql', 'x.php' + '\u0100'.repeat(100_000)]) {
    const t = performance.now()
    analyzeExposedFile(v.slice(0, 2048))
    analyzeExposedFile(v)
    assert.ok(performance.now() - t < 1000)
  }
})
