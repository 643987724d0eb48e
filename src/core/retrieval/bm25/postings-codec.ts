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
 *
 * Speed: a command reads or writes an index once, so every loop over the postings is a small
 * function called once per block (V8 optimizes it after a few calls; one loop over every
 * posting in a single call would run mostly unoptimized), allocates nothing per block, and
 * keeps its state in numbers, not objects.
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
  // At most a header word and two words per posting (32-bit gaps and frequencies). The words
  // past the end are never touched, so they cost no memory.
  const out = new Uint32Array(Math.ceil(postings / BLOCK_POSTINGS) + 2 * postings);
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

/**
 * Processes one block after it is decoded: postings [from, from + n) have their chunk ids in
 * postChunk and their term frequencies minus one in tfs[0, n) (a frequency of 2^32 reads as
 * 0xffffffff here, so add 1 as a number, not as a u32).
 */
export type OnBlock = (from: number, n: number, tfs: Uint32Array) => void;

/**
 * Unpacks the chunk ids into postChunk (`postings` long) and hands each block's frequencies to
 * `onBlock`; returns null when the words are sound, else what is wrong with them. Counts and
 * offsets (termOffsets monotone, spanning the postings) are checked by the caller first.
 */
export function unpackPostings(
  packed: Uint32Array,
  termOffsets: Uint32Array,
  chunks: number,
  postChunk: Uint32Array,
  onBlock: OnBlock,
): string | null {
  const postings = postChunk.length;
  const tfs = new Uint32Array(BLOCK_POSTINGS);
  let word = 0;
  let term = 0;
  let termEnd = termOffsets.length > 1 ? (termOffsets[1] as number) : 0;
  for (let from = 0, block = 0; from < postings; from += BLOCK_POSTINGS, block++) {
    const n = Math.min(BLOCK_POSTINGS, postings - from);
    if (word >= packed.length) return `the packed postings end before block ${block}`;
    const head = packed[word] as number;
    const gapBits = head & 0xff;
    const tfBits = (head >>> 8) & 0xff;
    if (head >>> 16 !== 0 || gapBits > 32 || tfBits > 32)
      return `block ${block}'s header word ${head} is not a header`;
    const gapWords = wordsFor(n, gapBits);
    const tfWords = wordsFor(n, tfBits);
    if (word + 1 + gapWords + tfWords > packed.length) return `block ${block} is truncated`;
    unpackWidth(packed, word + 1, n, gapBits, postChunk, from);
    while (termEnd <= from) termEnd = termOffsets[++term + 1] as number;
    const bad = chunkIds(postChunk, from, n, termOffsets, term, termEnd, chunks);
    if (bad >= 0) return `posting ${bad} names a chunk past the last`;
    unpackWidth(packed, word + 1 + gapWords, n, tfBits, tfs, 0);
    onBlock(from, n, tfs);
    word += 1 + gapWords + tfWords;
  }
  if (word !== packed.length)
    return `${packed.length - word} packed words are left over after the last block`;
  return null;
}

/**
 * Turns the gaps of postings [from, from + n) in postChunk into chunk ids (the postings before
 * `from` are chunk ids already); returns the first posting past the last chunk, or -1.
 */
function chunkIds(
  postChunk: Uint32Array,
  from: number,
  n: number,
  termOffsets: Uint32Array,
  term: number,
  termEnd: number,
  chunks: number,
): number {
  let t = term;
  let end = termEnd;
  let previous = from === (termOffsets[t] as number) ? -1 : (postChunk[from - 1] as number);
  for (let i = 0; i < n; i++) {
    const p = from + i;
    if (end <= p) {
      previous = -1;
      while (end <= p) end = termOffsets[++t + 1] as number;
    }
    const c = previous + 1 + (postChunk[p] as number);
    if (c >= chunks) {
      postChunk[p] = 0;
      return p;
    }
    postChunk[p] = c;
    previous = c;
  }
  return -1;
}

/** Reads n values of `width` bits from word `at` on into out[outFrom, outFrom + n). */
function unpackWidth(
  packed: Uint32Array,
  at: number,
  n: number,
  width: number,
  out: Uint32Array,
  outFrom: number,
): void {
  if (width === 0) {
    out.fill(0, outFrom, outFrom + n);
    return;
  }
  if (width === 32) {
    out.set(packed.subarray(at, at + n), outFrom);
    return;
  }
  const mask = (1 << width) - 1;
  let word = at;
  let shift = 0;
  for (let i = 0; i < n; i++) {
    let v = (packed[word] as number) >>> shift;
    const next = shift + width;
    if (next > 32) v |= (packed[word + 1] as number) << (32 - shift);
    out[outFrom + i] = v & mask;
    if (next >= 32) {
      word++;
      shift = next - 32;
    } else shift = next;
  }
}
