/**
 * The compressed postings of index format 3: each block of BLOCK_POSTINGS consecutive postings
 * (the blocks of the block-max bounds, which may span terms) is one header word, then its
 * chunk-id gaps, then its term frequencies minus one, each bit-packed LSB first into u32 words
 * at the block's own widths. A gap is the chunk id minus the previous chunk id of the same term
 * minus one (the chunk id itself at a term's first posting), so it is never negative: a term's
 * chunk ids are strictly increasing, which decoding gets for free. The header word holds the gap
 * width in its low byte and the frequency width in the next; the rest is zero.
 *
 * Decoding (bm25-format3.ts, with the checks and impacts) treats the words as hostile: a width
 * above 32, a set reserved bit, words missing or left over, a chunk id at or past the chunks,
 * all fail with a message naming the block.
 *
 * Speed: a command writes an index once, so every loop over the postings is a small function
 * called once per block (V8 optimizes it after a few calls; one loop over every posting in a
 * single call would run mostly unoptimized) and allocates nothing per block.
 */
import { BLOCK_POSTINGS } from "./bm25-index.js";

/** Bits needed for v (0 for 0). */
function bitsOf(v: number): number {
  return v === 0 ? 0 : 32 - Math.clz32(v);
}

/**
 * Fills out[0, n) with the term frequencies (each at least 1) of postings [from, from + n);
 * called once per block, in order.
 */
export type FillFrequencies = (from: number, n: number, out: Uint32Array) => void;

/**
 * Packs the postings: termOffsets as the index stores them, postChunk the chunk ids, `fill`
 * each block's term frequencies. The result may be a view of a larger buffer.
 */
export function packPostings(
  termOffsets: Uint32Array,
  postChunk: Uint32Array,
  fill: FillFrequencies,
): Uint32Array {
  const postings = postChunk.length;
  const gaps = new Uint32Array(BLOCK_POSTINGS);
  const tfs = new Uint32Array(BLOCK_POSTINGS);
  // A block takes at most a header word and two words per posting (32-bit gaps and
  // frequencies), but an index about one word per posting: start there and grow when a block
  // might not fit (a buffer for the worst case is memory the collector counts, and runs for).
  let out = new Uint32Array(Math.ceil(postings / BLOCK_POSTINGS) + postings);
  let word = 0;
  // The term of the block's first posting (the next term starts at termEnd).
  let term = 0;
  let termEnd = termOffsets.length > 1 ? (termOffsets[1] as number) : 0;
  for (let from = 0; from < postings; from += BLOCK_POSTINGS) {
    const n = Math.min(BLOCK_POSTINGS, postings - from);
    while (termEnd <= from) termEnd = termOffsets[++term + 1] as number;
    const gapBits = bitsOf(blockGaps(termOffsets, postChunk, from, n, term, termEnd, gaps));
    fill(from, n, tfs);
    const tfBits = bitsOf(minusOne(tfs, n));
    if (word + 1 + 2 * n > out.length) {
      const grown = new Uint32Array(2 * out.length + 1 + 2 * n);
      grown.set(out.subarray(0, word));
      out = grown;
    }
    out[word] = gapBits | (tfBits << 8);
    word = packWidth(out, word + 1, gaps, n, gapBits);
    word = packWidth(out, word, tfs, n, tfBits);
  }
  return out.subarray(0, word);
}

/** Posting [from, from + n)'s chunk-id gaps into gaps; returns their bitwise or. */
function blockGaps(
  termOffsets: Uint32Array,
  postChunk: Uint32Array,
  from: number,
  n: number,
  term: number,
  termEnd: number,
  gaps: Uint32Array,
): number {
  let t = term;
  let end = termEnd;
  let previous = from === (termOffsets[t] as number) ? -1 : (postChunk[from - 1] as number);
  let or = 0;
  for (let i = 0; i < n; i++) {
    const p = from + i;
    if (end <= p) {
      previous = -1;
      while (end <= p) end = termOffsets[++t + 1] as number;
    }
    const c = postChunk[p] as number;
    const gap = c - previous - 1;
    gaps[i] = gap;
    or |= gap;
    previous = c;
  }
  return or >>> 0;
}

/** Subtracts one from values[0, n) (frequencies are at least 1); returns their bitwise or. */
function minusOne(values: Uint32Array, n: number): number {
  let or = 0;
  for (let i = 0; i < n; i++) {
    const v = (values[i] as number) - 1;
    values[i] = v;
    or |= v;
  }
  return or >>> 0;
}

/** Packs values[0, n) at `width` bits from word `at` on (the words start zeroed); returns the next free word. */
function packWidth(out: Uint32Array, at: number, values: Uint32Array, n: number, width: number): number {
  if (width === 0) return at;
  let word = at;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    acc |= v << bits;
    bits += width;
    if (bits >= 32) {
      out[word++] = acc;
      bits -= 32;
      // The bits of v that did not fit (none when bits is 0: a shift by 32 would keep them all).
      acc = bits === 0 ? 0 : v >>> (width - bits);
    }
  }
  if (bits > 0) out[word++] = acc;
  return word;
}
