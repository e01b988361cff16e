import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeXss, isScriptUrl } from '../../src/detection/xss/analyzer.js'

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
]

const benign = [
  '<b>bold</b> and <i>italic</i>',
  '<a href="https://example.com/a?b=1">link</a>',
  '<img src="https://cdn.example.com/a.png" alt="cat">',
  'I <3 cats',
  'a < b && c > d',
  "Tom's \"quote\" - ok",
  "x = 'a' + 'b'",
  "It's 5 - 3 = 2",
  '<p>Hello</p><ul><li>one</li></ul>',
  "use the 'onclick' prop",
  "Rock 'n' roll",
  "price: '5' * 2",
  'see https://example.com/docs',
  '<code>const x = 1</code>',
]

test('XSS: attacks are found with the right rule', () => {
  for (const [value, rule] of attacks) {
    const f = analyzeXss(value)
    assert.ok(f !== null, `missed: ${value}`)
    assert.equal(f.rule, rule, value)
  }
})

test('XSS: markdown-ish HTML and prose pass', () => {
  for (const value of benign) assert.equal(analyzeXss(value), null, value)
})

test('script URLs: schemes as browsers read them', () => {
  assert.ok(isScriptUrl('JaVaScRiPt:alert(1)'))
  assert.ok(isScriptUrl('java\tscript:alert(1)'))
  assert.ok(isScriptUrl('  vbscript:msgbox(1)'))
  assert.ok(!isScriptUrl('https://example.com/javascript:'))
  assert.ok(!isScriptUrl('data:image/png;base64,AAAA'))
})

test('XSS analysis stays linear on long adversarial input', () => {
  for (const v of ['<'.repeat(200_000), '<a '.repeat(70_000), "'-".repeat(100_000), '<x on'.repeat(40_000)]) {
    const t = performance.now()
    analyzeXss(v)
    assert.ok(performance.now() - t < 1500, v.slice(0, 5))
  }
})
