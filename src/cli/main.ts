/** The `drawbridge` command. Each subcommand is a thin shell over the programmatic API. */
import { readFileSync } from 'node:fs'
import { stdio, type Io } from './common.js'
import { startCommand, usage as startUsage } from './start.js'
import { validateCommand, usage as validateUsage } from './validate.js'
import { initCommand, usage as initUsage } from './init.js'
import { usersCommand, usage as usersUsage } from './users.js'
import { keysCommand, usage as keysUsage } from './keys.js'
import { apikeysCommand, usage as apikeysUsage } from './apikeys.js'
import { ExitSuccess, ExitUsage } from './exit-codes.js'

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
Documentation: README.md`

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'start':
      return startCommand(rest, io)
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
