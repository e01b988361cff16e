/**
 * The detection engine's plain inputs: no HTTP types cross this boundary. The WAF
 * stage turns a request into a list of inputs; analyzers see only these.
 */

export type InputLocation = 'path' | 'query' | 'header' | 'cookie' | 'body'

export interface Input {
  readonly location: InputLocation
  /** Parameter, header or cookie name; a dotted path for nested bodies (`user.name`, `items.0`). */
  readonly name: string
  readonly value: string
  /** Whether '+' means a space here (query strings and url-encoded forms). */
  readonly formEncoded: boolean
}

/** One way of reading a value: the text an analyzer looks at and the decodings that produced it. */
export interface Reading {
  readonly text: string
  readonly transforms: readonly Transform[]
}

export type Transform = 'url' | 'plus' | 'overlong-utf8' | 'html-entity' | 'js-escape' | 'null-byte' | 'base64' | 'hex'
