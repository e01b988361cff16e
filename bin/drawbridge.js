#!/usr/bin/env node
// The `drawbridge` command: the compiled CLI lives in dist/ (npm run build).
// V8 flags first (src/cli/v8-flags.ts); the CLI is imported afterwards, so none of its modules
// is even loaded before they are set.
import '../dist/src/cli/v8-flags.js'
const { main } = await import('../dist/src/cli/main.js')
process.exitCode = await main(process.argv.slice(2))
