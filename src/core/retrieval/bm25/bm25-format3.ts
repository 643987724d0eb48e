/**
 * Format 3's postings (postings-codec.ts packs them): written as term frequencies found from the
 * impacts, read back by recomputing each impact from its frequency and its chunk's length with
 * the builder's own expression, after checking what the compressed form promises.
 *
 * Both directions are one pass over the blocks, with per-chunk arithmetic done once per chunk:
 * each chunk's length norm (and, reading, what is left of its length) sits in one array, so a
 * posting touches one place per chunk, not several.
 */
import { BLOCK_POSTINGS, BLOCK_SHIFT, type IndexArrays, impactOf, lengthNorm } from "./bm25-arrays.js";
import { CorruptIndexError, type Header, type SectionName, viewU32 } from "./bm25-layout.js";
import { type FillFrequencies, unpackPostings } from "./postings-codec.js";

/** Norms are looked up by length up to this length, and computed for each posting beyond. */
const NORM_TABLE_MAX = 1 << 16;

/**
 * The norm of every chunk length up to `longest` (at most NORM_TABLE_MAX), as the builder
 * computes it: a few KiB, which stay in cache where a norm per chunk would not.
 */
function normTable(longest: number, k1: number, b: number, avg: number): Float64Array {
  const norm = new Float64Array(Math.min(longest, NORM_TABLE_MAX) + 1);
  for (let from = 0; from < norm.length; from += BLOCK_POSTINGS)
    fillNorms(norm, from, Math.min(norm.length, from + BLOCK_POSTINGS), k1, b, avg);
  return norm;
}

function fillNorms(norm: Float64Array, from: number, to: number, k1: number, b: number, avg: number): void {
  for (let len = from; len < to; len++) norm[len] = lengthNorm(k1, b, len, avg);
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
  const norm = normTable(largest(chunkLen), k1, b, avg);
  const { postChunk, postImpact } = a;
  return (from, n, out) => {
    for (let i = 0; i < n; i++) {
      const p = from + i;
      const c = postChunk[p] as number;
      const v = postImpact[p] as number;
      const len = chunkLen[c] as number;
      const x = len < norm.length ? (norm[len] as number) : lengthNorm(k1, b, len, avg);
      const guess = Math.round((v * x) / (k1 + 1 - v));
      out[i] =
        guess >= 1 && guess <= len && Math.fround(impactOf(guess, k1, x)) === v
          ? guess
          : searchFrequency(p, v, len, k1, x);
    }
  };
}

/** The smallest f in [1, len] whose impact rounds to v (when the estimate missed). */
function searchFrequency(p: number, v: number, len: number, k1: number, norm: number): number {
  let lo = 1;
  let hi = Math.max(1, len);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (Math.fround(impactOf(mid, k1, norm)) < v) lo = mid + 1;
    else hi = mid;
  }
  if (Math.fround(impactOf(lo, k1, norm)) !== v)
    throw new Error(`posting ${p}'s impact ${v} is no term frequency's: not a fresh build`);
  return lo;
}

/**
 * Format 3's postings, unpacked and checked: chunk ids in range and increasing per term (the
 * codec), each chunk's frequencies summing to its stored length, those lengths averaging to the
 * header's average exactly; then each impact recomputed as the builder computes it, and the
 * bounds from the impacts. All in one pass over the blocks; the failures are reported in that
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
  const norm = normTable(largest(chunkLen), k1, b, avg);
  const postChunk = new Uint32Array(postings);
  const postImpact = new Float32Array(postings);
  const blockMax = new Float32Array(Math.ceil(postings / BLOCK_POSTINGS));
  const termMax = new Float32Array(terms);
  const impacts = new BlockImpacts(
    termOffsets,
    postChunk,
    postImpact,
    perChunk,
    norm,
    header.params,
    avg,
    termMax,
    blockMax,
  );
  const bad = unpackPostings(packed, termOffsets, chunks, postChunk, (from, n, tfs) =>
    impacts.block(from, n, tfs),
  );
  if (bad !== null) throw new CorruptIndexError(bad);
  impacts.finish();
  if (impacts.wrapped >= 0) throw new CorruptIndexError(`posting ${impacts.wrapped} has term frequency 2^32`);
  for (let from = 0; from < Math.min(chunks, impacts.over); from += BLOCK_POSTINGS) {
    const wrong = firstLeft(perChunk, from, Math.min(chunks, impacts.over, from + BLOCK_POSTINGS));
    if (wrong >= 0) throw new CorruptIndexError(`chunk ${wrong}'s term frequencies do not sum to its length`);
  }
  if (impacts.over < chunks)
    throw new CorruptIndexError(`chunk ${impacts.over}'s term frequencies do not sum to its length`);
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

/** Each decoded block's impacts, bounds and frequency sums. */
class BlockImpacts {
  /** The first posting whose frequency is 2^32 (too wide to keep), or -1. */
  wrapped = -1;
  /** The first chunk whose frequencies were found to sum past its length (chunks when none). */
  over: number;
  private term = 0;
  private termEnd: number;
  private termBest = 0;
  private readonly k1: number;
  private readonly b: number;

  constructor(
    private readonly termOffsets: Uint32Array,
    private readonly postChunk: Uint32Array,
    private readonly postImpact: Float32Array,
    private readonly perChunk: Uint32Array,
    private readonly norm: Float64Array,
    params: { k1: number; b: number },
    private readonly avg: number,
    private readonly termMax: Float32Array,
    private readonly blockMax: Float32Array,
  ) {
    this.termEnd = termOffsets.length > 1 ? (termOffsets[1] as number) : 0;
    this.over = perChunk.length / 2;
    this.k1 = params.k1;
    this.b = params.b;
  }

  block(from: number, n: number, tfs: Uint32Array): void {
    const { termOffsets, postChunk, postImpact, perChunk, norm, termMax, k1 } = this;
    let t = this.term;
    let end = this.termEnd;
    let termBest = this.termBest;
    let best = 0;
    for (let i = 0; i < n; i++) {
      const p = from + i;
      if (end <= p) {
        termMax[t] = termBest;
        termBest = 0;
        while (end <= p) end = termOffsets[++t + 1] as number;
      }
      const c = postChunk[p] as number;
      const f = (tfs[i] as number) + 1;
      const len = perChunk[2 * c] as number;
      const left = perChunk[2 * c + 1] as number;
      if (f <= left) perChunk[2 * c + 1] = left - f;
      else this.sumsPast(p, c, f);
      const x = len < norm.length ? (norm[len] as number) : lengthNorm(k1, this.b, len, this.avg);
      const v = Math.fround(impactOf(f, k1, x));
      postImpact[p] = v;
      if (v > best) best = v;
      if (v > termBest) termBest = v;
    }
    this.blockMax[from >>> BLOCK_SHIFT] = best;
    this.term = t;
    this.termEnd = end;
    this.termBest = termBest;
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
