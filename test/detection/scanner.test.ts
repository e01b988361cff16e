import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeScanner } from '../../src/detection/scanner/analyzer.js'

const tools = [
  'sqlmap/1.7.2#stable (https://sqlmap.org)',
  'Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000003)',
  'Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)',
  'masscan/1.3 (https://github.com/robertdavidgraham/masscan)',
  'Mozilla/5.0 zgrab/0.x',
  'Nuclei - Open-source project (github.com/projectdiscovery/nuclei)',
  'WPScan v3.8.22 (https://wpscan.com/wordpress-security-scanner)',
  'DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)',
  'gobuster/3.6',
  'Fuzz Faster U Fool v2.1.0 (ffuf)',
  'feroxbuster/2.10.1',
  'Mozilla/5.0 (compatible; Acunetix Web Vulnerability Scanner)',
  'Mozilla/5.0 (compatible; Netsparker)',
  'w3af.org',
  'Arachni/v1.5.1',
  'Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1; SV1; .NET CLR 2.0.50727) Havij',
  'Mozilla/5.0 (compatible; OpenVAS-VT 22.4)',
  'Nessus SOAP',
  'Mozilla/5.0 (Windows NT 10.0) OWASP ZAP/2.14',
  'commix/v3.8',
  'Mozilla/5.0 SF/2.10b',
  'WhatWeb/0.5.5',
  'jaeles',
  'XSStrike',
  'Wfuzz/3.1.0',
  'burpcollaborator.net',
  'skipfish',
]

const clients = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  'curl/8.5.0',
  'python-requests/2.31.0',
  'Go-http-client/2.0',
  'okhttp/4.12.0',
  'PostmanRuntime/7.36.0',
  'axios/1.6.2',
  'Wget/1.21.4',
  'node-fetch/1.0',
  'Googlebot/2.1 (+http://www.google.com/bot.html)',
  'Mozilla/5.0 (Linux; Android 7.1.1; LG-M700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/85.0.4183.81 Mobile Safari/537.36',
  '[FBAN/FB4A;FBAV/302.0.0.45.119;FBBV/268946149;FBCR/MegaFon #1;FBMF/samsung;FBDV/SM-J510FN;FBSV/7.1.1]',
  'Zapier',
  'Vegan Recipes App/1.0',
]

test('scanner: default User-Agents of attack tools are found', () => {
  for (const ua of tools) {
    const f = analyzeScanner(ua)
    assert.ok(f !== null && f.confidence >= 0.9, `missed: ${ua}`)
  }
})

test('scanner: browsers, API clients and crawlers pass', () => {
  for (const ua of clients) assert.equal(analyzeScanner(ua), null, ua)
  assert.ok(analyzeScanner('Mozilla/5.0 (compatible; CensysInspect/1.1)')!.confidence < 0.8)
})

test('scanner analysis stays linear on long adversarial input', () => {
  for (const v of ['sqlma'.repeat(20_000), 'xnikto'.repeat(20_000), 'zap/'.repeat(25_000)]) {
    const t = performance.now()
    analyzeScanner(v)
    assert.ok(performance.now() - t < 250, `${v.slice(0, 10)}: ${performance.now() - t} ms`)
  }
})
