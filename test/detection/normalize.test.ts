import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeEmbedded, decodeUtf8Lenient, htmlDecode, isPlainValue, jsUnescape, readings, urlDecode } from '../../src/detection/normalize.js'

test('URL decoding: %XX, %uXXXX, + only in forms, invalid escapes kept', () => {
  assert.equal(urlDecode('%27%20OR%201%3D1', false).text, "' OR 1=1")
  assert.equal(urlDecode('%u003cscript', false).text, '<script')
  assert.equal(urlDecode('a+b', true).text, 'a b')
  assert.equal(urlDecode('a+b', false).text, 'a+b')
  assert.equal(urlDecode('100%', false).text, '100%')
  assert.equal(urlDecode('%zz%4', false).text, '%zz%4')
  assert.equal(urlDecode('caf%C3%A9', false).text, 'café')
})

test('overlong UTF-8 is read as the character it spells, and flagged', () => {
  const r = urlDecode('%c0%ae%c0%ae%c0%af', false)
  assert.equal(r.text, '../')
  assert.equal(r.overlong, true)
  assert.equal(decodeUtf8Lenient([0xe0, 0x80, 0xaf]).text, '/')
  assert.equal(decodeUtf8Lenient([0xff, 0x41]).text, '\u00ffA')
})

test('HTML entities, named and numeric, with or without the semicolon', () => {
  assert.equal(htmlDecode('&lt;img src=x onerror&equals;alert(1)&gt;'), '<img src=x onerror=alert(1)>')
  assert.equal(htmlDecode('javascript&colon;alert&lpar;1&rpar;'), 'javascript:alert(1)')
  assert.equal(htmlDecode('&#60;&#x3C;&#0000060'), '<<<')
  assert.equal(htmlDecode('Tom & Jerry &copy'), 'Tom & Jerry &copy')
  // any number of leading zeros; a known name without ';' is its longest prefix, as in browsers
  assert.equal(htmlDecode('&#00000000000060;&#x000000000003c;'), '<<')
  assert.equal(htmlDecode('&ltscript&gtalert&lpar1&rpar'), '<script>alert(1)')
  assert.equal(htmlDecode('AT&T &ampersand'), 'AT&T &ersand')
})

test('JavaScript escapes: \\u, \\u{}, \\x, octal', () => {
  assert.equal(jsUnescape('\\u003cscript\\x3e'), '<script>')
  assert.equal(jsUnescape('\\u{3c}svg'), '<svg')
  assert.equal(jsUnescape('\\74\\57'), '</')
  assert.equal(jsUnescape('C:\\path\\file'), 'C:\\path\\file')
})

test('readings peel several layers and find text in base64 and hex', () => {
  const double = readings('%253Cscript%253E', true)
  assert.equal(double.at(-1)!.text, '<script>')
  assert.deepEqual(double.at(-1)!.transforms, ['plus', 'url'])
  const mixed = readings('%26lt%3Bsvg%26gt%3B', false)
  assert.equal(mixed.at(-1)!.text, '<svg>')
  const nul = readings('..%00/etc/passwd', false)
  assert.equal(nul.at(-1)!.text, '../etc/passwd')
  assert.ok(nul.at(-1)!.transforms.includes('null-byte'))
  const b64 = readings(Buffer.from("' UNION SELECT password FROM users--").toString('base64'), false)
  assert.equal(b64.at(-1)!.text, "' UNION SELECT password FROM users--")
  assert.deepEqual(b64.at(-1)!.transforms, ['base64'])
  assert.equal(decodeEmbedded('0x3c7363726970743e')?.text, '<script>')
  assert.equal(readings('hello', false).length, 1)
  // URL-encoded before the base64 wrapping, and short values too
  const wrapped = readings(Buffer.from('%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E').toString('base64'), false)
  assert.equal(wrapped.at(-1)!.text, '<img src=x onerror=alert(1)>')
  assert.deepEqual(wrapped.at(-1)!.transforms, ['base64', 'plus'])
  assert.equal(readings(Buffer.from('${7*7}').toString('base64'), false).at(-1)!.text, '${7*7}')
  // a raw '+' of base64 in a query is not a space there
  const plus = readings(Buffer.from('<svg>>').toString('base64'), true)
  assert.equal(plus.at(-1)!.text, '<svg>>')
  assert.deepEqual(plus.at(-1)!.transforms, ['base64'])
})

test('readings: JS escapes under the URL encoding inside base64 are undone too', () => {
  // base64 of `al%5Cu0065rt%281%29`
  const three = readings('YWwlNUN1MDA2NXJ0JTI4MSUyOQ==', false)
  assert.equal(three.at(-1)!.text, 'alert(1)')
  assert.ok(three.at(-1)!.transforms.includes('js-escape'))
  // base64 of `top['al\\145rt'](1)`: an octal escape with no URL layer
  assert.equal(readings('dG9wWydhbFwxNDVydCddKDEp', false).at(-1)!.text, "top['alert'](1)")
  // a Windows path in base64 keeps its reading as sent
  const path = readings(Buffer.from('C:\\Users\\bob\\notes.txt').toString('base64'), false)
  assert.ok(path.some((r) => r.text === 'C:\\Users\\bob\\notes.txt'))
})

test('base64 look-alikes that are not text are left alone', () => {
  assert.equal(decodeEmbedded('550e8400e29b41d4a716446655440000'), null) // a UUID's hex
  assert.equal(decodeEmbedded('abcdefghijklmnop'), null)
  assert.equal(decodeEmbedded('12345678901234'), null)
})

test('cheap first: plain values skip the analyzers, anything else does not', () => {
  for (const v of ['hello', 'user_42', 'jane.doe@example.com', '2026-11-23', '3.14', 'abc-def', '550e8400-e29b-41d4-a716-446655440000'])
    assert.ok(isPlainValue(v), v)
  for (const v of [
    "O'Brien",
    '1 or true',
    '../etc',
    '<b>',
    'a;b',
    '$(id)',
    'a/b',
    Buffer.from('select 1 from dual').toString('base64').replace(/=+$/, ''),
    '.htaccess',
    '0x2e0x2e0x2f',
    // tokens an analyzer judges whole although made of plain characters
    'java.lang.Runtime',
    'com.opensymphony.xwork2',
    'HJ1bnRpbWU',
    'Cs7QAF',
    'convert.iconv.437.CP930',
  ]) {
    assert.ok(!isPlainValue(v), v)
  }
  for (const v of ['java_version', 'conversion.rate', 'Password1234', 'Cs7QAFxyz']) assert.ok(isPlainValue(v), v)
})

test('decoding stays linear on long adversarial input', () => {
  const inputs = ['%25'.repeat(100_000), '&#x'.repeat(100_000), '\\u'.repeat(100_000), 'A'.repeat(300_000), '%c0'.repeat(100_000)]
  for (const v of inputs) {
    const t = performance.now()
    readings(v, true)
    assert.ok(performance.now() - t < 1000, `${v.slice(0, 6)}… took too long`)
  }
})
