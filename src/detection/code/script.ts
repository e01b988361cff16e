/**
 * Code injection into Node.js and Perl back ends: what a payload needs to get from an `eval`,
 * `vm`, a template's `#{...}` or node-serialize into the process.
 * - node-serialize's function marker `_$$ND_FUNC$$_` (it revives the text as a function: CVE-2017-5941);
 * - the ways to a module loader or the process: `require('child_process')`,
 *   `require.main.constructor._load`, `process.mainModule`, `process.binding(...)`, the
 *   `constructor.constructor('return process')` escape from sandboxes;
 * - bracket access into `process`/`require` (`process["env"]`, `require[req.query.a]`);
 * - a value that is nothing but an endless loop (`while(true);`): a denial of service for eval;
 * - Perl's expression interpolation `@{[ ... ]}`, which runs code inside a string.
 * Prose about `process.env.PORT` or a pasted `console.log(x)` stays below the threshold.
 */
import type { CodeFinding } from './types.js'

const loaderPaths =
  /\brequire\s*\.\s*main\b|\bprocess\s*\.\s*mainmodule\b|\bprocess\s*\.\s*binding\s*\(|\bmodule\s*\.\s*constructor\s*\.\s*_load\b|\bglobal\s*\.\s*process\b/
const dangerousModules = /\brequire\s*\(\s*["'`](?:node:)?(?:child_process|fs|vm|net|dgram|worker_threads|cluster|inspector|module)["'`]\s*\)/
const constructorEscape = /\bconstructor\s*\.\s*constructor\s*\(|\bconstructor\s*\(\s*["'`]\s*return\s+(?:process|this|global)/
const bracketAccess = /\b(?:process|require|global|globalthis)\s*\[\s*(?:["'`][a-z_]+["'`]|req\b|request\b)/
const endlessLoop = /^\s*(?:while\s*\([^()]{0,40}\)|for\s*\(\s*;\s*;\s*\))\s*(?:;|\{\s*\})?\s*$/
const perlInterpolation = /@\{\s*\[/

export function analyzeScript(text: string): CodeFinding | null {
  if (text.indexOf('ND_FUNC') !== -1 && text.indexOf('_$$ND_FUNC$$_') !== -1) return { rule: 'node-serialize', confidence: 0.95 }
  const lower = text.toLowerCase()
  if (lower.indexOf('@{') !== -1 && perlInterpolation.test(lower)) return { rule: 'perl-interpolation', confidence: 0.85 }
  const hasProcess = lower.indexOf('process') !== -1
  const hasRequire = lower.indexOf('require') !== -1
  const hasConstructor = lower.indexOf('constructor') !== -1
  if (hasProcess || hasRequire || hasConstructor) {
    if (dangerousModules.test(lower) || loaderPaths.test(lower)) return { rule: 'node-code-execution', confidence: 0.9 }
    if (hasConstructor && constructorEscape.test(lower)) return { rule: 'node-code-execution', confidence: 0.9 }
    if (bracketAccess.test(lower)) return { rule: 'node-code-execution', confidence: 0.85 }
  }
  if (text.length <= 64 && (lower.indexOf('while') !== -1 || lower.indexOf('for') !== -1) && endlessLoop.test(lower))
    return { rule: 'node-code-execution', confidence: 0.8 }
  return null
}
