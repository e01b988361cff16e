/**
 * The command vocabulary of the shell reader: which words are commands, and how much of a
 * command line each needs before it reads as one. English words among them ("cat", "find",
 * "more", "time") are why most of these need a plausible argument after a separator.
 */

// Run bare to prove execution or gather facts.
export const bare: ReadonlySet<string> = new Set([
  'id', 'whoami', 'uname', 'ifconfig', 'ipconfig', 'systeminfo', 'sysinfo', 'hostname', 'pwd', 'ver', 'netstat', 'tasklist',
  'env', 'printenv', 'set', 'ls', 'dir', 'ps', 'w', 'who', 'last', 'groups', 'getuid', 'reboot', 'shutdown', 'halt', 'xterm',
  'lastlog', 'lastb', 'htop', 'top', 'aptitude', 'visudo', 'ifconfig', 'arp', 'route', 'nproc', 'lsof', 'ss', 'users', 'uptime',
])

// Bare commands that are no English word: alone at the start of a value followed by a
// separator, or in a code span standing for the whole value, they are a probe.
export const recon: ReadonlySet<string> = new Set([
  'id', 'whoami', 'uname', 'ifconfig', 'ipconfig', 'systeminfo', 'sysinfo', 'hostname', 'netstat', 'tasklist', 'printenv',
  'getuid', 'lastlog', 'lastb', 'htop', 'aptitude', 'visudo', 'nproc', 'lsof',
])

// Need an argument that looks like shell use.
export const commands: ReadonlySet<string> = new Set([
  // reading and writing files
  'cat', 'tac', 'more', 'less', 'head', 'tail', 'nl', 'od', 'xxd', 'hexdump', 'strings', 'type', 'echo', 'printf', 'tee', 'rev',
  'tr', 'cut', 'sort', 'uniq', 'wc', 'diff', 'comm', 'column', 'fold', 'paste', 'join', 'base64', 'base32', 'uconv', 'iconv',
  'file', 'stat', 'dd', 'split', 'grep', 'egrep', 'fgrep', 'zgrep', 'awk', 'gawk', 'mawk', 'nawk', 'sed', 'find', 'locate',
  'which', 'whereis', 'xargs', 'rm', 'mv', 'cp', 'ln', 'unlink', 'shred', 'truncate', 'chmod', 'chown', 'chgrp', 'chattr', 'touch',
  'mkdir', 'rmdir', 'tar', 'zip', 'unzip', 'gzip', 'gunzip', 'bzip2', 'xz', 'zcat', 'mknod', 'mkfifo', 'install', 'date',
  // network
  'wget', 'curl', 'fetch', 'lwp-download', 'aria2c', 'nc', 'ncat', 'netcat', 'socat', 'telnet', 'ssh', 'scp', 'sftp', 'ssh-keygen',
  'ssh-copy-id', 'rsync', 'ftp', 'tftp', 'ping', 'ping6', 'nslookup', 'dig', 'host', 'traceroute', 'tracert', 'nmap', 'tcpdump',
  'ip', 'arp', 'route', 'iptables', 'openssl', 'rmt', 'rmt-tar', 'rmt-dump',
  // configuration management and security tooling on servers: a way to run anything, everywhere
  'ansible', 'ansible-playbook', 'ansible-galaxy', 'ansible-vault', 'ansible-console', 'ansible-doc', 'ansible-inventory',
  'ansible-pull', 'ansible-config', 'chef', 'chef-client', 'chef-shell', 'chef-run', 'chef-vault', 'knife', 'cscli', 'salt', 'salt-call',
  // shells and interpreters
  'bash', 'sh', 'zsh', 'ksh', 'dash', 'csh', 'tcsh', 'ash', 'fish', 'busybox', 'python', 'python2', 'python3', 'perl', 'ruby',
  'irb', 'php', 'node', 'nodejs', 'deno', 'lua', 'tclsh', 'expect', 'jrunscript', 'gdb', 'vi', 'vim', 'ex', 'nano', 'emacs',
  'gcc', 'cc', 'c89', 'c99', 'make', 'java', 'pip', 'pip3', 'pipx',
  // processes, users, system
  'sleep', 'timeout', 'time', 'nohup', 'strace', 'ltrace', 'nice', 'setsid', 'stdbuf', 'flock', 'cpulimit', 'watch', 'kill',
  'killall', 'pkill', 'crontab', 'sudo', 'su', 'doas', 'exec', 'eval', 'system', 'expr', 'export', 'unset', 'alias', 'trap',
  'source', 'useradd', 'adduser', 'usermod', 'passwd', 'chpasswd', 'mount', 'umount', 'chroot', 'systemctl', 'service',
  'lastlog', 'lastlogin', 'perf', 'env', 'cd', 'adduser', 'll', 'ls', 'dir', 'uname', 'ps', 'id', 'ifconfig',
  // Windows
  'powershell', 'pwsh', 'cmd', 'net', 'net1', 'netsh', 'certutil', 'bitsadmin', 'wmic', 'reg', 'regedit', 'sc', 'mshta',
  'rundll32', 'regsvr32', 'cscript', 'wscript', 'msiexec', 'start', 'copy', 'xcopy', 'robocopy', 'del', 'erase', 'rd', 'md',
  'findstr', 'forfiles', 'icacls', 'cacls', 'takeown', 'attrib', 'at', 'certreq', 'vssadmin', 'schtasks', 'taskkill',
  'wevtutil', 'bcdedit', 'bcdboot', 'diskpart', 'nltest', 'iex', 'iwr', 'irm', 'iwmi', 'saps',
])

// Shells: `| sh` at the end of a value pipes what came before into one.
export const shells: ReadonlySet<string> = new Set(['sh', 'bash', 'zsh', 'ksh', 'dash', 'csh', 'tcsh', 'ash', 'fish', 'busybox'])

// Run the code given with -c / -e / -r.
export const interpreters: ReadonlySet<string> = new Set([
  'python', 'python2', 'python3', 'perl', 'ruby', 'php', 'node', 'nodejs', 'lua', 'tclsh', 'powershell', 'pwsh', 'cmd',
])

// Run the command that follows them (after their own flags): `time ifconfig`, `nohup sh -c id`.
export const wrappers: ReadonlySet<string> = new Set([
  'time', 'nohup', 'strace', 'ltrace', 'timeout', 'nice', 'setsid', 'stdbuf', 'flock', 'cpulimit', 'watch', 'sudo', 'doas',
  'xargs', 'exec', 'command', 'builtin', 'env', 'busybox', 'chroot', 'ionice', 'taskset', 'unbuffer',
])

// Resolve `python3.10`, `gcc7.4`: a versioned binary is the command.
export function lookup(word: string): string {
  if (bare.has(word) || commands.has(word)) return word
  // no trailing digit or dot, no version to strip
  const last = word.charCodeAt(word.length - 1)
  if (!((last >= 48 && last <= 57) || last === 46)) return word
  const unversioned = word.replace(/[0-9.]+$/, '')
  return unversioned.length >= 2 && unversioned !== word && commands.has(unversioned) ? unversioned : word
}

export function isCommand(word: string): boolean {
  return bare.has(word) || commands.has(word)
}

// Commands that are also English words (or common abbreviations): after a separator they need
// an argument only a shell would take (a flag, a path, a substitution), not just any word or number.
export const english: ReadonlySet<string> = new Set([
  'cat', 'more', 'less', 'head', 'tail', 'type', 'echo', 'sort', 'file', 'date', 'time', 'watch', 'start', 'install', 'host',
  'join', 'split', 'paste', 'touch', 'find', 'expect', 'source', 'make', 'copy', 'system', 'service', 'set', 'last', 'who',
  'top', 'at', 'ex', 'su', 'dig', 'kill', 'sleep', 'eval', 'export', 'trap', 'fold', 'column', 'comm', 'rev', 'cut', 'tr',
  'strings', 'md', 'rd', 'del', 'erase', 'net', 'route', 'ip', 'sc', 'reg', 'tee', 'fetch', 'nice', 'stat', 'cc', 'nl', 'od',
  'dd', 'ps', 'id', 'env', 'w', 'ver', 'users', 'uptime', 'groups', 'which', 'command', 'builtin', 'exec', 'node',
  'expr', 'alias', 'mount', 'ftp', 'ss', 'diff', 'wc', 'zip', 'tar', 'perf', 'vi', 'fish', 'java', 'ruby', 'python', 'halt',
  'reboot', 'shutdown', 'timeout', 'cd', 'pip', 'gdb', 'nano', 'emacs', 'ping', 'locate', 'rm', 'mv', 'cp', 'ln', 'chroot',
  'chef', 'knife', 'salt',
])
