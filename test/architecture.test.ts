/**
 * The import rules of the source tree, checked on the TypeScript sources (type-only imports
 * included: a type import is a dependency of the design even when it leaves no trace at run
 * time). See ARCHITECTURE.md for the layers and the rule of each folder.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// dist/test/architecture.test.js -> the repository root
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const src = join(root, 'src')

interface Module {
  /** Path relative to src/, e.g. 'pipeline/run.ts'. */
  readonly file: string
  /** Other modules of src/ it imports, relative to src/. */
  readonly local: readonly string[]
  /** Packages and node: built-ins it imports. */
  readonly packages: readonly string[]
}

const importPattern = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g

function readModules(): Map<string, Module> {
  const out = new Map<string, Module>()
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.ts')) out.set(relative(src, p), parse(p))
    }
  }
  walk(src)
  return out
}

function parse(path: string): Module {
  const text = readFileSync(path, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '')
  const local: string[] = []
  const packages: string[] = []
  for (const m of text.matchAll(importPattern)) {
    const spec = (m[1] ?? m[2])!
    if (spec.startsWith('.')) local.push(relative(src, normalize(join(dirname(path), spec.replace(/\.js$/, '.ts')))))
    else
      packages.push(
        spec.startsWith('node:')
          ? spec
          : spec
              .split('/')
              .slice(0, spec.startsWith('@') ? 2 : 1)
              .join('/'),
      )
  }
  return { file: relative(src, path), local, packages }
}

/** The top-level part a module belongs to: its folder, or the file itself at the root ('errors.ts'). */
function part(file: string): string {
  const i = file.indexOf('/')
  return i === -1 ? file.replace(/\.ts$/, '') : file.slice(0, i)
}

/** A cycle in a directed graph (as the list of its nodes), or null. */
function findCycle(edges: ReadonlyMap<string, ReadonlySet<string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (n: string): string[] | null => {
    if (state.get(n) === 'done') return null
    if (state.get(n) === 'open') return [...stack.slice(stack.indexOf(n)), n]
    state.set(n, 'open')
    stack.push(n)
    for (const m of edges.get(n) ?? []) {
      const c = visit(m)
      if (c !== null) return c
    }
    stack.pop()
    state.set(n, 'done')
    return null
  }
  for (const n of edges.keys()) {
    const c = visit(n)
    if (c !== null) return c
  }
  return null
}

const modules = readModules()

function partEdges(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>()
  for (const m of modules.values()) {
    const from = part(m.file)
    const set = edges.get(from) ?? new Set<string>()
    edges.set(from, set)
    for (const t of m.local) if (part(t) !== from) set.add(part(t))
  }
  return edges
}

/** Every module `file` reaches through local imports, itself included. */
function closure(file: string): Set<string> {
  const seen = new Set<string>()
  const todo = [file]
  while (todo.length > 0) {
    const f = todo.pop()!
    if (seen.has(f)) continue
    seen.add(f)
    for (const t of modules.get(f)?.local ?? []) todo.push(t)
  }
  return seen
}

/** `from-file -> imported` lines of the modules in `parts` that import a part outside `allowed`. */
function outside(parts: readonly string[], allowed: readonly string[]): string[] {
  const bad: string[] = []
  for (const m of modules.values()) {
    if (!parts.includes(part(m.file))) continue
    for (const t of m.local) if (!allowed.includes(part(t)) && !parts.includes(part(t))) bad.push(`${m.file} -> ${t}`)
  }
  return bad
}

const httpPackages = ['node:http', 'node:https', 'node:http2', 'undici']
const storageDrivers = ['ioredis', 'pg', 'better-sqlite3', 'rate-limiter-flexible']

describe('architecture', () => {
  test('the cycle finder finds a cycle and accepts a layered graph', () => {
    const cyclic = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
    ])
    assert.deepEqual(findCycle(cyclic), ['a', 'b', 'c', 'a'])
    const layered = new Map([
      ['a', new Set(['b', 'c'])],
      ['b', new Set(['c'])],
      ['c', new Set<string>()],
    ])
    assert.equal(findCycle(layered), null)
    assert.ok(modules.size > 100, `read ${modules.size} modules from ${src}`)
  })

  test('no import cycle between folders', () => {
    assert.equal(findCycle(partEdges()), null)
  })

  test('the pipeline imports no stage, entry point, terminal or assembly', () => {
    assert.deepEqual(outside(['pipeline'], ['errors', 'config', 'net', 'observability', 'detection']), [])
  })

  test('configuration imports only net/ and errors, and loading it reaches nothing else', () => {
    assert.deepEqual(outside(['config'], ['errors', 'net']), [])
    const reached = [...closure('config/load.ts')].filter((f) => !['config', 'net', 'errors'].includes(part(f)))
    assert.deepEqual(reached, [])
  })

  test('detection and identity reach no HTTP code and no storage driver', () => {
    for (const start of [...modules.keys()].filter((f) => part(f) === 'detection' || part(f) === 'identity')) {
      for (const f of closure(start)) {
        const m = modules.get(f)!
        const http = ['listener', 'pipeline', 'upstream', 'stages', 'gateway', 'admin'].includes(part(f))
        assert.ok(!http, `${start} reaches ${f}`)
        const pkgs = m.packages.filter((p) => httpPackages.includes(p) || storageDrivers.includes(p))
        assert.deepEqual(pkgs, [], `${start} reaches ${f}, which imports ${pkgs.join(', ')}`)
      }
    }
    assert.deepEqual(outside(['detection'], ['errors']), [])
  })

  test("drivers' packages are imported only by storage's adapters, never by the interfaces the rest sees", () => {
    const bad: string[] = []
    for (const m of modules.values()) {
      const adapter = part(m.file) === 'storage' && m.file !== 'storage/types.ts'
      for (const p of m.packages) if (storageDrivers.includes(p) && !adapter) bad.push(`${m.file} imports ${p}`)
    }
    assert.deepEqual(bad, [])
    assert.deepEqual(modules.get('storage/types.ts')!.packages, [])
  })

  test('entry points and terminals do not import the assembly or the stages', () => {
    assert.deepEqual(outside(['listener'], ['errors', 'config', 'net', 'observability', 'pipeline']), [])
    assert.deepEqual(outside(['upstream'], ['errors', 'config', 'net', 'observability', 'pipeline']), [])
  })

  test('stages import no entry point, terminal or assembly', () => {
    assert.deepEqual(outside(['stages'], ['errors', 'config', 'net', 'observability', 'pipeline', 'detection', 'identity', 'storage']), [])
  })
})
