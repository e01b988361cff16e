import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeCmdi, shellWord } from '../../src/detection/cmdi/analyzer.js'

test('shell words are read the way the shell reads them', () => {
  assert.equal(shellWord("w'h'o'am'i"), 'whoami')
  assert.equal(shellWord('c\\at'), 'cat')
  assert.equal(shellWord('/bin/ca""t'), 'cat')
  assert.equal(shellWord('C:\\Windows\\System32\\cmd.exe'), 'cmd')
  assert.equal(shellWord('$@i$9d'), 'id')
})

const attacks: [string, number][] = [
  ['; id', 0.85],
  ['| whoami', 0.85],
  ['&& cat /etc/passwd', 0.85],
  ['127.0.0.1; ls -la', 0.85],
  ['x\nuname -a', 0.85],
  ['$(whoami)', 0.9],
  ['`cat /etc/passwd`', 0.9],
  [';c\\at${IFS}/etc/passwd', 0.85],
  [";w'h'o'am'i", 0.85],
  [';/???/c?t /etc/passwd', 0.85],
  [';{cat,/etc/passwd}', 0.85],
  ['| ping -n 10 127.0.0.1', 0.85],
  ['& net user hacker P@ss /ADD', 0.85],
  ['() { :;}; /bin/bash -c "id"', 0.95],
  ['<!--#exec cmd="/bin/cat /etc/shadow"-->', 0.95],
  ["eval('sleep 5')", 0.8],
]

const benign = ['data:image/png;base64,iVBORw0KGgo/AAAA+bbb/ccc', 'Tom & Jerry', 'dogs; cat food', 'salt & pepper', 'A | B testing', 'R&D team', 'AT&T', 'Q&A: how do I list files?', 'meet at 5; sleep well', 'echo chamber', 'my id is 42', 'John & Mary; id card', 'cost: $(5)', 'rock & roll; jazz']

test('command injection: attacks are found', () => {
  for (const [value, confidence] of attacks) {
    const f = analyzeCmdi(value)
    assert.ok(f !== null, `missed: ${value}`)
    assert.ok(f.confidence >= confidence, `${value}: ${f.confidence}`)
  }
})

test('command injection: prose with & ; | passes; markdown `ls` scores low', () => {
  for (const value of benign) assert.equal(analyzeCmdi(value), null, value)
  assert.ok(analyzeCmdi('Use the `ls` command')!.confidence < 0.8)
})

test('command analysis stays linear on long adversarial input', () => {
  for (const v of [';'.repeat(200_000), '`'.repeat(200_000), '$('.repeat(100_000), '/???'.repeat(50_000), '; cat'.repeat(40_000)]) {
    const t = performance.now()
    analyzeCmdi(v)
    assert.ok(performance.now() - t < 2000, v.slice(0, 5))
  }
})
