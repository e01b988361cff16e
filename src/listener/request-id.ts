/**
 * Request ids: random UUIDs (version 4, RFC 9562 §5.4) from the same CSPRNG as
 * crypto.randomUUID, made a batch at a time. randomUUID builds each id from 20 concatenated
 * pieces, ~600 bytes of garbage per request that bring young-generation collections (and the
 * pauses that set the p99) sooner; here each id is one 36-byte string cut from a batch's text.
 */
import { randomFillSync } from 'node:crypto'

const batch = 128
const random = Buffer.alloc(batch * 16)
const text = Buffer.alloc(batch * 36)
const hexDigits = Buffer.from('0123456789abcdef', 'latin1')
let next = batch

function refill(): void {
  randomFillSync(random)
  let o = 0
  for (let i = 0; i < random.length; i++) {
    const k = i & 15
    let b = random[i]!
    if (k === 6)
      b = (b & 0x0f) | 0x40 // version 4
    else if (k === 8) b = (b & 0x3f) | 0x80 // variant 10
    if (k === 4 || k === 6 || k === 8 || k === 10) text[o++] = 45 // -
    text[o++] = hexDigits[b >> 4]!
    text[o++] = hexDigits[b & 15]!
  }
  next = 0
}

/** A new random UUID, `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`. */
export function newRequestId(): string {
  if (next === batch) refill()
  const o = next++ * 36
  // a string of its own (not a slice of the batch's): ids outlive their batch in logs and stores
  return text.toString('latin1', o, o + 36)
}
