/**
 * Request bodies as engine inputs, by declared content type: JSON (nested objects and arrays,
 * keys too), url-encoded forms, multipart forms (field values and file names, through busboy),
 * XML (element text and attributes, through fast-xml-parser; the DOCTYPE kept whole for the XXE
 * analyzer), and text. A body that does not parse as its declared type is refused before any
 * analysis: an app's parser and ours must not disagree about what it holds.
 */
import busboy from 'busboy'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import type { InputCollector } from './inputs.js'
import { addUrlEncoded } from './inputs.js'
import { duplicateKey } from './json-duplicates.js'

export type BodyKind = 'json' | 'form' | 'multipart' | 'xml' | 'text' | 'binary'

/** A declared body type the WAF will not guess at: refused (400) before the body is read. */
export type DeclaredKind = BodyKind | 'refused'

// Media types whose bytes are not text an app interprets as parameters: not inspected here
// (uploads are a later stage's business). Whole types only, never prefixes: a prefix such as
// `application/vnd.` would also cover `application/vnd.api+json`, which apps parse as JSON.
const binaryTypes: ReadonlySet<string> = new Set([
  'application/octet-stream',
  'application/pdf',
  'application/zip',
  'application/gzip',
  'application/x-gzip',
  'application/x-tar',
  'application/x-7z-compressed',
  'application/x-bzip2',
  'application/x-rar-compressed',
  'application/vnd.rar',
  'application/java-archive',
  'application/x-protobuf',
  'application/protobuf',
  'application/x-google-protobuf',
  'application/grpc',
  'application/grpc-web',
  'application/msgpack',
  'application/x-msgpack',
  'application/vnd.msgpack',
  'application/cbor',
  'application/wasm',
  'application/msword',
  'application/vnd.ms-excel',
  'application/vnd.ms-powerpoint',
  'application/vnd.android.package-archive',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
  'application/vnd.oasis.opendocument.presentation',
])
const binaryTopTypes: ReadonlySet<string> = new Set(['image', 'audio', 'video', 'font'])
// Structured syntax suffixes (RFC 6838 §4.2.8) of binary formats: `application/epub+zip`,
// `application/grpc+proto`. `+json` and `+xml` are tested before these.
const binarySuffixes: ReadonlySet<string> = new Set(['zip', 'gzip', 'cbor', 'cbor-seq', 'der', 'proto', 'protobuf', 'msgpack', 'wbxml', 'fastinfoset'])

/**
 * Charsets a body may declare: the ones our UTF-8 reading agrees with. Others (`utf-16`,
 * `utf-7`, `iso-2022-jp`...) would be decoded by some apps into text the WAF never saw: `+ACc-`
 * is a quote in UTF-7. A JSON text is UTF-8 anyway (RFC 8259 §8.1).
 */
const charsets: ReadonlySet<string> = new Set(['utf-8', 'utf8', 'us-ascii'])

/**
 * A Content-Type refused outright: control characters and obs-text (RFC 9110 §5.5 allows the
 * latter in field values, no media type has any). Apps trim differently: Python's str.strip()
 * removes U+0085 and U+00A0 from `application/json\x85`, JavaScript's trim() keeps U+0085, and
 * the two would read one body as two different kinds. Only SP and HTAB remain, which every
 * parser trims alike.
 */
export function badContentType(contentType: string): boolean {
  for (let i = 0; i < contentType.length; i++) {
    const c = contentType.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09) || c >= 0x7f) return true
  }
  return false
}

/**
 * The kind of body an app will parse from its declared type, read as Starlette and werkzeug read
 * it: the part before `;`, trimmed and lower-cased. A `+json` or `+xml` suffix wins over
 * anything else; binary only for whole types listed above.
 */
export function bodyKind(contentType: string | undefined): DeclaredKind {
  if (contentType === undefined) return 'text'
  // The stage asks up to three times per request (head check, whether to read, how to read),
  // and an API's clients send the same few values: the last answer is kept.
  if (contentType === lastType) return lastKind
  const kind = classify(contentType)
  lastType = contentType
  lastKind = kind
  return kind
}

let lastType = ''
let lastKind: DeclaredKind = 'text'

function classify(contentType: string): DeclaredKind {
  if (badContentType(contentType)) return 'refused'
  const semi = contentType.indexOf(';')
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
  const kind = kindOf(type)
  if (kind === 'binary' || semi === -1) return kind
  return charsetAllowed(contentType, semi) ? kind : 'refused'
}

function kindOf(type: string): BodyKind {
  if (type === 'application/json' || type.endsWith('+json')) return 'json'
  if (type === 'application/x-www-form-urlencoded') return 'form'
  if (type === 'multipart/form-data') return 'multipart'
  if (type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml')) return 'xml'
  if (binaryTypes.has(type)) return 'binary'
  const slash = type.indexOf('/')
  if (slash !== -1 && binaryTopTypes.has(type.slice(0, slash))) return 'binary'
  const plus = type.lastIndexOf('+')
  if (plus !== -1 && (binarySuffixes.has(type.slice(plus + 1)) || binaryTypes.has(type.slice(0, plus)))) return 'binary'
  return 'text'
}

/** Every `charset` parameter (quoted or not, any case) names a charset we read alike. */
function charsetAllowed(contentType: string, semi: number): boolean {
  let start = semi + 1
  while (start < contentType.length) {
    let end = contentType.indexOf(';', start)
    if (end === -1) end = contentType.length
    const eq = contentType.indexOf('=', start)
    if (eq !== -1 && eq < end && contentType.slice(start, eq).trim().toLowerCase() === 'charset') {
      let value = contentType
        .slice(eq + 1, end)
        .trim()
        .toLowerCase()
      if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) value = value.slice(1, -1)
      if (!charsets.has(value)) return false
    }
    start = end + 1
  }
  return true
}

const formShaped = /^[\w.\-[\]%$]{1,256}=/
const jsonShaped = /^[\t\n\r ]*[[{"]/

/**
 * Adds the body's inputs; false when the body is malformed for its declared type. Synchronous
 * except for multipart (busboy streams): a promise per body costs the common JSON case a
 * microtask hop or two for nothing.
 */
export function addBody(c: InputCollector, kind: DeclaredKind, contentType: string | undefined, body: Buffer): boolean | Promise<boolean> {
  if (kind === 'refused') return false
  if (body.length === 0) return true
  if (kind === 'binary') {
    addBinaryJson(c, body)
    return true
  }
  switch (kind) {
    case 'json':
      return addJson(c, body.toString('utf8'))
    case 'form':
      addUrlEncoded(c, 'body', body.toString('utf8'))
      return true
    case 'multipart':
      return addMultipart(c, contentType!, body)
    case 'xml':
      return addXml(c, body.toString('utf8'))
    case 'text': {
      const text = body.toString('utf8')
      // No declared type: FastAPI parses the body as JSON (and Flask's get_json(force=True)
      // does), so a body that is JSON is judged as JSON, value by value.
      if (contentType === undefined && jsonShaped.test(text) && addJson(c, text)) return true
      // No declared type and shaped like a form (`cmd=...&id=...`): read it as one, as lenient
      // app parsers do. The names and values are then judged apart, `+` and `%XX` decoded.
      // Declared text shaped like a form is read both ways (a `text/plain` form is a CORS simple
      // request, and some parsers take any body that looks like a form).
      if (!formShaped.test(text)) c.add('body', '', text, false)
      else if (contentType === undefined) addUrlEncoded(c, 'body', text)
      else if (c.add('body', '', text, false)) addUrlEncoded(c, 'body', text)
      return true
    }
  }
}

function addJson(c: InputCollector, text: string): boolean {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    return false
  }
  walk(c, doc, pathRoot(), 0)
  // a key given twice in one object: JSON.parse kept the last, other parsers keep the first
  if (c.hit === null) c.duplicateKey = duplicateKey(text, c.jsonKeys)
  return true
}

/**
 * A dotted path and its children's, kept from body to body: arrays of objects repeat the same
 * paths within a body, and an API's bodies repeat them from request to request. Handing the
 * engine the same string objects keeps their hashes (names are looked up in sets) and spares a
 * concatenation per value. Bounded: past `maxPathNodes` nodes or `maxPathChars` characters
 * (keys are the client's choice) the tree starts afresh.
 */
interface PathNode {
  readonly path: string
  /** Children in the order first seen, and each key's place among them. */
  readonly keys: string[]
  readonly kids: PathNode[]
  places: Map<string, number> | null
}

const maxPathNodes = 4096
const maxPathChars = 256 * 1024
let root: PathNode = pathNode('')
let pathNodes = 0
let pathChars = 0

function pathNode(path: string): PathNode {
  return { path, keys: [], kids: [], places: null }
}

function pathRoot(): PathNode {
  if (pathNodes > maxPathNodes || pathChars > maxPathChars) {
    root = pathNode('')
    pathNodes = 0
    pathChars = 0
  }
  return root
}

/** The place of `key` among the node's children, added when new. */
function childAt(node: PathNode, key: string): number {
  if (node.places === null) node.places = new Map()
  let at = node.places.get(key)
  if (at === undefined) {
    const next = pathNode(node.path === '' ? key : `${node.path}.${key}`)
    at = node.kids.length
    node.keys.push(key)
    node.kids.push(next)
    node.places.set(key, at)
    pathNodes++
    pathChars += next.path.length
  }
  return at
}

/**
 * Every string value with its dotted path (`user.name`, `items.sku`), and every key, also those
 * holding objects or non-strings: `{"password": {"$ne": null}}` has its attack in a key. Array
 * elements share their array's path (no index): the names of an array of objects repeat, so
 * each is judged once, and an exclusion for `items.code` covers every item.
 */
function walk(c: InputCollector, v: unknown, node: PathNode, depth: number): void {
  if (c.hit !== null) return
  if (depth > c.limits.maxDepth) {
    c.hit = 'depth'
    return
  }
  if (typeof v === 'string') {
    c.add('body', node.path, v, false)
    return
  }
  if (typeof v !== 'object' || v === null) {
    if (node.path !== '') c.add('body', node.path, '', false)
    return
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length && c.hit === null; i++) walk(c, v[i], node, depth + 1)
    return
  }
  // for-in, not Object.keys: no array per object, and V8 reads `o[k]` inside it from the
  // object's enum cache (JSON.parse makes plain objects: no inherited enumerable keys)
  const o = v as Record<string, unknown>
  let keys = 0
  // Objects in an array have their keys in the same order: the next child is found by comparing
  // one key (JSON.parse interns keys, so mostly by reference), not by a map look-up.
  let at = 0
  for (const k in o) {
    if (c.hit !== null) return
    keys++
    if (node.keys[at] !== k) at = childAt(node, k)
    walk(c, o[k], node.kids[at]!, depth + 1)
    at++
  }
  c.jsonKeys += keys
  if (keys === 0 && node.path !== '') c.add('body', node.path, '', false)
}

function addMultipart(c: InputCollector, contentType: string, body: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    let bb: busboy.Busboy
    try {
      // Limits are generous: the body is already within the route's size limit.
      // preservePath: busboy would otherwise strip `../../` from file names before we see them.
      bb = busboy({
        headers: { 'content-type': contentType },
        preservePath: true,
        limits: { fieldSize: body.length, fields: c.limits.maxInputs, parts: c.limits.maxInputs },
      })
    } catch {
      return resolve(false) // no boundary, or not multipart at all
    }
    let ok = true
    const malformed = (): void => {
      ok = false
      resolve(false)
    }
    // busboy reports a part without a name (`name=""`) as undefined
    bb.on('field', (name: string | undefined, value: string | undefined) => {
      c.add('body', name ?? '', value ?? '', false)
    })
    bb.on('file', (name: string | undefined, stream, info) => {
      if (info.filename !== undefined) c.add('body', (name ?? '') + '.filename', info.filename, false)
      // A body that ends inside a file part destroys the part's stream with an error: without a
      // listener that error would be thrown out of the process.
      stream.on('error', malformed)
      stream.resume()
    })
    bb.on('partsLimit', () => (c.hit = 'inputs'))
    bb.on('fieldsLimit', () => (c.hit = 'inputs'))
    bb.on('error', malformed)
    bb.on('close', () => resolve(ok))
    try {
      bb.end(body)
    } catch {
      malformed()
    }
  })
}

/**
 * The parser's own nesting limit sits above the highest `max_depth` the configuration allows
 * (1024), so `walk` meets the configured limit first; a document past even this one is a depth
 * hit too, never something to read some other way.
 */
const xmlMaxNesting = 1025

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: xmlMaxNesting,
})

// The XML declaration's encoding: an app's XML parser decodes the document by it (UTF-7,
// UTF-16...), ours reads UTF-8 (see `charsets`).
const xmlEncoding = /^\uFEFF?<\?xml[ \t\r\n][^>]*?\bencoding[ \t\r\n]*=[ \t\r\n]*(?:"([^"]*)"|'([^']*)')/

function addXml(c: InputCollector, text: string): boolean {
  const decl = xmlEncoding.exec(text)
  if (decl !== null && !charsets.has((decl[1] ?? decl[2] ?? '').toLowerCase())) return false
  if (XMLValidator.validate(text) !== true) return false
  // The DOCTYPE (entity declarations live there) as one input for the XXE analyzer.
  const dt = text.search(/<!DOCTYPE/i)
  if (dt !== -1) {
    const close = text.indexOf(']>', dt)
    const end = close === -1 ? text.indexOf('>', dt) : close + 2
    c.add('body', '!doctype', text.slice(dt, end === -1 ? text.length : end), false)
  }
  let doc: unknown
  try {
    doc = xmlParser.parse(text)
  } catch (err) {
    if (err instanceof Error && /nested tags/i.test(err.message)) {
      // Deeper than any max_depth: the limit's on_exceed decides. What is inspected meanwhile
      // (with on_exceed: allow) is every distinct run of text between '<' and '>': element
      // text, and tags with their attributes.
      for (const piece of new Set(text.split(/[<>]/))) {
        if (piece.trim() !== '' && !c.add('body', '', piece, false)) break
      }
      if (c.hit === null) c.hit = 'depth'
      return true
    }
    // The parser refuses external and parameter entities. The DOCTYPE input above carries the
    // attack for the XXE analyzer, the rest is judged as text; if nothing is found the body is
    // still refused: it was never parsed, and the app's parser may read it otherwise.
    if (dt === -1) return false
    c.add('body', '', text, false)
    c.unparsed = true
    return true
  }
  walk(c, doc, pathRoot(), 0)
  return true
}

/**
 * Whether a body declared binary may still be JSON, from its first bytes: an app that parses JSON
 * whatever the type says (Flask's `get_json(force=True)`, `json.loads(request.body)`) reads
 * `application/octet-stream` as JSON too. JSON text starts, after white space, with `{`, `[` or
 * `"`; a byte-order mark or a NUL among the first bytes is how Python's json.loads recognises
 * UTF-8-sig, UTF-16 and UTF-32 (RFC 8259 §8.1 and its detect_encoding). A chunk of white space
 * alone cannot decide: such a body is read whole too.
 */
export function mayBeJson(head: Buffer): boolean {
  for (let i = 0; i < head.length; i++) {
    const b = head[i]!
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue
    return b === 0x7b || b === 0x5b || b === 0x22 || b === 0x00 || b === 0xef || b === 0xfe || b === 0xff || (i + 1 < head.length && head[i + 1] === 0x00)
  }
  return true
}

/** A body declared binary, judged as JSON where it decodes and parses as JSON (see mayBeJson). */
function addBinaryJson(c: InputCollector, body: Buffer): void {
  const text = jsonText(body)
  if (text === null || !jsonShaped.test(text)) return
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    return // not JSON to any parser: the bytes are the app's business (uploads)
  }
  walk(c, doc, pathRoot(), 0)
}

const utf16le = new TextDecoder('utf-16le', { fatal: true })
const utf16be = new TextDecoder('utf-16be', { fatal: true })
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The text json.loads reads from bytes (its detect_encoding), or null where it is not text. */
function jsonText(b: Buffer): string | null {
  try {
    if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return utf8.decode(b.subarray(3))
    if ((b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) || (b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff))
      return utf32(b.subarray(4), b[0] === 0xff)
    if (b[0] === 0xff && b[1] === 0xfe) return utf16le.decode(b.subarray(2))
    if (b[0] === 0xfe && b[1] === 0xff) return utf16be.decode(b.subarray(2))
    if (b.length >= 4 && b[0] === 0) return b[1] !== 0 ? utf16be.decode(b) : utf32(b, false)
    if (b.length >= 4 && b[1] === 0) return b[2] !== 0 || b[3] !== 0 ? utf16le.decode(b) : utf32(b, true)
    return utf8.decode(b)
  } catch {
    return null
  }
}

function utf32(b: Buffer, littleEndian: boolean): string | null {
  if (b.length % 4 !== 0) return null
  let out = ''
  for (let i = 0; i < b.length; i += 4) {
    const cp = littleEndian ? b.readUInt32LE(i) : b.readUInt32BE(i)
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null
    out += String.fromCodePoint(cp)
  }
  return out
}
