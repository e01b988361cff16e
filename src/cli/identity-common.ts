/** Shared by `users`, `keys` and `apikeys`: the config's identity store, opened without listening. */
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { Identity } from '../identity/index.js'
import { openIdentityStores } from '../storage/open.js'
import { StorageUnavailable } from '../errors.js'
import { createSharedState } from '../storage/shared-state.js'
import { configPath, loadDotEnv, loadOrReport, type Io } from './common.js'

/** Opens the identity module of the configuration, or explains why it cannot (null). */
export async function openCliIdentity(configFlag: string | undefined, io: Io, command: string): Promise<Identity | null> {
  const file = configPath(configFlag)
  if (file === null) {
    io.err(`drawbridge ${command}: no configuration file (pass --config FILE)`)
    return null
  }
  loadDotEnv(file)
  const config = loadOrReport(file, {}, io)
  if (config === null) return null
  if (config.auth === null) {
    io.err(`drawbridge ${command}: ${file} has no auth section`)
    return null
  }
  if (config.storage.memory) {
    io.err(`drawbridge ${command}: storage.memory keeps nothing between processes; use SQLite or PostgreSQL`)
    return null
  }
  // With Redis, a revocation made here is announced to the running instances at once.
  const shared = config.storage.redis === null ? null : createSharedState(config)
  await shared?.connect()
  const own = openIdentityStores(config)
  const stores = shared === null ? own : { ...own, close: () => own.close().finally(() => shared.close()) }
  try {
    return await Identity.open(config.auth, stores, shared === null ? {} : { notices: shared.notices })
  } catch (err) {
    await stores.close().catch(() => undefined)
    if (!(err instanceof StorageUnavailable)) throw err
    io.err(`drawbridge ${command}: the identity store is unreachable (${String(err.cause ?? err)})`)
    return null
  }
}

/** A password: standard input when it is not a terminal (first line), else a prompt that does not echo. */
export async function readPassword(prompt: string, io: Io): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = []
    for await (const c of process.stdin) chunks.push(c as Buffer)
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? ''
  }
  let muted = false
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) process.stderr.write(chunk)
      done()
    },
  })
  const rl = createInterface({ input: process.stdin, output, terminal: true })
  try {
    const ask = (q: string) =>
      new Promise<string>((resolve) => {
        rl.question(q, (a) => resolve(a))
        muted = true
      })
    const first = await ask(prompt)
    muted = false
    io.err('')
    const second = await ask('again: ')
    muted = false
    io.err('')
    if (first !== second) throw new Error('the two passwords differ')
    return first
  } finally {
    rl.close()
  }
}

/** "90d", "12h", "30m" as milliseconds; null when it is not one of those. */
export function parseDays(s: string): number | null {
  const m = /^([0-9]{1,6})(d|h|m)$/.exec(s)
  if (m === null) return null
  return Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm']
}
