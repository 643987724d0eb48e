/**
 * The compressed postings of index format 3: each block of BLOCK_POSTINGS consecutive postings
 * (the blocks of the block-max bounds, which may span terms) is one header word, then its
 * chunk-id gaps, then its term frequencies minus one, each bit-packed LSB first into u32 words
 * at the block's own widths. A gap is the chunk id minus the previous chunk id of the same term
 * minus one (the chunk id itself at a term's first posting), so it is never negative: a term's
 * chunk ids are strictly increasing, which decoding gets for free. The header word holds the gap
 * width in its low byte and the frequency width in the next; the rest is zero.
 *
 * Decoding treats the words as hostile: a width above 32, a set reserved bit, words missing or
 * left over, a chunk id at or past `chunks`, all fail with a message naming the block.
 */
import { BLOCK_POSTINGS } from "./bm25-index.js";

/** Bits needed for v (0 for 0). */
function bitsOf(v: number): number {
  return v === 0 ? 0 : 32 - Math.clz32(v);
}

function wordsFor(n: number, width: number): number {
  return Math.ceil((n * width) / 32);
}

/**
 * Packs the postings: termOffsets as the index stores them, postChunk the chunk ids, tfOf(p)
 * posting p's term frequency (at least 1).
 */
export function packPostings(
  termOffsets: Uint32Array,
  postChunk: Uint32Array,
  tfOf: (p: number) => number,
): Uint32Array {
  const postings = postChunk.length;
  const gaps = new Uint32Array(BLOCK_POSTINGS);
  const tfs = new Uint32Array(BLOCK_POSTINGS);
  // At most a header word and two words per posting (32-bit gaps and frequencies).
  const out = new Uint32Array(Math.ceil(postings / BLOCK_POSTINGS) + 2 * postings);
  let word = 0;
  let term = 0;
  for (let from = 0; from < postings; from += BLOCK_POSTINGS) {
    const n = Math.min(BLOCK_POSTINGS, postings - from);
    let gapOr = 0;
    let tfOr = 0;
    for (let i = 0; i < n; i++) {
      const p = from + i;
      while ((termOffsets[term + 1] as number) <= p) term++;
      const c = postChunk[p] as number;
      const gap = p === termOffsets[term] ? c : c - (postChunk[p - 1] as number) - 1;
      const tf = tfOf(p) - 1;
      gaps[i] = gap;
      tfs[i] = tf;
      gapOr |= gap;
      tfOr |= tf;
    }
    const gapBits = bitsOf(gapOr >>> 0);
    const tfBits = bitsOf(tfOr >>> 0);
    out[word] = gapBits | (tfBits << 8);
    word = packWidth(out, word + 1, gaps, n, gapBits);
    word = packWidth(out, word, tfs, n, tfBits);
  }
  return out.slice(0, word);
}

/** Packs n values of `width` bits from word `at` on (the words start zeroed); returns the next free word. */
function packWidth(out: Uint32Array, at: number, values: Uint32Array, n: number, width: number): number {
  if (width === 0) return at;
  let bit = at * 32;
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    const word = bit >>> 5;
    const shift = bit & 31;
    out[word] = ((out[word] as number) | (v << shift)) >>> 0;
    if (shift + width > 32) out[word + 1] = ((out[word + 1] as number) | (v >>> (32 - shift))) >>> 0;
    bit += width;
  }
  return at + wordsFor(n, width);
}

/**
 * Unpacks into postChunk and postTf (each `postings` long); returns null when the words are
 * sound, else what is wrong with them. Counts and offsets (termOffsets monotone, spanning the
 * postings) are checked by the caller first.
 */
export function unpackPostings(
  packed: Uint32Array,
  termOffsets: Uint32Array,
  chunks: number,
  postChunk: Uint32Array,
  postTf: Uint32Array,
): string | null {
  const postings = postChunk.length;
  let word = 0;
  let term = 0;
  let previous = -1;
  for (let from = 0, block = 0; from < postings; from += BLOCK_POSTINGS, block++) {
    const n = Math.min(BLOCK_POSTINGS, postings - from);
    if (word >= packed.length) return `the packed postings end before block ${block}`;
    const head = packed[word] as number;
    const gapBits = head & 0xff;
    const tfBits = (head >>> 8) & 0xff;
    if (head >>> 16 !== 0 || gapBits > 32 || tfBits > 32)
      return `block ${block}'s header word ${head} is not a header`;
    const gapWords = wordsFor(n, gapBits);
    if (word + 1 + gapWords + wordsFor(n, tfBits) > packed.length) return `block ${block} is truncated`;
    let at = word + 1;
    const bad = decodeBlock(packed, at, n, gapBits, from, termOffsets, term, previous, chunks, postChunk);
    if (bad >= 0) return `posting ${bad} names a chunk past the last`;
    term = lastTerm;
    previous = lastChunk;
    at += gapWords;
    readWidth(packed, at, n, tfBits, postTf, from);
    word = at + wordsFor(n, tfBits);
  }
  if (word !== packed.length)
    return `${packed.length - word} packed words are left over after the last block`;
  return null;
}

// Decoder state returned through module variables (no object per block on the hot path).
let lastTerm = 0;
let lastChunk = -1;

/** Decodes one block's gaps into chunk ids; returns the first bad posting, or -1. */
function decodeBlock(
  packed: Uint32Array,
  at: number,
  n: number,
  width: number,
  from: number,
  termOffsets: Uint32Array,
  term: number,
  previous: number,
  chunks: number,
  postChunk: Uint32Array,
): number {
  let bit = at * 32;
  const mask = width === 32 ? 0xffffffff : (1 << width) - 1;
  let t = term;
  let prev = previous;
  for (let i = 0; i < n; i++) {
    const p = from + i;
    let gap = 0;
    if (width > 0) {
      const w = bit >>> 5;
      const shift = bit & 31;
      let v = (packed[w] as number) >>> shift;
      if (shift + width > 32) v |= (packed[w + 1] as number) << (32 - shift);
      gap = (v & mask) >>> 0;
      bit += width;
    }
    while ((termOffsets[t + 1] as number) <= p) t++;
    if (p === termOffsets[t]) prev = -1;
    const c = prev + 1 + gap;
    if (c >= chunks) {
      postChunk[p] = 0;
      return p;
    }
    postChunk[p] = c;
    prev = c;
  }
  lastTerm = t;
  lastChunk = prev;
  return -1;
}

/** Reads n values of `width` bits from word `at` into out[from...], each plus one. */
function readWidth(
  packed: Uint32Array,
  at: number,
  n: number,
  width: number,
  out: Uint32Array,
  from: number,
): void {
  if (width === 0) {
    out.fill(1, from, from + n);
    return;
  }
  let bit = at * 32;
  const mask = width === 32 ? 0xffffffff : (1 << width) - 1;
  for (let i = 0; i < n; i++) {
    const w = bit >>> 5;
    const shift = bit & 31;
    let v = (packed[w] as number) >>> shift;
    if (shift + width > 32) v |= (packed[w + 1] as number) << (32 - shift);
    // A frequency of 2^32 (width 32, all ones) wraps to 0, which the chunk-length check refuses.
    out[from + i] = (((v & mask) >>> 0) + 1) >>> 0;
    bit += width;
  }
}
