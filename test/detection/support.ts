/** Shared by the analyzer tests: judge a value the way the engine does. */
import { readings } from '../../src/detection/normalize.js'

/**
 * The analyzer's surest finding over all readings of `value` (as sent, decoded, unescaped,
 * base64/hex inside), which is what the engine reports for one input.
 */
export function surest<F extends { readonly confidence: number }>(analyze: (text: string) => F | null, value: string, formEncoded = true): F | null {
  let best: F | null = null
  for (const r of readings(value, formEncoded)) {
    const f = analyze(r.text)
    if (f !== null && (best === null || f.confidence > best.confidence)) best = f
  }
  return best
}
