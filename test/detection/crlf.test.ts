import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeCrlf, analyzeCrlfName, foldBreaks } from '../../src/detection/crlf/analyzer.js'
import { surest } from './support.js'

const detect = (value: string) => surest(analyzeCrlf, value)

test('disguised line breaks are folded the way Latin-1 truncation reads them', () => {
  assert.deepEqual(foldBreaks('a\u560d\u560ab'), { text: 'a\r\nb', disguised: true })
  assert.deepEqual(foldBreaks('a\u2028b'), { text: 'a\nb', disguised: true })
  assert.deepEqual(foldBreaks('plain'), { text: 'plain', disguised: false })
})

const attacks: [string, number][] = [
  ['x\r\nSet-Cookie: session=evil', 0.95],
  ['%0d%0aSet-Cookie:%20x=y', 0.95],
  ['/\nLocation: http://evil.example', 0.9],
  ['en%0aContent-Type:%20text/html', 0.9],
  ['x\r\n\r\n<html><script>alert(1)</script></html>', 0.95],
  ['oreo=munchmuch%0d%0a%0d%0a<HTML><title></title></HTML>', 0.95],
  ['x%0d%0aContent-Length:%200%0d%0a%0d%0aHTTP/1.1%20200%20OK', 0.95],
  ['x\u560d\u560aSet-Cookie: a=b', 0.95],
  ['%E5%98%8D%E5%98%8ASet-Cookie:%20a=b', 0.95],
  ['x\u2028Location: //evil.example', 0.95],
  ['%0d%0aRemote-Addr: foo.bar.com', 0.85],
  ['Headerdata%0dInjectedHeader: x', 0.85],
  ['x\nX-Forwarded-For: 127.0.0.1', 0.9],
  ['x\r\nGET /admin HTTP/1.1', 0.95],
]

const benign = [
  'Note:\nSee you tomorrow',
  'Hello,\n\nThanks for the help.\nBest,\nAnn',
  'Meeting notes\nDate: Monday\nHost: Alice',
  'Line one\r\nLine two',
  'Todo:\n- milk\n- eggs',
  'Address\nLocation: Paris, France',
  'Q: why?\nA: because',
  'See <b>this</b>\n\nand that',
  '嘉宾们好',
  'Česká republika',
  'Těšíme se, čekáme: ano',
  'Summary\r\nStatus: done',
]

test('crlf: header injection and response splitting are found', () => {
  for (const [value, confidence] of attacks) {
    const f = detect(value)
    assert.ok(f !== null, `missed: ${value}`)
    assert.ok(f.confidence >= confidence, `${value}: ${f.rule} ${f.confidence}`)
  }
})

test('crlf: multi-line prose in a body stays below the blocking threshold', () => {
  for (const value of benign) {
    const f = detect(value)
    assert.ok(f === null || f.confidence < 0.8, `${JSON.stringify(value)}: ${f?.rule} ${f?.confidence}`)
  }
})

test('crlf names: a line break in a parameter name', () => {
  assert.ok(analyzeCrlfName('parameter\r\n')!.confidence >= 0.9)
  assert.equal(analyzeCrlfName('user_name'), null)
})

test('crlf analysis stays linear on long adversarial input', () => {
  const inputs = [
    '\r\n'.repeat(50_000),
    '\nSet-Cookie:'.repeat(9_000),
    '\r\nX-' + 'a'.repeat(100_000),
    '\u560d'.repeat(100_000),
    '\nGET /' + 'a'.repeat(100_000),
    'GET ' + ' '.repeat(100_000) + '/',
  ]
  for (const v of inputs) {
    const t = performance.now()
    analyzeCrlf(v)
    // quadratic time on 100 K characters takes seconds; 250 ms leaves room for a loaded machine
    assert.ok(performance.now() - t < 250, `${JSON.stringify(v.slice(0, 10))}: ${performance.now() - t} ms`)
  }
})
