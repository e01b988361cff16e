import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeSsrf, classifyHost, expandV6 } from '../../src/detection/ssrf/analyzer.js'
import { surest } from './support.js'

const detect = (value: string) => surest(analyzeSsrf, value)

test('IPv6 literals are expanded, IPv4 inside them included', () => {
  assert.deepEqual(expandV6('::1'), [0, 0, 0, 0, 0, 0, 0, 1])
  assert.deepEqual(expandV6('::ffff:127.0.0.1'), [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1])
  assert.deepEqual(expandV6('fd00:ec2::254'), [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254])
  assert.equal(expandV6('not-an-ip'), null)
  assert.equal(classifyHost('[::ffff:7f00:1]')?.kind, 'loopback')
  assert.equal(classifyHost('10.1.2.3')?.kind, 'private')
  assert.equal(classifyHost('example.com'), null)
})

const attacks: [string, number][] = [
  // loopback, private, link-local, unspecified
  ['http://127.0.0.1/admin', 0.9],
  ['http://localhost:8080/actuator/env', 0.9],
  ['https://10.0.0.5/internal', 0.9],
  ['http://172.16.3.4:9200/_cat/indices', 0.9],
  ['http://192.168.1.1/', 0.9],
  ['http://169.254.1.1/', 0.9],
  ['http://0.0.0.0:6379/', 0.9],
  ['http://[::]:80/', 0.9],
  ['http://[fe80::1]/', 0.9],
  ['http://[fe80::1%25eth0]/', 0.9],
  // cloud metadata
  ['http://169.254.169.254/latest/meta-data/iam/security-credentials/', 0.95],
  ['http://metadata.google.internal/computeMetadata/v1/', 0.95],
  ['http://100.100.100.200/latest/meta-data/', 0.95],
  ['http://[fd00:ec2::254]/latest/meta-data/', 0.95],
  ['169.254.169.254/latest/user-data', 0.85],
  // the container's host and the cluster's API server
  ['http://host.docker.internal:2375/containers/json', 0.9],
  ['host.containers.internal/admin', 0.85],
  ['http://localhost4.localdomain4:8080/', 0.9],
  ['https://kubernetes.default.svc/api/v1/namespaces/default/secrets', 0.85],
  // encodings of 127.0.0.1 and 169.254.169.254
  ['http://2130706433/', 0.95],
  ['http://0177.0.0.1/', 0.95],
  ['http://0x7f000001/', 0.95],
  ['http://0x7f.0.0.1/', 0.95],
  ['http://127.1/', 0.95],
  ['http://0/', 0.9],
  ['http://[::1]/', 0.95],
  ['http://[::ffff:127.0.0.1]/', 0.95],
  ['http://[0:0:0:0:0:ffff:7f00:1]/', 0.95],
  ['http://[::ffff:a9fe:a9fe]/', 0.95],
  ['http://7147006462/', 0.95],
  ['http://0x41414141A9FEA9FE/', 0.95],
  ['http://\u2460\u2461\u2466.\u24ea.\u24ea.\u2460/', 0.95],
  ['http://%31%32%37%2e%30%2e%30%2e%31/', 0.9],
  ['http:0x7f.1', 0.9],
  ['//127.0.0.1/admin', 0.9],
  // names
  ['http://localhost/', 0.95],
  ['http://admin.localhost/', 0.95],
  ['http://LOCALHOST./', 0.95],
  ['http://localtest.me/', 0.95],
  ['http://foo.localtest.me:3000/', 0.95],
  ['http://127.0.0.1.nip.io/', 0.95],
  ['http://app.10.0.0.1.sslip.io/', 0.9],
  ['http://10-0-0-1.nip.io/', 0.9],
  ['http://7f000001.nip.io/', 0.95],
  ['http://\\l\\o\\c\\a\\l\\h\\o\\s\\t/', 0.9],
  // parser confusion
  ['http://evil.com@127.0.0.1/', 0.95],
  ['http://evil.com\\@127.0.0.1/', 0.9],
  ['http://evil.com#@169.254.169.254/', 0.9],
  ['http://google.com:80 &@google.com:80# @127.88.23.245:22/', 0.9],
  // host:port with no scheme
  ['127.0.0.1:6379', 0.85],
  ['localhost:8080/admin', 0.85],
  ['[::1]:22', 0.85],
  // schemes that are not a web fetch
  ['file:///etc/passwd', 0.9],
  ['file:/etc/passwd', 0.9],
  ['file://C:/Windows/win.ini', 0.9],
  ['gopher://127.0.0.1:6379/_config%20set%20dir%20/var/www', 0.95],
  ['gopher://evil.com:25/xHELO', 0.9],
  ['dict://127.0.0.1:11211/stats', 0.9],
  ['ldap://evil.com:389/x', 0.85],
  ['jar:http://evil.com/x.jar!/', 0.9],
  ['netdoc:///etc/passwd', 0.9],
  ['tftp://evil.com:69/x', 0.85],
  ['sftp://evil.com:1234/', 0.85],
  ['rsync://[0:0:0:0:0:ffff:169.254.169.254]', 0.9],
  ['ssh://0177.00.00.01', 0.9],
  // a URL held in a parameter of another URL
  ['https://example.com/redirect?url=http://169.254.169.254/', 0.9],
  ['{"webhook":"http://127.0.0.1:2375/containers/json"}', 0.9],
]

// Values an ordinary API sees: must stay below the default blocking threshold.
const benign = [
  'https://example.com/page',
  'https://api.github.com/repos',
  'http://example.com/?next=/home',
  'https://www.google.com/search?q=ssrf',
  'jane.doe@example.com',
  'mailto:jane@example.com',
  '127 apples',
  '+1 (555) 010-0199',
  '2024-05-01',
  '10/12/2024 10:00',
  'version 10.0.0.1 released',
  'v1.2.3.4',
  'The server at 192.168.0.10 is down',
  'for local testing use http://localhost:3000',
  'ftp://ftp.example.org/pub/file.tgz',
  'wss://socket.example.com/live',
  'http://203.0.113.7/',
  'https://[2001:db8::1]/',
  'https://user:pass@example.com/',
  '2130706433',
  '0x7f000001',
  'file: report.pdf',
  'dict: a mapping of keys',
  'profile: ldap user',
  'https://nip.io/',
  'https://example.com/#@evil',
  'See the docs: https://docs.example.com/a/b?c=d#e',
  'http://0xd8.0x3a.0xd6.0xce',
  'localhost',
  '127.0.0.1',
  'time 12:30:45',
  'ratio 3:2',
  'https://example.internal.company.com/',
  '10.0.0.1-10.0.0.9',
]

test('SSRF: internal targets, encodings and odd schemes are found', () => {
  const failures: string[] = []
  for (const [value, confidence] of attacks) {
    const f = detect(value)
    if (f === null || f.confidence < confidence) failures.push(`${value}: ${f?.rule} ${f?.confidence}`)
  }
  assert.deepEqual(failures, [])
})

test('SSRF: ordinary URLs, addresses and prose stay below the blocking threshold', () => {
  const failures: string[] = []
  for (const value of benign) {
    const f = detect(value)
    if (f !== null && f.confidence >= 0.8) failures.push(`${value}: ${f.rule} ${f.confidence}`)
  }
  assert.deepEqual(failures, [])
})

test('SSRF: a private address in prose is only suspicious', () => {
  const f = detect('The server at 192.168.0.10 is down')
  assert.ok(f !== null && f.confidence >= 0.5 && f.confidence < 0.8)
})

test('SSRF: malformed input never throws', () => {
  for (const v of ['http://[', 'http://[::ffff:999.1.1.1]/', 'gopher://', '//', '\u0000http://x', 'http://%zz/', 'http://a@@@b']) {
    assert.doesNotThrow(() => analyzeSsrf(v))
  }
})

test('SSRF analysis stays linear on long adversarial input', () => {
  for (const v of [
    'http://'.repeat(20_000),
    '@'.repeat(200_000),
    'http://a' + '@'.repeat(100_000),
    '1.'.repeat(100_000),
    'file:'.repeat(30_000),
    'a://'.repeat(50_000),
  ]) {
    const t = performance.now()
    analyzeSsrf(v)
    assert.ok(performance.now() - t < 200, `${v.slice(0, 12)}: ${performance.now() - t} ms`)
  }
})
