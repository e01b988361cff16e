/**
 * Code injection into PHP and Java applications (design.md §4): values that the app would run
 * as code or deserialize into objects. PHP is read as tokens (`php.ts`); Java payloads are
 * recognised by what they reach (`java.ts`): serialized object streams, process execution fed by
 * the request or reached by reflection, deserialization gadget chains, Spring's class loader
 * bean path. Code quoted in a ticket (`System.out.println(x)`, `<?php echo $name; ?>`) is not an
 * exploit and stays below the blocking threshold.
 */
import type { CodeFinding } from './types.js'
import { analyzePhp } from './php.js'
import { analyzeJava, analyzeJavaName } from './java.js'

export type { CodeFinding, CodeRule } from './types.js'

export function analyzeCode(text: string): CodeFinding | null {
  const php = analyzePhp(text)
  if (php !== null && php.confidence >= 0.95) return php
  const java = analyzeJava(text)
  if (java === null) return php
  return php === null || java.confidence > php.confidence ? java : php
}

/** Parameter names that are bean paths into the class loader (Spring4Shell, Struts). */
export function analyzeCodeName(name: string): CodeFinding | null {
  return analyzeJavaName(name)
}
