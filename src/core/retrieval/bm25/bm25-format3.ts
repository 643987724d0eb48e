/**
 * Format 3's postings (postings-codec.ts packs them): written as term frequencies found from the
 * impacts, read back by recomputing each impact from its frequency and its chunk's length with
 * the builder's own expression, after checking what the compressed form promises.
 */
import { BLOCK_POSTINGS, type IndexArrays, impactOf, lengthNorm } from "./bm25-arrays.js";
import { largestImpact } from "./bm25-consistency.js";
import { CorruptIndexError, type Header, type SectionName, viewU32 } from "./bm25-layout.js";
import { unpackPostings } from "./postings-codec.js";

/**
 * Each posting's term frequency, found from its impact: the smallest f whose impact, computed
 * as the builder computes it, rounds to the same float32 (impacts grow with f, so any f that
 * gives the stored impact gives every score the same). An estimate from the inverse formula
 * is tried first; a binary search over f settles the rest.
 */
export function frequencies(a: IndexArrays, chunkLen: Uint32Array): (p: number) => number {
  const { k1, b } = a.params;
  const avg = a.stats.avgChunkLen;
  const { postChunk, postImpact } = a;
  return (p) => {
    const c = postChunk[p] as number;
    const v = postImpact[p] as number;
    const len = chunkLen[c] as number;
    const norm = lengthNorm(k1, b, len, avg);
    const guess = Math.round((v * norm) / (k1 + 1 - v));
    if (guess >= 1 && guess <= len && Math.fround(impactOf(guess, k1, norm)) === v) return guess;
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
  };
}

/**
 * Format 3's postings, unpacked and checked: chunk ids in range and increasing per term (the
 * codec), each chunk's frequencies summing to its stored length, those lengths averaging to the
 * header's average exactly; then each impact recomputed as the builder computes it, and the
 * bounds from the impacts.
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
  for (let t = 0; t < terms; t++)
    if ((termOffsets[t + 1] as number) < (termOffsets[t] as number))
      throw new CorruptIndexError("termOffsets are not monotone");
  if (chunkLen.length !== chunks)
    throw new CorruptIndexError(`chunkLen does not hold the header's ${chunks} chunks`);
  const postChunk = new Uint32Array(postings);
  const postTf = new Uint32Array(postings);
  const bad = unpackPostings(packed, termOffsets, chunks, postChunk, postTf);
  if (bad !== null) throw new CorruptIndexError(bad);
  // Per block of postings and per chunk, in small functions V8 optimizes after a few calls (a
  // command reads an index once: a loop over every posting in one call would run unoptimized).
  const tfSum = new Float64Array(chunks);
  for (let from = 0; from < postings; from += BLOCK_POSTINGS) {
    const zero = addFrequencies(postChunk, postTf, from, Math.min(postings, from + BLOCK_POSTINGS), tfSum);
    if (zero >= 0) throw new CorruptIndexError(`posting ${zero} has term frequency 2^32`);
  }
  let total = 0;
  for (let from = 0; from < chunks; from += BLOCK_POSTINGS) {
    const to = Math.min(chunks, from + BLOCK_POSTINGS);
    const wrong = firstWrongLength(tfSum, chunkLen, from, to);
    if (wrong >= 0) throw new CorruptIndexError(`chunk ${wrong}'s term frequencies do not sum to its length`);
    total += sumOf(chunkLen, from, to);
  }
  const avg = chunks === 0 ? 0 : total / chunks;
  if (avg !== header.stats.avgChunkLen)
    throw new CorruptIndexError("the chunk lengths do not average to avgChunkLen");
  const { k1, b } = header.params;
  if (!(k1 >= 0 && b >= 0 && b <= 1))
    throw new CorruptIndexError(`k1 ${k1} and b ${b} do not keep impacts positive`);
  const norm = new Float64Array(chunks);
  for (let from = 0; from < chunks; from += BLOCK_POSTINGS)
    fillNorms(norm, chunkLen, from, Math.min(chunks, from + BLOCK_POSTINGS), k1, b, avg);
  const postImpact = new Float32Array(postings);
  const blockMax = new Float32Array(Math.ceil(postings / BLOCK_POSTINGS));
  for (let from = 0, block = 0; from < postings; from += BLOCK_POSTINGS, block++)
    blockMax[block] = fillImpacts(
      postImpact,
      postTf,
      postChunk,
      norm,
      k1,
      from,
      Math.min(postings, from + BLOCK_POSTINGS),
    );
  const termMax = new Float32Array(terms);
  for (let t = 0; t < terms; t++)
    termMax[t] = largestImpact(postImpact, termOffsets[t] as number, termOffsets[t + 1] as number);
  return { termOffsets, postChunk, postImpact, bounds: { termMax, blockMax }, chunkLen };
}

/** Adds each posting's frequency to its chunk's sum; returns the first posting whose frequency wrapped to 0, or -1. */
function addFrequencies(
  postChunk: Uint32Array,
  postTf: Uint32Array,
  from: number,
  to: number,
  tfSum: Float64Array,
): number {
  for (let p = from; p < to; p++) {
    const c = postChunk[p] as number;
    const tf = postTf[p] as number;
    if (tf === 0) return p;
    tfSum[c] = (tfSum[c] as number) + tf;
  }
  return -1;
}

function firstWrongLength(tfSum: Float64Array, chunkLen: Uint32Array, from: number, to: number): number {
  for (let c = from; c < to; c++) if (tfSum[c] !== chunkLen[c]) return c;
  return -1;
}

function sumOf(values: Uint32Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += values[i] as number;
  return sum;
}

function fillNorms(
  norm: Float64Array,
  chunkLen: Uint32Array,
  from: number,
  to: number,
  k1: number,
  b: number,
  avg: number,
): void {
  for (let c = from; c < to; c++) norm[c] = lengthNorm(k1, b, chunkLen[c] as number, avg);
}

/** Each posting's impact as the builder computes it; returns the largest (the block's bound). */
function fillImpacts(
  postImpact: Float32Array,
  postTf: Uint32Array,
  postChunk: Uint32Array,
  norm: Float64Array,
  k1: number,
  from: number,
  to: number,
): number {
  let max = 0;
  for (let p = from; p < to; p++) {
    postImpact[p] = impactOf(postTf[p] as number, k1, norm[postChunk[p] as number] as number);
    const v = postImpact[p] as number;
    if (v > max) max = v;
  }
  return max;
}
