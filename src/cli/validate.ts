/** `drawbridge validate --config FILE`: checks a file without listening. */
import { parseArgs } from 'node:util'
import { configWarnings } from '../config/load.js'
import { checkPipeline } from '../gateway/compile.js'
import { configPath, loadDotEnv, loadOrReport, type Io } from './common.js'
import { ExitConfigInvalid, ExitSuccess, ExitUsage } from './exit-codes.js'

export const usage = 'drawbridge validate --config FILE'

export function validateCommand(argv: string[], io: Io): number {
  let values: { config?: string }
  try {
    ;({ values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, strict: true }))
  } catch (e) {
    io.err(`drawbridge validate: ${(e as Error).message}\nusage: ${usage}`)
    return ExitUsage
  }
  const file = configPath(values.config)
  if (file === null) {
    io.err(`drawbridge validate: no configuration file\nusage: ${usage}`)
    return ExitUsage
  }
  loadDotEnv(file)
  const config = loadOrReport(file, {}, io)
  if (config === null) return ExitConfigInvalid
  checkPipeline(config)
  for (const w of configWarnings(config)) io.err(`warning: ${w}`)
  io.out(`${file}: valid`)
  return ExitSuccess
}
