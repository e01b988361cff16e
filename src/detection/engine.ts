/**
 * The detection engine (design.md §4): runs the analyzers over every input's decoded readings
 * and scores the request. Plain inputs in, plain findings out; no HTTP here.
 *
 * Scoring: each finding carries the analyzer's confidence (0..1). A request's score is its
 * highest confidence, and the paranoia level sets the threshold a finding must reach to count:
 * 0.8 at level 1 (the default, tuned for JSON APIs), 0.7, 0.6 and 0.5 at levels 2-4, where
 * weaker signals (a bare `alert(1)` in a text field, one `../`) count too. Findings under the
 * threshold are not detections and are not reported.
 */
import type { Input, InputLocation, Transform } from './types.js'
import { isPlainValue, readings } from './normalize.js'
import { analyzers, type Analyzer, type Category } from './analyzers.js'

export type Paranoia = 1 | 2 | 3 | 4

export interface Finding {
  readonly category: Category
  readonly rule: string
  readonly confidence: number
  readonly location: InputLocation
  readonly name: string
  /** Whether the value or the name (a parameter name, a JSON key) matched. */
  readonly part: 'value' | 'name'
  /** The value (or name) as received, for the security event's snippet. */
  readonly matched: string
  /** The decodings that revealed it (empty: as sent). */
  readonly transforms: readonly Transform[]
}

export interface Inspection {
  readonly findings: readonly Finding[]
  /** Highest confidence among the findings, 0 without any. */
  readonly score: number
}

/** What an exclusion sees of a finding: true means ignore it. */
export type ExclusionTest = (location: InputLocation, name: string, rule: string, category: Category) => boolean

export interface EngineOptions {
  readonly paranoia: Paranoia
  /** Overrides the paranoia level's threshold (0..1). */
  readonly threshold?: number | null
}

const thresholds: Readonly<Record<Paranoia, number>> = { 1: 0.8, 2: 0.7, 3: 0.6, 4: 0.5 }
// In detect mode a request may hold many findings; the event store needs a handful.
const maxFindings = 16

export interface Engine {
  readonly threshold: number
  /**
   * `stopAtFirst`: return at the first detection (block mode: the answer is known, the rest is
   * work an attacker could make us do).
   */
  inspect(inputs: readonly Input[], exclude: ExclusionTest | null, stopAtFirst: boolean): Inspection
}

export function createEngine(options: EngineOptions): Engine {
  const threshold = options.threshold ?? thresholds[options.paranoia]
  const valueAnalyzers = analyzers.filter((a) => a.value !== null)
  const nameAnalyzers = analyzers.filter((a) => a.name !== null)

  const applies = (a: Analyzer, input: Input): boolean =>
    (a.locations === null || a.locations.has(input.location)) && (a.headers === null || (input.location === 'header' && a.headers.has(input.name)))

  return {
    threshold,
    inspect(inputs, exclude, stopAtFirst) {
      const findings: Finding[] = []
      let score = 0
      const seenNames = new Set<string>()
      const report = (f: Finding): boolean => {
        if (exclude !== null && exclude(f.location, f.name, f.rule, f.category)) return false
        findings.push(f)
        if (f.confidence > score) score = f.confidence
        return stopAtFirst || findings.length >= maxFindings
      }

      for (let i = 0; i < inputs.length; i++) {
        const input = inputs[i]!
        // Names: JSON keys and parameter names repeat across inputs; judge each once.
        const name = input.name
        if (name !== '' && input.location !== 'header' && !seenNames.has(name)) {
          seenNames.add(name)
          if (!isPlainValue(name)) {
            if (judge(input, name, 'name', nameAnalyzers, valueAnalyzers)) return { findings, score }
          }
        }
        if (isPlainValue(input.value)) continue
        if (judge(input, input.value, 'value', null, valueAnalyzers)) return { findings, score }
      }
      return { findings, score }

      /** Runs the analyzers over the readings of `text`; true when inspection should stop. */
      function judge(input: Input, text: string, part: 'value' | 'name', byName: readonly Analyzer[] | null, byValue: readonly Analyzer[]): boolean {
        if (byName !== null) {
          for (const a of byName) {
            if (!applies(a, input)) continue
            const hit = a.name!(text)
            if (hit !== null && hit.confidence >= threshold) {
              const f: Finding = { category: a.category, rule: hit.rule, confidence: hit.confidence, location: input.location, name: input.name, part, matched: text, transforms: [] }
              if (report(f)) return true
            }
          }
        }
        const rs = readings(text, input.formEncoded)
        for (const a of byValue) {
          if (!applies(a, input)) continue
          for (const r of rs) {
            if (a.precheck !== null && !a.precheck(r.text)) continue
            const hit = a.value!(r.text)
            if (hit === null || hit.confidence < threshold) continue
            const f: Finding = { category: a.category, rule: hit.rule, confidence: hit.confidence, location: input.location, name: input.name, part, matched: text, transforms: r.transforms }
            if (report(f)) return true
            break // one finding per analyzer and input is enough
          }
        }
        return false
      }
    },
  }
}
