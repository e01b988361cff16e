/** The `drawbridge` command. Each subcommand is a thin shell over the programmatic API. */
import { readFileSync } from 'node:fs'
import { stdio, type Io } from './common.js'
import { startCommand, usage as startUsage } from './start.js'
import { validateCommand, usage as validateUsage } from './validate.js'
import { initCommand, usage as initUsage } from './init.js'
import { usersCommand, usage as usersUsage } from './users.js'
import { keysCommand, usage as keysUsage } from './keys.js'
import { apikeysCommand, usage as apikeysUsage } from './apikeys.js'
import { ExitFailedStartup, ExitSuccess, ExitUsage } from './exit-codes.js'

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

const help = `Drawbridge ${'$VERSION'}: a security gateway in front of any HTTP API.

Usage:
  ${startUsage}
  ${validateUsage}
  ${initUsage}
  ${usersUsage}
  ${keysUsage}
  ${apikeysUsage}
  drawbridge --help | --version

Configuration: drawbridge.yaml < DRAWBRIDGE_* environment variables < flags.
Documentation: README.md and docs/ (docs/configuration.md lists every setting).`

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  try {
    return await dispatch(argv, io)
  } catch (e) {
    // A command that failed in a way it did not foresee: one clear line, not a stack trace.
    const err = e as NodeJS.ErrnoException
    io.err(`drawbridge ${argv[0] ?? ''}: ${err.code !== undefined ? `${err.code}: ` : ''}${err.message ?? String(e)}`)
    return ExitFailedStartup
  }
}

async function dispatch(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'start': {
      const code = await startCommand(rest, io)
      // A stopped gateway closed what it opened; anything still holding the event loop (a
      // cluster worker's channel to its primary, a reconnect timer) must not keep the process
      // alive after it. Otherwise the process ends by itself, before this fires.
      setTimeout(() => process.exit(code), 500).unref()
      return code
    }
    case 'validate':
      return validateCommand(rest, io)
    case 'init':
      return initCommand(rest, io)
    case 'users':
      return usersCommand(rest, io)
    case 'keys':
      return keysCommand(rest, io)
    case 'apikeys':
      return apikeysCommand(rest, io)
    case '--version':
    case '-v':
    case 'version':
      io.out(version())
      return ExitSuccess
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      io.out(help.replace('$VERSION', version()))
      return command === undefined ? ExitUsage : ExitSuccess
    default:
      io.err(`drawbridge: unknown command "${command}"\n\n${help.replace('$VERSION', version())}`)
      return ExitUsage
  }
}
