// A small seedable generator for the benign sets (benign.ts, build-benign.ts): the same seed
// gives the same data on every machine and Node version.

/** mulberry32: tiny, seedable, good enough to vary test data reproducibly */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class Gen {
  readonly next: () => number
  constructor(seed: number) {
    this.next = prng(seed)
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  hex(n: number): string {
    let s = ''
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(0, 15)]
    return s
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = this.int(0, 255)
    return b
  }
  uuid(): string {
    const h = this.hex(32)
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[this.int(0, 3)]}${h.slice(17, 20)}-${h.slice(20, 32)}`
  }
  some<T>(xs: readonly T[], min: number, max: number): T[] {
    const n = this.int(min, max)
    const out: T[] = []
    for (let i = 0; i < n; i++) out.push(this.pick(xs))
    return [...new Set(out)]
  }
  /** Fisher-Yates, in a copy */
  shuffle<T>(xs: readonly T[]): T[] {
    const a = [...xs]
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1))
      const t = a[i] as T
      a[i] = a[j] as T
      a[j] = t
    }
    return a
  }
}

/** Printable ASCII without the space (0x21-0x7e): what a password manager draws from. */
export const PRINTABLE = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('')

/** A random password as a password manager makes one: printable ASCII, 12 to 31 characters. */
export function randomPassword(g: Gen, min = 12, max = 31): string {
  const n = g.int(min, max)
  let s = ''
  for (let i = 0; i < n; i++) s += PRINTABLE[g.int(0, PRINTABLE.length - 1)]
  return s
}
