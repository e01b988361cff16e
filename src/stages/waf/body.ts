/**
 * Request bodies as engine inputs, by declared content type: JSON (nested objects and arrays,
 * keys too), url-encoded forms, multipart forms (field values and file names, through busboy),
 * XML (element text and attributes, through fast-xml-parser; the DOCTYPE kept whole for the XXE
 * analyzer), and text. A body that does not parse as its declared type is refused before any
 * analysis (issue 3): an app's parser and ours must not disagree about what it holds.
 */
import busboy from 'busboy'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import type { InputCollector } from './inputs.js'
import { addUrlEncoded } from './inputs.js'
import { duplicateKey } from './json-duplicates.js'

export type BodyKind = 'json' | 'form' | 'multipart' | 'xml' | 'text' | 'binary'

// Media types whose bytes are not text an app interprets as parameters: not inspected here
// (uploads are a later stage's business).
const binaryTypes = /^(?:image|audio|video|font)\/|^application\/(?:octet-stream|pdf|zip|gzip|x-gzip|x-tar|x-7z-compressed|x-bzip2|vnd\.|x-protobuf|protobuf|grpc|msgpack|x-msgpack|cbor|wasm)/

export function bodyKind(contentType: string | undefined): BodyKind {
  if (contentType === undefined) return 'text'
  const semi = contentType.indexOf(';')
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
  if (type === 'application/json' || type.endsWith('+json')) return 'json'
  if (type === 'application/x-www-form-urlencoded') return 'form'
  if (type === 'multipart/form-data') return 'multipart'
  if (type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml')) return 'xml'
  if (binaryTypes.test(type)) return 'binary'
  return 'text'
}

const formShaped = /^[\w.\-[\]%$]{1,256}=/
const jsonShaped = /^\s*[{["]/

/**
 * Adds the body's inputs; false when the body is malformed for its declared type. Synchronous
 * except for multipart (busboy streams): a promise per body costs the common JSON case a
 * microtask hop or two for nothing.
 */
export function addBody(c: InputCollector, kind: BodyKind, contentType: string | undefined, body: Buffer): boolean | Promise<boolean> {
  if (body.length === 0 || kind === 'binary') return true
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
      // No declared type and shaped like a form (`cmd=...&id=...`): read it as one, as lenient
      // app parsers do. The names and values are then judged apart, `+` and `%XX` decoded.
      // Declared text shaped like a form is read both ways (a `text/plain` form is a CORS simple
      // request, and some parsers take any body that looks like a form).
      if (!formShaped.test(text)) c.add('body', '', text, false)
      else if (contentType === undefined) addUrlEncoded(c, 'body', text)
      else if (c.add('body', '', text, false)) addUrlEncoded(c, 'body', text)
      // No declared type and valid JSON: judged as the app will read it too (FastAPI parses an
      // untyped body as JSON, escapes decoded), field by field.
      if (contentType === undefined && c.hit === null && jsonShaped.test(text)) addJson(c, text)
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
      bb = busboy({ headers: { 'content-type': contentType }, preservePath: true, limits: { fieldSize: body.length, fields: c.limits.maxInputs, parts: c.limits.maxInputs } })
    } catch {
      return resolve(false) // no boundary, or not multipart at all
    }
    let ok = true
    // busboy reports a part without a name (`name=""`) as undefined
    bb.on('field', (name: string | undefined, value: string | undefined) => {
      c.add('body', name ?? '', value ?? '', false)
    })
    bb.on('file', (name: string | undefined, stream, info) => {
      if (info.filename !== undefined) c.add('body', (name ?? '') + '.filename', info.filename, false)
      stream.resume()
    })
    bb.on('partsLimit', () => (c.hit = 'inputs'))
    bb.on('fieldsLimit', () => (c.hit = 'inputs'))
    bb.on('error', () => {
      ok = false
      resolve(false)
    })
    bb.on('close', () => resolve(ok))
    bb.end(body)
  })
}

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
})

function addXml(c: InputCollector, text: string): boolean {
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
  } catch {
    // The parser refuses external entities: the DOCTYPE input above carries the attack; the
    // rest is inspected as text.
    c.add('body', '', text, false)
    return true
  }
  walk(c, doc, pathRoot(), 0)
  return true
}
