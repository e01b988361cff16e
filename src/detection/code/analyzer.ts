/**
 * Code injection into PHP, Java, Node.js and Perl applications: values that the
 * app would run as code or deserialize into objects. PHP is read as tokens (`php.ts`); Java
 * payloads are recognised by what they reach (`java.ts`): serialized object streams, process
 * execution fed by the request or reached by reflection, deserialization gadget chains, Spring's
 * class loader bean path; Node.js and Perl by their ways into the process (`script.ts`). Code
 * quoted in a ticket (`System.out.println(x)`, `<?php echo $name; ?>`) is not an exploit and
 * stays below the blocking threshold.
 */
import type { CodeFinding } from './types.js'
import { analyzePhp } from './php.js'
import { analyzeJava, analyzeJavaName } from './java.js'
import { analyzeScript } from './script.js'

export type { CodeFinding, CodeRule } from './types.js'

export function analyzeCode(text: string): CodeFinding | null {
  let best = analyzePhp(text)
  if (best !== null && best.confidence >= 0.95) return best
  for (const f of [analyzeJava(text), analyzeScript(text)]) if (f !== null && (best === null || f.confidence > best.confidence)) best = f
  return best
}

/** Parameter names that are bean paths into the class loader (Spring4Shell, Struts). */
export function analyzeCodeName(name: string): CodeFinding | null {
  return analyzeJavaName(name)
}
