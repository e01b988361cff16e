/**
 * The detection engine: runs the analyzers over every input's decoded readings
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
import type { Chars } from './chars.js'
import { analyzers, lowRiskHeaders, type Analyzer, type Category } from './analyzers.js'

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
// Values judged clean, remembered: the same User-Agent, Accept-Language, Origin, cookie or
// query value comes back on request after request. Only clean verdicts are kept (an attack is
// always judged afresh), only for short values, and the memo is dropped when full: an attacker
// who floods it only brings back the uncached cost.
const memoMax = 8192
const memoValueMax = 512
// In detect mode a request may hold many findings; the event store needs a handful.
const maxFindings = 16
// Header names whose applicable analyzers are remembered (see applicableTo)
const maxHeaderNames = 256
// Per-reading wake masks and character sets, reused: readings() returns a handful (the value,
// two decodings, embedded text)
const masks: number[] = []
const charSets: Chars[] = []
const ascii: boolean[] = []

/**
 * Which value analyzers a character can wake, so that the cheap check comes first: bit k of
 * `wakes[c]` is set when analyzer k lists the ASCII character c among its triggers. One pass
 * over a reading ORs them together; anything outside ASCII (look-alikes, fullwidth forms) wakes
 * them all, and analyzers without triggers always run.
 */
interface Wakers {
  readonly wakes: Uint32Array
  readonly always: number
  readonly all: number
}

function wakers(list: readonly Analyzer[]): Wakers {
  if (list.length > 31) throw new Error('detection engine: more than 31 value analyzers need a wider wake mask')
  const wakes = new Uint32Array(128)
  let always = 0
  list.forEach((a, k) => {
    if (a.triggers === null) always |= 1 << k
    else for (let c = 0; c < 128; c++) if ((a.triggers[c >> 5]! & (1 << (c & 31))) !== 0) wakes[c]! |= 1 << k
  })
  return { wakes, always, all: list.length === 31 ? 0x7fffffff : (1 << list.length) - 1 }
}

/**
 * The analyzers a reading can wake, as bits of `Wakers` (see there); -1 when it holds a
 * character outside ASCII (all of them). Fills `chars` with the reading's characters in the same
 * pass (chars.ts), for the analyzers' own cheap-first checks.
 */
function woken(w: Wakers, text: string, chars: Chars): number {
  let mask = w.always
  const wakes = w.wakes
  chars.fill(0)
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 128) return -1
    mask |= wakes[c]!
    chars[c >> 5]! |= 1 << (c & 31)
  }
  return mask
}

/** Works out the wake mask and characters of reading `k` into the per-reading tables. */
function wake(w: Wakers, k: number, text: string): number {
  if (charSets.length <= k) charSets.push(new Int32Array(4))
  const m = woken(w, text, charSets[k]!)
  ascii[k] = m !== -1
  return (masks[k] = m === -1 ? w.all : m)
}

/** Values judged clean in one scope (a location, or a header name), and the last one seen. */
interface Memo {
  readonly values: Set<string>
  last: string
}

/** The analyzers that apply to an input: by location, and for headers by name. */
interface Applicable {
  readonly byName: readonly Analyzer[]
  readonly byValue: readonly Analyzer[]
  /** For each of `byValue`, its bit in the wake mask. */
  readonly bits: readonly number[]
  /** Those of `byValue` that judge plain values too (a file name: `shell.php`). */
  readonly plain: readonly Analyzer[]
}

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
  // One bit per value analyzer in a 32-bit wake mask.
  if (valueAnalyzers.length > 32) throw new RangeError(`${valueAnalyzers.length} value analyzers: the wake mask holds 32`)

  const wakes = wakers(valueAnalyzers)
  const applies = (a: Analyzer, location: InputLocation, header: string): boolean => {
    if (a.locations !== null && !a.locations.has(location)) return false
    if (location !== 'header') return a.headers === null
    if (a.headers !== null) return a.headers.has(header)
    if (a.skipHeaders !== null && a.skipHeaders.has(header)) return false
    return a.allHeaders || !lowRiskHeaders.has(header)
  }
  const applicable = (location: InputLocation, header: string): Applicable => {
    const byValue = valueAnalyzers.filter((a) => applies(a, location, header))
    return {
      byName: nameAnalyzers.filter((a) => applies(a, location, header)),
      byValue,
      bits: byValue.map((a) => 1 << valueAnalyzers.indexOf(a)),
      plain: byValue.filter((a) => a.plainValues),
    }
  }
  // Worked out once per location, and per header name for headers (the names a client sends
  // are its own choice: past `maxHeaderNames` they are worked out per input instead).
  const forPath = applicable('path', '')
  const forQuery = applicable('query', '')
  const forCookie = applicable('cookie', '')
  const forBody = applicable('body', '')
  const byHeader = new Map<string, Applicable>()
  const applicableTo = (input: Input): Applicable => {
    // a comparison per location, not a map look-up: this runs for every input
    const location = input.location
    if (location === 'body') return forBody
    if (location === 'query') return forQuery
    if (location === 'cookie') return forCookie
    if (location === 'path') return forPath
    let a = byHeader.get(input.name)
    if (a === undefined) {
      a = applicable('header', input.name)
      if (byHeader.size < maxHeaderNames) byHeader.set(input.name, a)
    }
    return a
  }

  // Memo scopes: which analyzers apply depends on the location (and, for headers, the name).
  // Body values are not memoised: mostly unique, they would only churn the memo.
  const cleanNames = new Set<string>()
  const cleanValues = new Map<string, Memo>()
  let memoSize = 0
  const memoScope = (input: Input): Memo | null => {
    if (input.location === 'body') return null
    const scope = input.location === 'header' ? input.name : input.formEncoded ? input.location + '+' : input.location
    let memo = cleanValues.get(scope)
    if (memo === undefined) cleanValues.set(scope, (memo = { values: new Set(), last: '' }))
    return memo
  }
  const remember = (set: Set<string>, key: string): void => {
    if (++memoSize > memoMax) {
      cleanNames.clear()
      cleanValues.clear()
      memoSize = 0
      return
    }
    set.add(key)
  }

  return {
    threshold,
    inspect(inputs, exclude, stopAtFirst) {
      const findings: Finding[] = []
      let score = 0
      // Analyzer hits at or above the threshold, excluded ones included (for the memo).
      let hits = 0
      let seenNames: Set<string> | null = null
      let seenBodyValues: Set<string> | null = null
      const report = (f: Finding): boolean => {
        if (exclude !== null && exclude(f.location, f.name, f.rule, f.category)) return false
        findings.push(f)
        if (f.confidence > score) score = f.confidence
        return stopAtFirst || findings.length >= maxFindings
      }

      for (let i = 0; i < inputs.length; i++) {
        const input = inputs[i]!
        // Names: name analyzers run on every name (`__proto__` and `constructor.prototype` are
        // made of plain characters), the value analyzers only on names that are not plain. JSON
        // keys repeat (arrays of objects): each name is judged once.
        const name = input.name
        if (name !== '' && input.location !== 'header' && !cleanNames.has(name)) {
          if (seenNames === null) seenNames = new Set()
          if (!seenNames.has(name)) {
            seenNames.add(name)
            const before = hits
            if (judge(input, name, 'name', true, !isPlainValue(name))) return { findings, score }
            if (hits === before && name.length <= memoValueMax) remember(cleanNames, name)
          }
        }
        const value = input.value
        // (numbers, booleans and nulls of a JSON body arrive as empty values: their keys were the input)
        if (value === '') continue
        if (isPlainValue(value)) {
          // only the analyzers that judge plain values too (a file name: `shell.php`)
          const app = applicableTo(input)
          if (app.plain.length !== 0 && judgesPlain(app, input) && judge(input, value, 'value', false, true, true)) return { findings, score }
          continue
        }
        const memo = value.length <= memoValueMax ? memoScope(input) : null
        if (memo !== null) {
          // the scope's last clean value first: a string comparison, where the set would hash
          // the whole value (a User-Agent arrives as a new string with every request)
          if (memo.last === value) continue
          if (memo.values.has(value)) {
            memo.last = value
            continue
          }
        }
        // The same body value twice in one request (arrays of records): judged once.
        if (memo === null) {
          if (seenBodyValues === null) seenBodyValues = new Set()
          if (seenBodyValues.has(value)) continue
          seenBodyValues.add(value)
        }
        const before = hits
        if (judge(input, value, 'value', false, true)) return { findings, score }
        if (memo !== null && hits === before) {
          remember(memo.values, value)
          memo.last = value
        }
      }
      return { findings, score }

      /** Whether an analyzer that judges plain values applies to this very input (by its name too). */
      function judgesPlain(app: Applicable, input: Input): boolean {
        const plain = app.plain
        for (let k = 0; k < plain.length; k++) {
          const a = plain[k]!
          if (a.inputs === null || a.inputs(input.location, input.name)) return true
        }
        return false
      }

      /** Runs the analyzers over the readings of `text`; true when inspection should stop. */
      function judge(input: Input, text: string, part: 'value' | 'name', names: boolean, values: boolean, plainOnly = false): boolean {
        const app = applicableTo(input)
        if (names) {
          for (const a of app.byName) {
            const hit = a.name!(text)
            if (hit !== null && hit.confidence >= threshold) {
              hits++
              const f: Finding = {
                category: a.category,
                rule: hit.rule,
                confidence: hit.confidence,
                location: input.location,
                name: input.name,
                part,
                matched: text,
                transforms: [],
              }
              if (report(f)) return true
            }
          }
        }
        if (!values) return false
        // the value as sent is the first reading: its characters also tell readings() whether
        // any decoding can apply
        let any = wake(wakes, 0, text)
        const rs = readings(text, input.formEncoded, ascii[0]! ? charSets[0]! : null)
        // the analyzers each reading can wake, and all of them together
        for (let k = 1; k < rs.length; k++) any |= wake(wakes, k, rs[k]!.text)
        const byValue = app.byValue
        for (let n = 0; n < byValue.length; n++) {
          const bit = app.bits[n]!
          if ((any & bit) === 0) continue
          const a = byValue[n]!
          if (plainOnly && !a.plainValues) continue
          // Analyzers narrowed to some inputs (file-name inputs for `upload`) by their name.
          if (a.inputs !== null && !a.inputs(input.location, input.name)) continue
          // One finding per analyzer and input: the reading it is surest about.
          let best: Finding | null = null
          for (let k = 0; k < rs.length; k++) {
            if ((masks[k]! & bit) === 0) continue
            const r = rs[k]!
            const hit = a.value!(r.text, ascii[k]! ? charSets[k]! : null)
            if (hit === null || hit.confidence < threshold || (best !== null && hit.confidence <= best.confidence)) continue
            best = {
              category: a.category,
              rule: hit.rule,
              confidence: hit.confidence,
              location: input.location,
              name: input.name,
              part,
              matched: text,
              transforms: r.transforms,
            }
          }
          if (best !== null) {
            hits++
            if (report(best)) return true
          }
        }
        return false
      }
    },
  }
}
