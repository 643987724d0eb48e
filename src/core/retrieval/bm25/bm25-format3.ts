/**
 * Format 3's postings (postings-codec.ts packs them): written as term frequencies found from the
 * impacts, read back by recomputing each impact from its frequency and its chunk's length with
 * the builder's own expression, after checking what the compressed form promises.
 *
 * Both directions are one pass over the blocks. Norms, and the impact of one occurrence, are
 * looked up by chunk length in small tables; reading keeps each chunk's length and what its
 * frequencies leave of it side by side, so a posting touches one place per chunk.
 */
import { BLOCK_POSTINGS, BLOCK_SHIFT, type IndexArrays, impactOf, lengthNorm } from "./bm25-arrays.js";
import { CorruptIndexError, type Header, type SectionName, viewU32 } from "./bm25-layout.js";
import type { FillFrequencies } from "./postings-codec.js";

/** Norms are looked up by length up to this length, and computed for each posting beyond. */
const NORM_TABLE_MAX = 1 << 16;

/**
 * For every chunk length up to `longest` (at most NORM_TABLE_MAX): its norm and the impact of
 * one occurrence (most postings'), as the builder computes them. A few KiB, which stay in
 * cache where a value per chunk would not, and a division saved for most postings.
 */
interface LengthTables {
  norm: Float64Array;
  once: Float32Array;
}

function lengthTables(longest: number, k1: number, b: number, avg: number): LengthTables {
  const size = Math.min(longest, NORM_TABLE_MAX) + 1;
  const tables = { norm: new Float64Array(size), once: new Float32Array(size) };
  for (let from = 0; from < size; from += BLOCK_POSTINGS)
    fillLengths(tables, from, Math.min(size, from + BLOCK_POSTINGS), k1, b, avg);
  return tables;
}

function fillLengths(
  { norm, once }: LengthTables,
  from: number,
  to: number,
  k1: number,
  b: number,
  avg: number,
): void {
  for (let len = from; len < to; len++) {
    norm[len] = lengthNorm(k1, b, len, avg);
    once[len] = impactOf(1, k1, norm[len] as number);
  }
}

function largest(values: Uint32Array): number {
  let max = 0;
  for (let from = 0; from < values.length; from += BLOCK_POSTINGS)
    max = Math.max(max, largestIn(values, from, Math.min(values.length, from + BLOCK_POSTINGS)));
  return max;
}

function largestIn(values: Uint32Array, from: number, to: number): number {
  let max = 0;
  for (let i = from; i < to; i++) if ((values[i] as number) > max) max = values[i] as number;
  return max;
}

/**
 * Each posting's term frequency, found from its impact: the smallest f whose impact, computed
 * as the builder computes it, rounds to the same float32 (impacts grow with f, so any f that
 * gives the stored impact gives every score the same). An estimate from the inverse formula
 * is tried first; a binary search over f settles the rest.
 */
export function frequencies(a: IndexArrays, chunkLen: Uint32Array): FillFrequencies {
  const { k1, b } = a.params;
  const avg = a.stats.avgChunkLen;
  const { norm, once } = lengthTables(largest(chunkLen), k1, b, avg);
  // What frequencyOf gives for an impact equal to one occurrence's, by length.
  const onceFrequency = new Uint32Array(once.length);
  for (let len = 0; len < once.length; len++)
    onceFrequency[len] = frequencyOf(once[len] as number, len, k1, norm[len] as number);
  const { postChunk, postImpact } = a;
  return (from, n, out) => {
    for (let i = 0; i < n; i++) {
      const p = from + i;
      const v = postImpact[p] as number;
      const len = chunkLen[postChunk[p] as number] as number;
      const f =
        len >= once.length
          ? frequencyOf(v, len, k1, lengthNorm(k1, b, len, avg))
          : v === once[len]
            ? (onceFrequency[len] as number)
            : frequencyOf(v, len, k1, norm[len] as number);
      if (f < 0) throw new Error(`posting ${p}'s impact ${v} is no term frequency's: not a fresh build`);
      out[i] = f;
    }
  };
}

/** The frequency of impact v in a chunk of `len` terms and this norm (see `frequencies`), or -1. */
function frequencyOf(v: number, len: number, k1: number, norm: number): number {
  const guess = Math.round((v * norm) / (k1 + 1 - v));
  if (guess >= 1 && guess <= len && Math.fround(impactOf(guess, k1, norm)) === v) return guess;
  let lo = 1;
  let hi = Math.max(1, len);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (Math.fround(impactOf(mid, k1, norm)) < v) lo = mid + 1;
    else hi = mid;
  }
  return Math.fround(impactOf(lo, k1, norm)) === v ? lo : -1;
}

/**
 * Format 3's postings, unpacked and checked: chunk ids in range and increasing per term (the
 * codec), each chunk's frequencies summing to its stored length, those lengths averaging to the
 * header's average exactly; then each impact recomputed as the builder computes it, and the
 * bounds from the reader. All in one pass over the blocks; the failures are reported in that
 * order, each the first of its kind.
 */
export function unpackFormat3(
  header: Header,
  s: Partial<Record<SectionName, Uint8Array>>,
): Pick<IndexArrays, "termOffsets" | "postChunk" | "postImpact" | "bounds" | "chunkLen"> {
  const { chunks, postings, terms } = header.stats;
  const termOffsets = viewU32("termOffsets", s.termOffsets);
  const chunkLen = viewU32("chunkLen", s.chunkLen);
  const packed = viewU32("postPacked", s.postPacked);
  if (termOffsets.length !== terms + 1)
    throw new CorruptIndexError("termOffsets does not hold one offset per term plus one");
  if (termOffsets[0] !== 0 || termOffsets[terms] !== postings)
    throw new CorruptIndexError("termOffsets do not span the postings");
  for (let from = 0; from < terms; from += BLOCK_POSTINGS)
    if (!monotone(termOffsets, from, Math.min(terms, from + BLOCK_POSTINGS)))
      throw new CorruptIndexError("termOffsets are not monotone");
  if (chunkLen.length !== chunks)
    throw new CorruptIndexError(`chunkLen does not hold the header's ${chunks} chunks`);
  const { k1, b } = header.params;
  const avg = header.stats.avgChunkLen;
  // Each chunk's length at 2c and what its frequencies leave of it at 2c + 1: a posting reads
  // one place per chunk, eight bytes, where the norm itself would take eight more.
  const perChunk = new Uint32Array(2 * chunks);
  let total = 0;
  for (let from = 0; from < chunks; from += BLOCK_POSTINGS)
    total += fillPerChunk(perChunk, chunkLen, from, Math.min(chunks, from + BLOCK_POSTINGS));
  const tables = lengthTables(largest(chunkLen), k1, b, avg);
  const postChunk = new Uint32Array(postings);
  const postImpact = new Float32Array(postings);
  const blockMax = new Float32Array(Math.ceil(postings / BLOCK_POSTINGS));
  const termMax = new Float32Array(terms);
  const reader = new BlockReader(
    termOffsets,
    chunks,
    postChunk,
    postImpact,
    perChunk,
    tables,
    header.params,
    avg,
    termMax,
    blockMax,
  );
  const bad = readBlocks(packed, postings, reader);
  if (bad !== null) throw new CorruptIndexError(bad);
  reader.finish();
  if (reader.wrapped >= 0) throw new CorruptIndexError(`posting ${reader.wrapped} has term frequency 2^32`);
  for (let from = 0; from < Math.min(chunks, reader.over); from += BLOCK_POSTINGS) {
    const wrong = firstLeft(perChunk, from, Math.min(chunks, reader.over, from + BLOCK_POSTINGS));
    if (wrong >= 0) throw new CorruptIndexError(`chunk ${wrong}'s term frequencies do not sum to its length`);
  }
  if (reader.over < chunks)
    throw new CorruptIndexError(`chunk ${reader.over}'s term frequencies do not sum to its length`);
  if ((chunks === 0 ? 0 : total / chunks) !== avg)
    throw new CorruptIndexError("the chunk lengths do not average to avgChunkLen");
  if (!(k1 >= 0 && b >= 0 && b <= 1))
    throw new CorruptIndexError(`k1 ${k1} and b ${b} do not keep impacts positive`);
  return { termOffsets, postChunk, postImpact, bounds: { termMax, blockMax }, chunkLen };
}

function monotone(termOffsets: Uint32Array, from: number, to: number): boolean {
  for (let t = from; t < to; t++)
    if ((termOffsets[t + 1] as number) < (termOffsets[t] as number)) return false;
  return true;
}

/** Chunks [from, to)'s lengths into perChunk, twice each; returns their sum. */
function fillPerChunk(perChunk: Uint32Array, chunkLen: Uint32Array, from: number, to: number): number {
  let sum = 0;
  for (let c = from; c < to; c++) {
    const len = chunkLen[c] as number;
    perChunk[2 * c] = len;
    perChunk[2 * c + 1] = len;
    sum += len;
  }
  return sum;
}

/** The first chunk of [from, to) whose frequencies left some of its length, or -1. */
function firstLeft(perChunk: Uint32Array, from: number, to: number): number {
  for (let c = from; c < to; c++) if (perChunk[2 * c + 1] !== 0) return c;
  return -1;
}

/**
 * Walks the blocks' header words (postings-codec.ts describes them) and has `reader` decode
 * each; returns null when the words are sound, else what is wrong with them. Counts and offsets
 * (termOffsets monotone, spanning the postings) are checked by the caller first.
 */
function readBlocks(packed: Uint32Array, postings: number, reader: BlockReader): string | null {
  let word = 0;
  for (let from = 0, block = 0; from < postings; from += BLOCK_POSTINGS, block++) {
    const n = Math.min(BLOCK_POSTINGS, postings - from);
    if (word >= packed.length) return `the packed postings end before block ${block}`;
    const head = packed[word] as number;
    const gapBits = head & 0xff;
    const tfBits = (head >>> 8) & 0xff;
    if (head >>> 16 !== 0 || gapBits > 32 || tfBits > 32)
      return `block ${block}'s header word ${head} is not a header`;
    const gapWords = Math.ceil((n * gapBits) / 32);
    const tfWords = Math.ceil((n * tfBits) / 32);
    if (word + 1 + gapWords + tfWords > packed.length) return `block ${block} is truncated`;
    const bad = reader.block(packed, word + 1, gapBits, word + 1 + gapWords, tfBits, from, n);
    if (bad >= 0) return `posting ${bad} names a chunk past the last`;
    word += 1 + gapWords + tfWords;
  }
  if (word !== packed.length)
    return `${packed.length - word} packed words are left over after the last block`;
  return null;
}

/**
 * Decodes blocks in order, each in one loop: chunk ids from the gaps, frequencies, what is
 * left of each chunk's length, impacts and bounds. One loop, not one per step, because a
 * command reads an index once: every loop runs unoptimized until V8 has seen it enough.
 */
class BlockReader {
  /** The first posting whose frequency is 2^32 (too wide to keep), or -1. */
  wrapped = -1;
  /** The first chunk whose frequencies were found to sum past its length (chunks when none). */
  over: number;
  private term = 0;
  private termEnd: number;
  private previous = -1;
  private termBest = 0;
  private readonly k1: number;
  private readonly b: number;

  constructor(
    private readonly termOffsets: Uint32Array,
    private readonly chunks: number,
    private readonly postChunk: Uint32Array,
    private readonly postImpact: Float32Array,
    private readonly perChunk: Uint32Array,
    private readonly tables: LengthTables,
    params: { k1: number; b: number },
    private readonly avg: number,
    private readonly termMax: Float32Array,
    private readonly blockMax: Float32Array,
  ) {
    this.termEnd = termOffsets.length > 1 ? (termOffsets[1] as number) : 0;
    this.over = chunks;
    this.k1 = params.k1;
    this.b = params.b;
  }

  /**
   * Postings [from, from + n): gaps at gapBits each from word gapAt, frequencies minus one at
   * tfBits each from word tfAt (LSB first). Returns the first posting past the last chunk, or -1.
   */
  block(
    packed: Uint32Array,
    gapAt: number,
    gapBits: number,
    tfAt: number,
    tfBits: number,
    from: number,
    n: number,
  ): number {
    const { termOffsets, chunks, postChunk, postImpact, perChunk, termMax, k1 } = this;
    const { norm, once } = this.tables;
    const gapMask = gapBits === 32 ? -1 : (1 << gapBits) - 1;
    const tfMask = tfBits === 32 ? -1 : (1 << tfBits) - 1;
    let gapWord = gapAt;
    let gapShift = 0;
    let tfWord = tfAt;
    let tfShift = 0;
    let t = this.term;
    let end = this.termEnd;
    let previous = this.previous;
    let termBest = this.termBest;
    let best = 0;
    for (let i = 0; i < n; i++) {
      const p = from + i;
      if (end <= p) {
        termMax[t] = termBest;
        termBest = 0;
        previous = -1;
        while (end <= p) end = termOffsets[++t + 1] as number;
      }
      let gap = 0;
      if (gapBits !== 0) {
        gap = (packed[gapWord] as number) >>> gapShift;
        const next = gapShift + gapBits;
        if (next > 32) gap |= (packed[gapWord + 1] as number) << (32 - gapShift);
        gap = (gap & gapMask) >>> 0;
        if (next >= 32) gapWord++;
        gapShift = next & 31;
      }
      let tf = 0;
      if (tfBits !== 0) {
        tf = (packed[tfWord] as number) >>> tfShift;
        const next = tfShift + tfBits;
        if (next > 32) tf |= (packed[tfWord + 1] as number) << (32 - tfShift);
        tf = (tf & tfMask) >>> 0;
        if (next >= 32) tfWord++;
        tfShift = next & 31;
      }
      const c = previous + 1 + gap;
      if (c >= chunks) return p;
      postChunk[p] = c;
      previous = c;
      // A frequency of 2^32 (tf 0xffffffff) is more than any length: it takes the slow branch.
      const len = perChunk[2 * c] as number;
      const left = perChunk[2 * c + 1] as number;
      if (tf < left) perChunk[2 * c + 1] = left - tf - 1;
      else this.sumsPast(p, c, tf + 1);
      const v =
        len >= norm.length
          ? Math.fround(impactOf(tf + 1, k1, lengthNorm(k1, this.b, len, this.avg)))
          : tf === 0
            ? (once[len] as number)
            : Math.fround(impactOf(tf + 1, k1, norm[len] as number));
      postImpact[p] = v;
      if (v > best) best = v;
      if (v > termBest) termBest = v;
    }
    this.blockMax[from >>> BLOCK_SHIFT] = best;
    this.term = t;
    this.termEnd = end;
    this.previous = previous;
    this.termBest = termBest;
    return -1;
  }

  /** Posting p's frequency f is more than what is left of chunk c's length. */
  private sumsPast(p: number, c: number, f: number): void {
    if (f > 0xffffffff && this.wrapped < 0) this.wrapped = p;
    if (c < this.over) this.over = c;
  }

  /** Records the last term's bound; the terms after it have no postings (bound 0). */
  finish(): void {
    if (this.term < this.termMax.length) this.termMax[this.term] = this.termBest;
  }
}
