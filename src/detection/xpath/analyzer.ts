/**
 * XPath injection (XPath 1.0). A value pasted into `//user[name/text()='VALUE']`
 * breaks out of the string literal and adds a predicate (`' or '1'='1`, `') or ('a'='a`), or probes
 * the document blind with XPath's own functions and paths (`' or count(/*)=1 or '`,
 * `substring(name(/*[1]),1,1)`, `//user[name/text()='x']`, `count(/child::node())`). The plain
 * `' or 'a'='a` tautology is also SQL; both analyzers may report it. "O'Brien" has no operator
 * after the quote and a URL's `//` has no predicate, so both pass.
 */

export type XpathRule = 'xpath-breakout' | 'xpath-function' | 'xpath-path'

export interface XpathFinding {
  readonly rule: XpathRule
  readonly confidence: number
}

const functions =
  'count|name|local-name|namespace-uri|string-length|substring|substring-before|substring-after|contains|starts-with|' +
  'normalize-space|translate|text|node|position|last|string|concat|boolean|not|number|sum|lang|doc|document|comment|processing-instruction'
const axes =
  'child|descendant|descendant-or-self|ancestor|ancestor-or-self|parent|following|following-sibling|preceding|preceding-sibling|attribute|self|namespace'

// A quote (and parentheses) closing the literal, then `or`/`and`: the start of a breakout.
const breakout = /['"]\)*\s*\b(?:or|and)\b\s*/gi
// What follows the breakout: an XPath function call, or a comparison of literals/names.
const functionCall = new RegExp(`^\\(*\\s*(?:${functions})\\s*\\(`, 'i')
const comparison = /^\(*\s*(?:'[^']{0,64}'|"[^"]{0,64}"|[\w.@/-]{1,64})\s*!?=\s*['"(\w]/
// A function applied to an absolute path or an axis: `count(/*)`, `name(/*[1])`, `count(/child::node())`.
const functionOnPath = new RegExp(`\\b(?:${functions})\\s*\\(\\s*(?:\\/|@|(?:${axes})::)`, 'i')
// `name()='admin'`, `text()!=''`: a node test compared in a predicate.
const nodeCompare = /\b(?:name|local-name|text|node|string)\(\)\s*!?=/i
// `//user[name/text()='x']`, `//user[@id]`: a location path with a closed predicate that tests
// something (random text holds `/NyM[e%q-@7` by chance, never closed around a test).
const predicatePath = /\/\/?(?:[\w:-]{1,64}|\*)\[([^\]]{0,256})\]/g
const predicateTest = /\(\)|=|@[\w*]/

function testedPredicate(value: string): boolean {
  predicatePath.lastIndex = 0
  for (let m = predicatePath.exec(value), n = 0; m !== null && n < 64; m = predicatePath.exec(value), n++) if (predicateTest.test(m[1]!)) return true
  return false
}
const axisStep = new RegExp(`\\b(?:${axes})::(?:node\\(\\)|text\\(\\)|\\*|[A-Za-z])`, 'i')

export function analyzeXpath(value: string): XpathFinding | null {
  if (value.indexOf("'") !== -1 || value.indexOf('"') !== -1) {
    breakout.lastIndex = 0
    for (let m = breakout.exec(value), n = 0; m !== null && n < 256; m = breakout.exec(value), n++) {
      const rest = value.slice(breakout.lastIndex, breakout.lastIndex + 160)
      if (functionCall.test(rest)) return { rule: 'xpath-breakout', confidence: 0.95 }
      if (comparison.test(rest)) return { rule: 'xpath-breakout', confidence: 0.85 }
    }
  }
  if (value.indexOf('(') !== -1) {
    if (functionOnPath.test(value)) return { rule: 'xpath-function', confidence: 0.9 }
    if (nodeCompare.test(value)) return { rule: 'xpath-function', confidence: 0.85 }
  }
  if (value.indexOf('[') !== -1 && testedPredicate(value)) return { rule: 'xpath-path', confidence: 0.85 }
  if (value.indexOf('::') !== -1 && axisStep.test(value)) return { rule: 'xpath-path', confidence: 0.7 }
  return null
}
