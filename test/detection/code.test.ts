import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeCode, analyzeCodeName } from '../../src/detection/code/analyzer.js'
import { analyzeJavaToken } from '../../src/detection/code/java-token.js'
import { createEngine } from '../../src/detection/engine.js'
import { tokenize } from '../../src/detection/code/php.js'
import { surest } from './support.js'

const detect = (value: string) => surest(analyzeCode, value)

test('PHP tokens: comments dropped, strings unescaped, variables apart', () => {
  const t = tokenize('ex/* x */ec("\\x70hp") # note\n$a')
  assert.deepEqual(
    t.map((k) => [k.kind, k.text]),
    [
      ['id', 'ex'],
      ['id', 'ec'],
      ['punct', '('],
      ['str', 'php'],
      ['punct', ')'],
      ['var', 'a'],
    ],
  )
  assert.equal(t[1]!.afterComment, 'block')
  assert.equal(t[5]!.afterComment, 'line')
})

// [value, rule, lowest confidence]
const attacks: [string, string, number][] = [
  // open tags with code that runs commands, reads input or writes files
  ['<?php passthru($_REQUEST["run"]); ?>', 'php-code-execution', 0.95],
  ['<? shell_exec("uname -a"); ?>', 'php-open-tag', 0.95],
  ['<?=$_COOKIE["k"]?>', 'php-open-tag', 0.9],
  ['<?= phpinfo() ?>', 'php-open-tag', 0.9],
  ['<?PhP $o = `uname -a`; ?>', 'php-open-tag', 0.9],
  ['<?php include $_GET["page"]; ?>', 'php-open-tag', 0.9],
  ['<?php file_put_contents("x.php", "payload"); ?>', 'php-open-tag', 0.9],
  ['assert($_GET[1]) <?=', 'php-code-execution', 0.95],
  ['%3C%3Fphp%20system%28%24_GET%5Bq%5D%29%3B', 'php-code-execution', 0.95],
  // calls fed by the request, by decoders, or with a shell command
  ['assert($_POST["z"])', 'php-code-execution', 0.95],
  ['eval(gzuncompress(base64_decode("eJzLSM3JyVcozy/KSQEAGgQEXQ==")))', 'php-code-execution', 0.95],
  ['eval(str_rot13(chr(115).chr(121)))', 'php-code-execution', 0.95],
  ['eval("phpinfo();")', 'php-code-execution', 0.9],
  ['eval($payload)', 'php-code-execution', 0.85],
  ['1;passthru("cat /etc/hosts")', 'php-code-execution', 0.9],
  ['system(uname)', 'php-code-execution', 0.9],
  ["'x'.shell_exec('id').'y'", 'php-code-execution', 0.9],
  ['@popen("whoami", "r")', 'php-code-execution', 0.9],
  ['@proc_open($c, $d, $p)', 'php-obfuscated-call', 0.85],
  ['call_user_func("assert", $x)', 'php-code-execution', 0.9],
  ['array_map("system", ["id"])', 'php-code-execution', 0.9],
  ['preg_replace("/.*/e", $_GET["c"], "")', 'php-code-execution', 0.9],
  // obfuscated callees and comments before the parenthesis
  ['("pass"."thru")("id")', 'php-obfuscated-call', 0.95],
  ['(ex.(e).c)("ls")', 'php-obfuscated-call', 0.95],
  ['"\\x73hell_exec"("id")', 'php-obfuscated-call', 0.95],
  ['[assert][0]($x)', 'php-obfuscated-call', 0.95],
  ['( string ) "sys" . "tem" ("id")', 'php-obfuscated-call', 0.95],
  ['$f = "pass" . "thru"; ($f)("id");', 'php-obfuscated-call', 0.9],
  ['system /* hi */ ("ls")', 'php-code-execution', 0.9],
  ['shell_exec // c\n($x)', 'php-obfuscated-call', 0.85],
  ['readfile/**/("x")', 'php-obfuscated-call', 0.85],
  ['strlen/* a */($x)', 'php-obfuscated-call', 0.8],
  // variable functions
  ['$_POST["f"]($_POST["a"])', 'php-variable-function', 0.95],
  ['$fn($_SERVER["X"])', 'php-variable-function', 0.95],
  ['$GLOBALS["h"]("x")', 'php-variable-function', 0.95],
  ['$___(1)', 'php-variable-function', 0.85],
  ['$$name(2)', 'php-variable-function', 0.85],
  ['${"a" . "b"}(3)', 'php-variable-function', 0.85],
  ['@$cb(4)', 'php-variable-function', 0.85],
  ['$O0O0O0[1](5)', 'php-variable-function', 0.85],
  ['$k /* x */ (6)', 'php-variable-function', 0.85],
  // serialized objects with a matching class name length
  ['O:7:"MyClass":1:{s:1:"p";s:2:"id";}', 'php-serialized-object', 0.9],
  ['C:+5:"Pwned":0:{}', 'php-serialized-object', 0.9],
  ['a:1:{i:0;O:4:"Evil":0:{}}', 'php-serialized-object', 0.9],
  // Java
  ['rO0ABXNyABNqYXZhLnV0aWwuQXJyYXlMaXN0eIHSHZnHYZ0DAAFJAARzaXpleHA=', 'java-deserialization', 0.9],
  ['{"state":"rO0ABXQABWhlbGxv"}', 'java-deserialization', 0.9],
  ['%72O0ABXNyABFqYXZh', 'java-deserialization', 0.9],
  ['0xaced00057372', 'java-deserialization', 0.9],
  ['\u00ac\u00ed\u0000\u0005sr', 'java-deserialization', 0.9],
  ['Runtime.getRuntime().exec(request.getParameter("c"))', 'java-process-execution', 0.95],
  ['%{(#r=@java.lang.Runtime@getRuntime()).(#r.exec("id"))}', 'java-process-execution', 0.9],
  ['new ProcessBuilder(request.getHeader("X")).start()', 'java-process-execution', 0.95],
  ['Class.forName("java.lang.Runtime").getMethod("getRuntime").invoke(null)', 'java-reflection', 0.9],
  ['x.getClass().forName("java.lang.Runtime").getRuntime().exec("id")', 'java-reflection', 0.9],
  ['new javax.script.ScriptEngineManager().getEngineByName("js").eval(request.getParameter("s"))', 'java-process-execution', 0.95],
  ['<object class="org.apache.commons.collections.functors.InvokerTransformer"><string>exec</string></object><java.lang.ProcessBuilder/>', 'java-gadget', 0.9],
  ['{"@type":"Lazymap", "x": "java.lang.Runtime"}', 'java-gadget', 0.9],
  ['class.module.classLoader.resources.context.parent.pipeline.first.suffix=.jsp', 'java-class-loader', 0.85],
  // a dangerous JDK class as the whole value: a type for a polymorphic deserializer
  ['java.lang.ProcessBuilder', 'java-class-name', 0.8],
  ['javax.naming.InitialContext', 'java-class-name', 0.8],
  ['com.sun.rowset.JdbcRowSetImpl', 'java-gadget', 0.85],
  ['org.apache.commons.collections.functors.ChainedTransformer', 'java-gadget', 0.85],
  // Node.js and Perl
  ['{"rce":"_$$ND_FUNC$$_function(){ return 1 }()"}', 'node-serialize', 0.95],
  ["require('child_process').execSync('id')", 'node-code-execution', 0.9],
  ['#{require.main.constructor._load("fs").readdirSync("/")}', 'node-code-execution', 0.9],
  ["this.constructor.constructor('return process')().exit()", 'node-code-execution', 0.9],
  ['process["mainModule"]', 'node-code-execution', 0.85],
  ['while(1);', 'node-code-execution', 0.8],
  ["@{[ system 'uname -a' ]}", 'perl-interpolation', 0.85],
]

test('code: injected PHP and Java payloads are found', () => {
  const failures: string[] = []
  for (const [value, rule, confidence] of attacks) {
    const f = detect(value)
    if (f === null || f.rule !== rule || f.confidence < confidence) failures.push(`${value}: ${f?.rule} ${f?.confidence}`)
  }
  assert.deepEqual(failures, [])
})

test('code: Spring4Shell and Struts bean paths in parameter names', () => {
  assert.equal(analyzeCodeName('class.module.classLoader.resources.context.parent.pipeline.first.pattern')?.rule, 'java-class-loader')
  assert.equal(analyzeCodeName('class["classLoader"].resources.dirContext.docBase')?.rule, 'java-class-loader')
  assert.equal(analyzeCodeName('user.classLoaderName'), null)
  assert.equal(analyzeCodeName('settings.classloader'), null)
  assert.equal(analyzeCodeName('java.io.FileOutputStream')?.rule, 'java-class-name')
  assert.equal(analyzeCodeName('java.version'), null)
})

// Suspicious, reported at higher paranoia only: code quoted in a ticket, probes without a sink.
const suspicious: [string, string][] = [
  ['<?php echo "hello"; ?>', 'php-open-tag'],
  ['<?= $title ?>', 'php-open-tag'],
  ['$_SERVER["HTTP_HOST"] is empty on my server', 'php-superglobal'],
  ['$callback($item)', 'php-variable-function'],
  ['$handlers[$type]($event)', 'php-variable-function'],
  ['Runtime.getRuntime().exec("ls -la") throws IOException', 'java-process-execution'],
  ['new ProcessBuilder("git", "status").start()', 'java-process-execution'],
  ['What is an InvokerTransformer?', 'java-gadget'],
]

test('code: quoted snippets and bare probes are suspicious, below the blocking threshold', () => {
  const failures: string[] = []
  for (const [value, rule] of suspicious) {
    const f = detect(value)
    if (f === null || f.rule !== rule || f.confidence >= 0.8 || f.confidence < 0.6) failures.push(`${value}: ${f?.rule} ${f?.confidence}`)
  }
  assert.deepEqual(failures, [])
})

// Ordinary values: code in tickets, prose with parentheses, templates, tokens.
const benign = [
  'System.out.println("Hello " + name);',
  'String s = String.valueOf(42); list.add(s);',
  'logger.info("user {} logged in", user.getId())',
  'java.lang.NullPointerException at com.example.Foo.bar(Foo.java:42)',
  'Runtime.getRuntime().availableProcessors()',
  'this.getClass().getClassLoader().getResource("app.properties")',
  '<?xml version="1.0" encoding="UTF-8"?><note>hi</note>',
  '<?php echo htmlspecialchars($name); ?>',
  '$this->db->query($sql)',
  'Foo::bar($x)',
  '{{ $t("welcome") }} and this.$emit("save")',
  'jQuery: $(".btn").click(fn)',
  'Our booking system (beta) is down',
  'Our system #1\n(the old one)',
  'The exec (executive) team meets on Monday',
  'Please eval (evaluate) the proposal',
  'exec(cmd) returns the exit code',
  'Price: $5 (incl. tax)',
  'total = $price * (1 + $tax)',
  'const f = (a) => a * 2; [1, 2].map(f)',
  '(function () { return 1 })()',
  'handlers[type](event)',
  'if (x) { y() } else { z() }',
  'Use array_map($fn, $list) to transform',
  'base64_decode() returns false on invalid input',
  'a:2:{i:0;s:1:"a";i:1;s:1:"b";}',
  'O:8:"too short":0:{}',
  'Scores O:5 and C:3 "draws"',
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.rO0ABcd',
  'dGhpcyBpcyBhIHRlc3Q=',
  'id=aced0005; hash=0xaced0005',
  'The class.classLoader property in Groovy',
  '/* comment */ (see below)',
  'SELECT COUNT(*) FROM orders',
  'java.util.List',
  'com.example.orders.Order',
  'Install java.lang.Runtime docs',
  'org.springframework.boot',
  'Set process.env.PORT before you require the module',
  'console.log(require("./package.json").version)',
  'while (queue.length) { work() }',
  'email me @ {[name]}',
  'for (;;) loops are fine in C',
]

test('code: ordinary values stay below the blocking threshold', () => {
  const failures: string[] = []
  for (const value of benign) {
    const f = detect(value)
    if (f !== null && f.confidence >= 0.8) failures.push(`${value}: ${f.rule} ${f.confidence}`)
  }
  assert.deepEqual(failures, [])
})

// CRS 944100-944300: one Java token, no trigger character, for a deserializer
const javaTokens: [string, string][] = [
  ['java.lang.Runtime', 'java-class-name'],
  ['java.io.FileOutputStream', 'java-class-name'],
  ['com.opensymphony.xwork2', 'java-class-name'],
  ['com.opensymphony.xwork2.ActionContext', 'java-class-name'],
  ['java.Runtime', 'java-class-name'],
  ['java.evil.processbuilder', 'java-class-name'],
  ['runtime.InvokerTransformer', 'java-gadget'],
  ['ProcessBuilder.x.whileclosure', 'java-gadget'],
  // base64 of `runtime`, `invokertransformer` and `ProcessBuilder`, at byte offsets 0, 1 and 2
  ['cnVudGltZQ', 'java-deserialization'],
  ['HJ1bnRpbWU', 'java-deserialization'],
  ['BydW50aW1l', 'java-deserialization'],
  ['aW52b2tlcnRyYW5zZm9ybWVy', 'java-deserialization'],
  ['UHJvY2Vzc0J1aWxkZXI=', 'java-deserialization'],
  // a serialization header alone, as a stream at byte 0, 1 or 2 of a base64 run starts it
  ['rO0ABQ', 'java-deserialization'],
  ['KztAAU', 'java-deserialization'],
  ['Cs7QAF', 'java-deserialization'],
]
const notJavaTokens = [
  'java.runtime.version',
  'java.version',
  'org.apache.commons',
  'org.springframework.boot',
  'com.example.Runtime',
  'NPE in java.lang.String',
  'see java.lang.Runtime docs',
  'app.runtime',
  'node.processbuilder.x',
  // base64 of ordinary words, and long blobs that happen to hold a name (judged on their text)
  'dXNlcm5hbWU',
  'cGFzc3dvcmQ=',
  'password1234',
  'KztBBU',
  'xrO0ABQ',
  Buffer.from('{"runtime":"nodejs20.x","handler":"index.handler","memory":128}').toString('base64'),
]

test('code: a Java class name or its base64 as the whole value', () => {
  const failures: string[] = []
  for (const [value, rule] of javaTokens) {
    const f = surest(analyzeJavaToken, value)
    if (f === null || f.rule !== rule || f.confidence < 0.8) failures.push(`${value}: ${f?.rule} ${f?.confidence}`)
  }
  for (const value of notJavaTokens) {
    const f = surest(analyzeJavaToken, value)
    if (f !== null && f.confidence >= 0.8) failures.push(`${value}: ${f.rule} ${f.confidence}`)
  }
  assert.deepEqual(failures, [])
})

test('engine: Java tokens made of plain characters are inspected, not skipped', () => {
  const engine = createEngine({ paranoia: 1 })
  const rule = (value: string, name = 'q') => engine.inspect([{ location: 'query', name, value, formEncoded: true }], null, false).findings[0]?.rule ?? null
  assert.equal(rule('com.opensymphony.xwork2'), 'java-class-name')
  assert.equal(rule('HJ1bnRpbWU'), 'java-deserialization')
  assert.equal(rule('Cs7QAF'), 'java-deserialization')
  assert.equal(rule('test', 'java.Runtime'), 'java-class-name')
  assert.equal(rule('Cs7QAFx9b'), null)
  assert.equal(rule('HJ1bnRpbWUxNTk0ZmQ3YjNjNDg5MmVhMDM3ZmE3ODAxZTBiNDkwZDk1'), null)
  assert.equal(rule('java.runtime.version'), null)
})

test('code analysis stays linear on long adversarial input', () => {
  const inputs = [
    '('.repeat(100_000),
    'system('.repeat(30_000),
    '$a['.repeat(50_000) + '('.repeat(10_000),
    ')('.repeat(50_000),
    '"'.repeat(100_000),
    '/*'.repeat(50_000),
    '<?'.repeat(50_000),
    'O:9:"'.repeat(30_000),
    '${'.repeat(50_000) + 'getruntime().exec(',
    '"sys".'.repeat(30_000) + '("x")',
    'rO0AB'.repeat(40_000),
    'java.'.repeat(40_000),
    'a.'.repeat(100) + 'runtime',
  ]
  for (const v of inputs) {
    const t = performance.now()
    analyzeCode(v)
    analyzeCodeName(v)
    analyzeJavaToken(v)
    const ms = performance.now() - t
    assert.ok(ms < 100, `${v.slice(0, 12)}...: ${ms} ms`)
  }
})
