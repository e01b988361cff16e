/**
 * Shell globs that spell a sensitive file or a binary without writing it: `/???/c?t`,
 * `/etc/pa[s]swd`, `/usr/[a-z]in/bash`, `/et*\/*wd`. The shell expands them before the command
 * runs, so we expand them the same way against the paths an attacker aims at. Matching is a
 * dynamic programme over one path segment at a time (never a regex built from input).
 */

// What a glob is aimed at: files worth reading, binaries worth running.
const targets: readonly (readonly string[])[] = [
  '/etc/passwd',
  '/etc/shadow',
  '/etc/group',
  '/etc/hosts',
  '/etc/issue',
  '/etc/sudoers',
  '/etc/crontab',
  '/bin/sh',
  '/bin/bash',
  '/bin/dash',
  '/bin/zsh',
  '/bin/cat',
  '/bin/ls',
  '/bin/nc',
  '/bin/ps',
  '/bin/uname',
  '/bin/busybox',
  '/usr/bin/id',
  '/usr/bin/whoami',
  '/usr/bin/uname',
  '/usr/bin/nc',
  '/usr/bin/ncat',
  '/usr/bin/wget',
  '/usr/bin/curl',
  '/usr/bin/python',
  '/usr/bin/python3',
  '/usr/bin/perl',
  '/usr/bin/bash',
  '/usr/bin/cat',
  '/usr/sbin/bash',
  '/usr/sbin/useradd',
  '/proc/self/environ',
].map((t) => t.split('/'))

/** Whether the glob segment `p` matches the name `s` (`?`, `*`, `[abc]`, `[!a]`, `[^a]`, `[a-z]`). O(|p|·|s|). */
export function globSegment(p: string, s: string): boolean {
  // reach[j]: the pattern so far can have consumed exactly j characters of s
  let reach = new Uint8Array(s.length + 1)
  reach[0] = 1
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!
    const next = new Uint8Array(s.length + 1)
    if (c === '*') {
      let on = 0
      for (let j = 0; j <= s.length; j++) {
        on |= reach[j]!
        next[j] = on
      }
    } else {
      let set: string | null = null
      let negate = false
      if (c === '[') {
        const close = p.indexOf(']', i + 2)
        if (close !== -1) {
          set = p.slice(i + 1, close)
          if (set[0] === '!' || set[0] === '^') {
            negate = true
            set = set.slice(1)
          }
          i = close
        }
      }
      for (let j = 0; j < s.length; j++) {
        if (reach[j] === 0) continue
        const ch = s[j]!
        const ok = set !== null ? inSet(set, ch) !== negate : c === '?' || c === ch
        if (ok) next[j + 1] = 1
      }
    }
    reach = next
  }
  return reach[s.length] === 1
}

function inSet(set: string, ch: string): boolean {
  for (let k = 0; k < set.length; k++) {
    if (set[k + 1] === '-' && k + 2 < set.length) {
      if (ch >= set[k]! && ch <= set[k + 2]!) return true
      k += 2
    } else if (set[k] === ch) return true
  }
  return false
}

const meta = /[?*[]/

/**
 * A glob's path segments: split at '/' outside brackets. `/[e//]tc/[p//]asswd` pads its classes
 * with slashes so that a rule splitting at every '/' never sees `etc` or `passwd`.
 */
function segments(token: string): string[] {
  const out: string[] = []
  let start = 0
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i)
    if (c === 91 /* [ */) {
      const close = token.indexOf(']', i + 2)
      if (close !== -1) i = close
    } else if (c === 47 /* / */) {
      out.push(token.slice(start, i))
      start = i + 1
    }
  }
  out.push(token.slice(start))
  return out
}

/**
 * A path token (quotes and backslashes already removed) that holds a glob and expands to a
 * sensitive file or a binary. It must spell some of it: `/*\/*` matches everything and means
 * nothing.
 */
export function globTarget(token: string): boolean {
  if (token.length > 80 || token[0] !== '/' || !meta.test(token)) return false
  const segs = segments(token.toLowerCase())
  if (segs.length > 8) return false
  // `/usr/bin/*` lists a directory; `/et?/pa*wd` hides a name
  if (!segs.some((g) => meta.test(g) && /[a-z?[]/.test(g))) return false
  for (const t of targets) {
    if (t.length !== segs.length) continue
    let all = true
    for (let k = 1; k < t.length && all; k++) all = segs[k] === t[k] || (meta.test(segs[k]!) && globSegment(segs[k]!, t[k]!))
    if (all) return true
  }
  // directories that are globs or bin directories, a last segment that expands to a command:
  // `/???/b??h` (a URL's `/blog/?s` is not one)
  const last = segs[segs.length - 1]!
  if (segs.length < 3 || !meta.test(last) || last.length > 16) return false
  for (let k = 1; k < segs.length - 1; k++) if (!meta.test(segs[k]!) && !binDirs.has(segs[k]!)) return false
  return globCommands.some((c) => globSegment(last, c))
}

const binDirs = new Set(['bin', 'sbin', 'usr', 'local'])
const globCommands = ['cat', 'nc', 'id', 'ls', 'sh', 'bash', 'wget', 'curl', 'python', 'perl', 'whoami', 'uname', 'passwd']
