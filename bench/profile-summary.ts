/**
 * Top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`), for finding the hot path.
 * Usage: node dist/bench/profile-summary.js FILE.cpuprofile [TOP=15]
 * Also prints self time grouped by where the code lives (our dist/src, undici, node:, native).
 */
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const [file, topArg] = process.argv.slice(2)
if (!file) {
  console.error('usage: profile-summary FILE.cpuprofile [TOP]')
  process.exit(64)
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))

// Sample i's time is timeDeltas[i + 1] (the gap until the next sample); the last one is dropped
const self = new Map<string, number>()
const byPlace = new Map<string, number>()
let total = 0
for (let i = 0; i < profile.samples.length - 1; i++) {
  const node = byId.get(profile.samples[i]!)
  const dt = profile.timeDeltas[i + 1]!
  if (!node || dt < 0) continue
  const { functionName, url, lineNumber } = node.callFrame
  const where = url ? `${relative(process.cwd(), url.replace(/^file:\/\//, ''))}:${lineNumber + 1}` : ''
  const key = `${functionName || '(anonymous)'}${where ? ' ' + where : ''}`
  self.set(key, (self.get(key) ?? 0) + dt)
  const place = /\/dist\/src\/([^/]+(?:\/[^/]+)?)\//.exec(url)?.[1] ?? (/\/dist\/src\//.test(url) ? 'src' : null)
  const group = place
    ? `drawbridge ${place}`
    : url.includes('/node_modules/')
      ? url.split('/node_modules/').pop()!.split('/')[0]!
      : url.startsWith('node:')
        ? 'node internals'
        : functionName.startsWith('(')
          ? functionName
          : 'native / other'
  byPlace.set(group, (byPlace.get(group) ?? 0) + dt)
  total += dt
}

const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 15))
console.log(`total ${(total / 1000).toFixed(0)} ms sampled\n  self ms     %  function`)
for (const [key, us] of top) console.log(`${(us / 1000).toFixed(0).padStart(8)} ${((100 * us) / total).toFixed(1).padStart(5)}  ${key}`)
console.log('\n  self ms     %  where')
for (const [group, us] of [...byPlace.entries()].sort((a, b) => b[1] - a[1])) {
  console.log(`${(us / 1000).toFixed(0).padStart(8)} ${((100 * us) / total).toFixed(1).padStart(5)}  ${group}`)
}
