/**
 * The ASCII characters a text holds, as a 128-bit set (4 words: bit c & 31 of word c >> 5). The
 * engine fills one per reading in its wake-mask pass and hands it to the analyzers, so that their
 * cheap-first checks ("no shell syntax", "no path separator") cost a few ANDs instead of a pass
 * of their own over long prose. null: the text holds a character outside ASCII, and the analyzer
 * scans it itself, as it does when called without a set.
 */
export type Chars = Int32Array

/** The set of the given characters (ASCII; others are ignored). */
export function charSet(chars: string): Chars {
  const set = new Int32Array(4)
  for (let i = 0; i < chars.length; i++) {
    const c = chars.charCodeAt(i)
    if (c < 128) set[c >> 5]! |= 1 << (c & 31)
  }
  return set
}

/** The characters of `text`, or null when it holds one outside ASCII. */
export function charsOf(text: string): Chars | null {
  const set = new Int32Array(4)
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 128) return null
    set[c >> 5]! |= 1 << (c & 31)
  }
  return set
}

/** Whether the two sets share a character. */
export function meets(a: Chars, b: Chars): boolean {
  return ((a[0]! & b[0]!) | (a[1]! & b[1]!) | (a[2]! & b[2]!) | (a[3]! & b[3]!)) !== 0
}

/** Whether the set holds the ASCII character `c`. */
export function holds(set: Chars, c: number): boolean {
  return (set[c >> 5]! & (1 << (c & 31))) !== 0
}
