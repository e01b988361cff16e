/**
 * Command injection by meaning (design.md §4): a shell separator, pipe or substitution followed
 * by a command, as `sh` or `cmd.exe` would read it. The command word is de-obfuscated the way
 * the shell would (quotes and backslashes inside words vanish: `w'h'o'am'i`, `c\at`; `$IFS`,
 * `${IFS}` and `$9` expand to nothing or a space; `/???/c?t` is a glob) before it is looked up.
 * "Tom & Jerry" or "dogs; cat food" are not commands: a command needs a plausible argument
 * (a flag, a path, an address, a number) unless it is one that is run bare (`id`, `whoami`).
 */

export type CmdiRule = 'cmdi-separator' | 'cmdi-substitution' | 'cmdi-shellshock' | 'cmdi-windows' | 'cmdi-ssi'

export interface CmdiFinding {
  readonly rule: CmdiRule
  readonly confidence: number
}

// Run bare to prove execution or gather facts.
const bare = new Set([
  'id', 'whoami', 'uname', 'ifconfig', 'ipconfig', 'systeminfo', 'sysinfo', 'hostname', 'pwd', 'ver', 'netstat', 'tasklist',
  'env', 'printenv', 'set', 'ls', 'dir', 'ps', 'w', 'who', 'last', 'groups', 'getuid', 'reboot', 'shutdown', 'halt', 'xterm',
])
// Need an argument that looks like shell use.
const withArgs = new Set([
  'cat', 'tac', 'more', 'less', 'head', 'tail', 'nl', 'od', 'xxd', 'strings', 'type', 'echo', 'printf', 'wget', 'curl', 'fetch',
  'nc', 'ncat', 'netcat', 'socat', 'telnet', 'ssh', 'scp', 'ftp', 'tftp', 'bash', 'sh', 'zsh', 'ksh', 'csh', 'dash', 'python',
  'python2', 'python3', 'perl', 'ruby', 'php', 'node', 'lua', 'ping', 'nslookup', 'dig', 'host', 'traceroute', 'sleep', 'timeout',
  'rm', 'mv', 'cp', 'chmod', 'chown', 'touch', 'mkdir', 'find', 'grep', 'awk', 'sed', 'base64', 'xargs', 'kill', 'killall',
  'crontab', 'nohup', 'sudo', 'su', 'powershell', 'pwsh', 'cmd', 'net', 'certutil', 'bitsadmin', 'wmic', 'reg', 'sc',
  'mshta', 'rundll32', 'regsvr32', 'cscript', 'wscript', 'start', 'copy', 'del', 'ls', 'dir', 'uname', 'ps', 'id',
  'ifconfig', 'ip', 'arp', 'route', 'useradd', 'passwd', 'openssl', 'tar', 'zip', 'unzip', 'gzip', 'dd', 'mknod', 'mkfifo',
  'exec', 'eval', 'system', 'expr', 'export', 'unset', 'at', 'bitsadmin', 'certreq', 'vssadmin', 'schtasks',
])

/** What the shell would make of a word: quotes, backslashes and empty expansions removed. */
export function shellWord(w: string): string {
  // C:\Windows\System32\cmd.exe -> cmd; elsewhere '\' escapes a letter (`c\at`)
  const windows = /^[A-Za-z]:\\/.test(w)
  let out = windows ? w.slice(w.lastIndexOf('\\') + 1) : w
  out = out.replace(/\$\{IFS\}|\$IFS\b|\$\{?[@*0-9]\}?/g, '').replace(/["'^]/g, '')
  if (!windows) out = out.replace(/\\/g, '')
  return out
    .replace(/^.*\//, '') // /bin/cat -> cat
    .replace(/\.exe$/i, '')
    .toLowerCase()
}

const globCommands = ['cat', 'nc', 'id', 'ls', 'sh', 'bash', 'wget', 'curl', 'python', 'perl', 'whoami', 'uname', 'passwd']

/** `/???/c?t`, `/b?n/w?o?mi`: a glob that the shell expands to a command. Matched by hand: never a regex built from input. */
function globMatches(word: string): boolean {
  if (!word.startsWith('/') || !/[?*[]/.test(word)) return false
  const last = word.slice(word.lastIndexOf('/') + 1)
  if (last.length === 0 || last.length > 16) return false
  return globCommands.some((c) => glob(last, 0, c, 0))
}

function glob(p: string, i: number, s: string, j: number): boolean {
  if (i === p.length) return j === s.length
  const c = p[i]
  if (c === '*') {
    for (let k = j; k <= s.length; k++) if (glob(p, i + 1, s, k)) return true
    return false
  }
  if (j === s.length) return false
  if (c === '[') {
    const close = p.indexOf(']', i + 1)
    if (close === -1) return false
    return p.slice(i + 1, close).includes(s[j]!) && glob(p, close + 1, s, j + 1)
  }
  return (c === '?' || c === s[j]) && glob(p, i + 1, s, j + 1)
}

/** A plausible argument: a flag, a path, an address, a number, a redirect, or more shell. */
function shellArgument(rest: string): boolean {
  const a = rest.trimStart()
  if (a === '') return false
  return /^(?:-{1,2}[A-Za-z]|\/|~|\.{1,2}\/|[A-Za-z]:\\|\\\\|\$|`|"?https?:|[0-9]|[<>|;&]|%[A-Za-z]+%|'[^']*'\s*(?:$|[>|;&])|"[^"]*"\s*(?:$|[>|;&])|\S*\/\S*)/.test(a)
}

function commandAt(s: string, i: number, needArgs: boolean): boolean {
  // skip spaces, $IFS-style separators and a leading quote or brace: `; ${IFS}cat`, `|"id"`, `;{cat,/etc/passwd}`
  const text = s.slice(i, i + 200).replace(/\$\{IFS\}|\$IFS\b/g, ' ')
  const m = /^((?:\s|\{|\(|!)*)([^\s;|&<>(){}`]{1,64})([\s\S]{0,120})/.exec(text)
  if (m === null) return false
  // brace expansion `{cat,/etc/passwd}` is a command line only after a '{'
  const braces = m[1]!.includes('{') && m[2]!.includes(',')
  const word = shellWord(braces ? m[2]!.slice(0, m[2]!.indexOf(',')) : m[2]!)
  const rest = braces ? ' ' + m[2]!.slice(m[2]!.indexOf(',') + 1).replace(/,/g, ' ') + m[3] : m[3]!
  const restExpanded = rest.replace(/\$\{IFS\}|\$IFS/g, ' ')
  if (globMatches(m[2]!)) return true
  // Windows: `net user hacker P /ADD`, `netsh firewall set opmode disable`
  if ((word === 'net' || word === 'net1') && /^\s+(?:user|localgroup|view|share|use|start|stop|session|accounts|group)\b/i.test(restExpanded)) return true
  if (word === 'netsh' && /^\s+\w/.test(restExpanded)) return true
  if (bare.has(word)) {
    const after = restExpanded.trimStart()
    if (after === '' || /^[;|&\n`)'"#]|^-[A-Za-z]|^\//.test(after)) return true
  }
  if (withArgs.has(word) && (!needArgs || shellArgument(restExpanded))) return true
  return false
}

// system('id'), eval('sleep 5'), passthru("cat /etc/passwd"): a command handed to a language's shell call
const shellCall = /\b(?:eval|system|exec|passthru|shell_exec|popen|proc_open|os\.system|subprocess\.\w+|Runtime\.getRuntime\(\)\.exec)\s*\(\s*["']/

export function analyzeCmdi(value: string): CmdiFinding | null {
  // Shellshock: a function definition in a header value
  if (/\(\)\s*\{[^}]{0,20}\}\s*;/.test(value)) return { rule: 'cmdi-shellshock', confidence: 0.95 }
  // Server-side includes: <!--#exec cmd="…"-->
  if (/<!--\s*#\s*exec\b/i.test(value)) return { rule: 'cmdi-ssi', confidence: 0.95 }
  const call = shellCall.exec(value)
  if (call !== null && commandAt(value, call.index + call[0].length, false)) return { rule: 'cmdi-substitution', confidence: 0.8 }
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!
    if (c === '$' && value[i + 1] === '(' && value[i + 2] !== '(') {
      if (commandAt(value, i + 2, false)) return { rule: 'cmdi-substitution', confidence: 0.9 }
    } else if (c === '`') {
      // `ls` alone is also how markdown quotes a command name: scored low without arguments
      const close = value.indexOf('`', i + 1)
      const inner = value.slice(i + 1, close === -1 ? value.length : close)
      if (/\S\s+\S/.test(inner.trim()) && commandAt(inner, 0, true)) return { rule: 'cmdi-substitution', confidence: 0.9 }
      if (commandAt(inner, 0, false)) return { rule: 'cmdi-substitution', confidence: 0.6 }
      if (close !== -1) i = close - 1 // the closing backtick opens nothing
    } else if (c === ';' || c === '|' || c === '&' || c === '\n' || c === '\r') {
      let j = i + 1
      while (value[j] === '|' || value[j] === '&') j++
      if (commandAt(value, j, true)) return { rule: 'cmdi-separator', confidence: 0.85 }
      i = j - 1
    } else if (c === '%' && /^%(?:COMSPEC|SYSTEMROOT|WINDIR|PROGRAMFILES)%/i.test(value.slice(i, i + 16))) {
      return { rule: 'cmdi-windows', confidence: 0.8 }
    }
  }
  // the whole value as a command line (an app that runs a parameter as a command)
  if (commandAt(value, 0, true) && /^\s*\S+\s+(?:-{1,2}[A-Za-z]|\/(?:etc|bin|usr|tmp|var|dev|proc|home|root)\b|[A-Za-z]:\\)/.test(value)) {
    return { rule: 'cmdi-separator', confidence: 0.6 }
  }
  return null
}
