/**
 * XML external entities and entity expansion (OWASP XXE prevention cheat sheet).
 * What makes an XML document dangerous is its DTD, not its elements: an entity declared
 * `SYSTEM`/`PUBLIC` reads a file or URL, a parameter entity (`<!ENTITY % x …>`, `%x;`) pulls an
 * external DTD for out-of-band exfiltration, nested references multiply into a billion laughs,
 * and XInclude or XSLT (`document()`, `php:function`) reach outside the document without a DTD.
 * A plain `<?xml version="1.0"?>` document passes; a DOCTYPE with no entities is only suspicious.
 * Scanned by hand with bounded look-ahead: attacker XML never meets a backtracking regex.
 */

export type XxeRule =
  'xxe-external-entity' | 'xxe-parameter-entity' | 'xxe-entity-expansion' | 'xxe-internal-entity' | 'xxe-doctype' | 'xxe-xinclude' | 'xxe-xslt'

export interface XxeFinding {
  readonly rule: XxeRule
  readonly confidence: number
}

const externalId = /^\s*(?:%\s+)?[\w.:-]{1,128}\s+(?:SYSTEM|PUBLIC)\b/i
const parameterDecl = /^\s*%\s/
// `%name;` alone: a parameter-entity reference sent on its own to probe a DTD.
const parameterRefAlone = /^\s*%[A-Za-z_][\w.-]{0,64};\s*$/
const parameterRef = /%[A-Za-z_][\w.-]{0,64};/
const xslDanger = /\b(?:document|php:function|system-property|unparsed-text|doc)\s*\(|<xsl:(?:include|import)\b|\bxmlns:(?:php|java|msxsl|rt)\s*=/i

export function analyzeXxe(value: string): XxeFinding | null {
  const lower = value.toLowerCase()
  let best: XxeFinding | null = null
  const consider = (f: XxeFinding) => {
    if (best === null || f.confidence > best.confidence) best = f
  }
  let entities = 0
  for (let at = lower.indexOf('<!entity'); at !== -1; at = lower.indexOf('<!entity', at + 8)) {
    entities++
    const decl = value.slice(at + 8, at + 8 + 400)
    if (externalId.test(decl)) return { rule: 'xxe-external-entity', confidence: 0.95 }
    if (parameterDecl.test(decl)) consider({ rule: 'xxe-parameter-entity', confidence: 0.95 })
    if (entities > 64) break
  }
  const doctype = lower.indexOf('<!doctype')
  if (doctype !== -1) {
    const head = value.slice(doctype + 9, doctype + 9 + 600)
    // `<!DOCTYPE x SYSTEM "http://evil/x.dtd">`: an external DTD subset
    if (/^\s*[\w.:-]{1,128}\s+(?:SYSTEM|PUBLIC)\s/i.test(head)) {
      // the W3C's own XHTML/SVG DTDs are what browsers and editors write
      const w3c = /^\s*[\w.:-]{1,128}\s+PUBLIC\s+["'][^"']{0,200}["']\s*["']https?:\/\/www\.w3\.org\//i.test(head)
      consider({ rule: 'xxe-external-entity', confidence: w3c ? 0.5 : 0.9 })
    }
  }
  if (entities > 0) {
    // billion laughs: entity values made of references to other entities
    let refs = 0
    for (let i = value.indexOf('&'); i !== -1 && refs < 10; i = value.indexOf('&', i + 1)) {
      if (/^&[A-Za-z_][\w.-]{0,64};/.test(value.slice(i, i + 68)) && !/^&(?:lt|gt|amp|quot|apos);/.test(value.slice(i, i + 6))) refs++
    }
    if (refs >= 10 || entities >= 5) consider({ rule: 'xxe-entity-expansion', confidence: 0.95 })
    // an internal entity in a request body: harmless alone, but the first step of expansion attacks
    consider({ rule: 'xxe-internal-entity', confidence: 0.85 })
  }
  if (doctype !== -1 && parameterRef.test(value)) consider({ rule: 'xxe-parameter-entity', confidence: 0.9 })
  if (doctype !== -1) consider({ rule: 'xxe-doctype', confidence: 0.5 })
  if (parameterRefAlone.test(value)) consider({ rule: 'xxe-parameter-entity', confidence: 0.85 })
  if (lower.indexOf('xi:include') !== -1 || lower.indexOf('http://www.w3.org/2001/xinclude') !== -1) {
    consider({ rule: 'xxe-xinclude', confidence: 0.95 })
  }
  if (lower.indexOf('<xsl:') !== -1 || lower.indexOf('/xsl/transform') !== -1) {
    consider({ rule: 'xxe-xslt', confidence: xslDanger.test(value) ? 0.95 : 0.6 })
  }
  return best
}
