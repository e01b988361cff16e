/**
 * Attack-tool fingerprints in User-Agent and similar headers (a signature, used where no
 * tokenizer can decide). These tools announce themselves by default; a determined attacker
 * changes the header, but blocking the default catches the bulk of automated scanning early.
 * Ordinary API clients (curl, python-requests, Go-http-client, okhttp, PostmanRuntime) and
 * search-engine crawlers are not scanners and pass.
 */

export type ScannerRule = 'scanner-attack-tool' | 'scanner-recon'

export interface ScannerFinding {
  readonly rule: ScannerRule
  readonly confidence: number
}

// Offensive tools: vulnerability scanners, injectors, fuzzers, brute-forcers (lower case, matched as words).
const attackTools = [
  'sqlmap',
  'nikto',
  'nmap scripting engine',
  'nmap nse',
  'masscan',
  'zgrab',
  'nuclei',
  'wpscan',
  'dirbuster',
  'gobuster',
  'ffuf',
  'feroxbuster',
  'acunetix',
  'netsparker',
  'invicti',
  'w3af',
  'arachni',
  'burpcollaborator',
  'burp collaborator',
  'havij',
  'openvas',
  'nessus',
  'owasp zap',
  'zaproxy',
  'commix',
  'skipfish',
  'whatweb',
  'jaeles',
  'xsstrike',
  'wfuzz',
  'dirb',
  'fimap',
  'bsqlbf',
  'sqlninja',
  'pangolin',
  'paros',
  'webinspect',
  'appscan',
  'morfeus',
  'zmeu',
  'jorgee',
  'hydra',
  'brutus',
  'webshag',
  'wapiti',
  'golismero',
  'joomscan',
  'droopescan',
  'cmsmap',
  'xsser',
  'tplmap',
  'nosqlmap',
  'dotdotpwn',
  'uniscan',
  'webfuzzer',
  'interactsh',
  'ghauri',
  'dalfox',
  'kiterunner',
  'metasploit',
  'struts-pwn',
  'log4shell-scanner',
  'mozilla/5.0 sf/',
  'crowdstrike falcon surface',
]
// Internet-wide survey crawlers: reconnaissance rather than an attack; suspicious only.
const reconTools = [
  'censysinspect',
  'expanse',
  'internet-measurement',
  'netcraftsurveyagent',
  'l9explore',
  'l9tcpid',
  'zoomeye',
  'shodan',
  'binaryedge',
  'leakix',
  'httpx',
  'odin.io',
]

const isWordChar = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90)

/** `token` as a word: not inside a longer word ("vegan", "paroscope"); digits and punctuation may touch it. */
function hasWord(lower: string, token: string): boolean {
  for (let at = lower.indexOf(token); at !== -1; at = lower.indexOf(token, at + 1)) {
    const before = at === 0 ? 0 : lower.charCodeAt(at - 1)
    const after = at + token.length >= lower.length ? 0 : lower.charCodeAt(at + token.length)
    if (!isWordChar(before) && !isWordChar(after)) return true
  }
  return false
}

export function analyzeScanner(value: string): ScannerFinding | null {
  const lower = value.slice(0, 1024).toLowerCase()
  for (const t of attackTools) if (hasWord(lower, t)) return { rule: 'scanner-attack-tool', confidence: 0.95 }
  // OWASP ZAP sends a browser UA by default, but older versions and scripts say `ZAP/2.x`
  if (/(?:^|[^a-z])zap\/\d/.test(lower)) return { rule: 'scanner-attack-tool', confidence: 0.9 }
  for (const t of reconTools) if (hasWord(lower, t)) return { rule: 'scanner-recon', confidence: 0.6 }
  return null
}
