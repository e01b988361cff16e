#!/usr/bin/env node
// The `drawbridge` command: the compiled CLI lives in dist/ (npm run build).
// V8 flags first (src/cli/v8-flags.ts); the CLI is imported afterwards, so none of its modules
// is even loaded before they are set.
import '../dist/src/cli/v8-flags.js'
import { fileURLToPath } from 'node:url'
import { relaunchIfSingleCore } from '../dist/src/cli/relaunch.js'

const args = process.argv.slice(2)
// `start` on one core runs in a child under node --single-threaded-gc (src/cli/relaunch.ts)
const relaunched = relaunchIfSingleCore(fileURLToPath(import.meta.url), args)
if (relaunched !== null) process.exitCode = await relaunched
else {
  const { main } = await import('../dist/src/cli/main.js')
  process.exitCode = await main(args)
}
