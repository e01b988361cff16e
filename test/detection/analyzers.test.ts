/**
 * The analyzers' trigger sets (src/detection/analyzers.ts) are a promise the engine relies on:
 * without one of its trigger characters (and with nothing outside ASCII) an analyzer finds
 * nothing, so the engine does not run it, to save time. Checked on every reading of every
 * input of the attack corpora and the benign set: a trigger set made too narrow, or a rule
 * added that fires without any of its analyzer's triggers, fails here before it costs detections.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzers } from '../../src/detection/analyzers.js'
import { isPlainValue, readings } from '../../src/detection/normalize.js'
import { charsOf, meets, type Chars } from '../../src/detection/chars.js'
import { InputCollector, addCookies, addHeaders, addPath, addUrlEncoded } from '../../src/stages/waf/inputs.js'
import { addBody, bodyKind } from '../../src/stages/waf/body.js'
import { benignCases } from '../../bench/efficacy/benign.js'
import { corporaAvailable, corporaDir, loadCrs, loadNemesida, loadPayloadsAllTheThings, type EfficacyCase } from '../../bench/efficacy/corpora.js'

/** Whether `text` holds one of the trigger characters, or anything outside ASCII. */
function admits(triggers: Chars, text: string): boolean {
  const set = charsOf(text)
  return set === null || meets(set, triggers)
}

/** Every input text of the benign set and the corpora that are found, with its form flag. */
async function allTexts(t: { diagnostic(message: string): void }): Promise<Map<string, boolean>> {
  const cases: EfficacyCase[] = [...benignCases(2500)]
  const dir = corporaDir()
  if (corporaAvailable(dir)) for (const load of [loadPayloadsAllTheThings, loadNemesida, loadCrs]) cases.push(...load(dir).cases)
  else if (process.env['CI'] === 'true') assert.fail(`corpora not found at ${dir}`)
  else t.diagnostic(`corpora not found at ${dir}: the benign set only`)
  const all = new Map<string, boolean>()
  for (const c of cases) await texts(c, all)
  return all
}

/** The texts the engine reads for a request: every input's value and name, with its form flag. */
async function texts(c: EfficacyCase, into: Map<string, boolean>): Promise<void> {
  const url = c.request.path
  const qi = url.indexOf('?')
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(c.request.headers)) headers[k.toLowerCase()] = v
  const col = new InputCollector({ maxInputs: 10_000, maxBytes: 1 << 20, maxDepth: 32 })
  addPath(col, qi === -1 ? url : url.slice(0, qi))
  addUrlEncoded(col, 'query', qi === -1 ? '' : url.slice(qi + 1))
  addHeaders(col, headers)
  addCookies(col, headers['cookie'])
  const body = c.request.body
  if (body !== undefined && body !== '') await addBody(col, bodyKind(headers['content-type']), headers['content-type'], Buffer.from(body, 'utf8'))
  for (const input of col.inputs) {
    into.set(input.value, input.formEncoded || into.get(input.value) === true)
    into.set(input.name, false)
  }
}

// Findings trigger sets hide today, left to the analyzers' owners (2026-11-23): Java class and
// gadget names are letters and dots (`java.lang.Runtime`), and the code analyzer's triggers have
// no '.' (with it the analyzer would run on every sentence); a bare internal address
// (`ping 127.0.0.1`) is an SSRF hint at 0.5, which counts at paranoia 4 only. Nothing else may join.
const knownGaps: Readonly<Record<string, (rule: string, confidence: number) => boolean>> = {
  code: (rule) => rule === 'java-class-name' || rule === 'java-gadget' || rule === 'java-class-loader',
  ssrf: (rule, confidence) => rule === 'ssrf-internal-address' && confidence <= 0.5,
}

test('no analyzer fires on a reading without any of its trigger characters', async (t) => {
  const all = await allTexts(t)
  const gated = analyzers.filter((a) => a.value !== null && a.triggers !== null)
  let checked = 0
  for (const [text, formEncoded] of all) {
    // values made of plain characters skip the value analyzers before any trigger is read
    if (isPlainValue(text)) continue
    const variants = formEncoded ? [readings(text, true), readings(text, false)] : [readings(text, false)]
    for (const rs of variants) {
      for (const r of rs) {
        for (const a of gated) {
          if (admits(a.triggers!, r.text)) continue
          checked++
          const hit = a.value!(r.text, null)
          if (hit === null || knownGaps[a.category]?.(hit.rule, hit.confidence) === true) continue
          assert.fail(`${a.category} fired (${hit.rule} ${hit.confidence}) without a trigger character on ${JSON.stringify(r.text.slice(0, 200))}`)
        }
      }
    }
  }
  // the check ran where it matters: readings each analyzer is skipped on
  assert.ok(checked > 10_000, `checked ${checked}`)
})

// The engine hands each analyzer the reading's characters (chars.ts) for its cheap-first checks:
// a shortcut, so the verdict must be the one the analyzer reaches by scanning the text itself.
test('analyzers judge a reading the same with its character set as without', async (t) => {
  const all = await allTexts(t)
  const valued = analyzers.filter((a) => a.value !== null)
  let compared = 0
  for (const [text, formEncoded] of all) {
    const forms = formEncoded ? [true, false] : [false]
    for (const form of forms) {
      // with the value's characters readings() skips the decoders' own test for escapes
      const chars = charsOf(text)
      const rs = readings(text, form)
      const quick = readings(text, form, chars)
      if (quick.length !== rs.length || quick.some((r, k) => r.text !== rs[k]!.text)) assert.deepEqual(quick, rs)
      for (const r of rs) {
        const set = charsOf(r.text)
        if (set === null) continue
        for (const a of valued) {
          // (where the engine runs it)
          if (a.triggers !== null && !admits(a.triggers, r.text)) continue
          compared++
          const fast = a.value!(r.text, set)
          const slow = a.value!(r.text, null)
          if (fast?.rule !== slow?.rule || fast?.confidence !== slow?.confidence) {
            assert.fail(`${a.category}: ${JSON.stringify(fast)} with the set, ${JSON.stringify(slow)} without, on ${JSON.stringify(r.text.slice(0, 200))}`)
          }
        }
      }
    }
  }
  t.diagnostic(`compared ${compared}`)
  assert.ok(compared > 100_000, `compared ${compared}`)
})
