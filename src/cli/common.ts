/** Shared CLI plumbing: where the config file is, its .env, and how problems are printed. */
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { ConfigInvalid } from '../errors.js'
import { loadConfig, type ConfigFlags } from '../config/load.js'
import type { Config } from '../config/types.js'

export interface Io {
  out(s: string): void
  err(s: string): void
}

export const stdio: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
}

/** --config, else $DRAWBRIDGE_CONFIG, else ./drawbridge.yaml when it exists, else none. */
export function configPath(flag: string | undefined): string | null {
  if (flag !== undefined) return resolve(flag)
  const env = process.env.DRAWBRIDGE_CONFIG
  if (env !== undefined && env !== '') return resolve(env)
  return existsSync('drawbridge.yaml') ? resolve('drawbridge.yaml') : null
}

/** Loads the .env beside the config file (as written by `drawbridge init`); real env vars win. */
export function loadDotEnv(file: string | null): void {
  const envFile = resolve(file === null ? '.' : dirname(file), '.env')
  if (existsSync(envFile)) process.loadEnvFile(envFile)
}

/** Loads and validates; prints every problem and returns null when the config is invalid. */
export function loadOrReport(file: string | null, flags: ConfigFlags, io: Io): Config | null {
  try {
    if (file === null && flags.upstream === undefined) {
      io.err('drawbridge: no configuration: pass --config FILE or --upstream URL (or run `drawbridge init`)')
      return null
    }
    return loadConfig({ file, flags, env: process.env, object: file === null ? {} : undefined })
  } catch (e) {
    if (e instanceof ConfigInvalid) {
      io.err(`drawbridge: ${file ?? 'configuration'} is invalid (${e.issues.length} problem${e.issues.length === 1 ? '' : 's'}):`)
      for (const i of e.issues) io.err(`  ${i.path || '/'}: ${i.message}`)
      return null
    }
    throw e
  }
}
