/** `npm run docs:config`: writes docs/configuration.md from the configuration schema. */
import { writeFileSync } from 'node:fs'
import { renderConfigReference } from '../src/config/reference.js'

const target = new URL('../../docs/configuration.md', import.meta.url)
writeFileSync(target, renderConfigReference())
process.stdout.write(`wrote ${target.pathname}\n`)
