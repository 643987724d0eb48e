/**
 * What a BM25 index holds (bm25-index.ts searches it, bm25-build.ts builds it, bm25-format.ts
 * reads and writes it): its parameters and statistics, the postings in CSR typed arrays, the
 * upper bounds pruned search relies on, and the BM25 arithmetic every one of them must share
 * bit for bit.
 */

export interface Bm25Params {
  k1: number;
  b: number;
  chunkChars: number;
  overlapChars: number;
  analyzer: "simple" | "english";
  /** Index each document's title words with every one of its chunks (BEIR-style title field). */
  titles: boolean;
}

export interface SearchHit {
  chunk: number;
  docId: string;
  /** UTF-8 byte span of the chunk inside its document (its id is the sha256 of those bytes). */
  start: number;
  end: number;
  score: number;
}

/** What `Bm25Index.termStats` returns; recorded in the retrieve payload as `term_stats`. */
export interface TermStats {
  chunks: number;
  avg_chunk_len: number;
  df: Record<string, number>;
}

export interface IndexStats {
  documents: number;
  chunks: number;
  terms: number;
  postings: number;
  avgChunkLen: number;
  textBytes: number;
}

/** log2 of BLOCK_POSTINGS: the block of posting p is p >>> BLOCK_SHIFT. */
export const BLOCK_SHIFT = 7;
/** Postings per block of the block-max bounds: block b covers postings [b * 128, (b + 1) * 128) of postImpact. */
export const BLOCK_POSTINGS = 1 << BLOCK_SHIFT;

/** Upper bounds of the impacts, for dynamic pruning. */
export interface IndexBounds {
  /** The largest impact among each term's postings (0 for a term without postings). */
  termMax: Float32Array;
  /** The largest impact in each block of BLOCK_POSTINGS postings, whichever terms they belong to. */
  blockMax: Float32Array;
}

/** Everything an index holds; what the builder produces and the format reads and writes. */
export interface IndexArrays {
  params: Bm25Params;
  stats: IndexStats;
  analyzer: { id: string; version: string };
  /** Sorted by code unit; a term's id is its position. */
  terms: string[];
  docIds: string[];
  /** Term t's postings are [termOffsets[t], termOffsets[t + 1]) of postChunk and postImpact. */
  termOffsets: Uint32Array;
  postChunk: Uint32Array;
  postImpact: Float32Array;
  /** Null for an index of format 1, which has none: it is searched exhaustively. */
  bounds: IndexBounds | null;
  chunkDoc: Uint32Array;
  chunkStart: Uint32Array;
  chunkEnd: Uint32Array;
  /**
   * Each chunk's length in indexed terms (title terms included), which its impacts were
   * computed from; null for an index read from format 1 or 2, which do not store it.
   */
  chunkLen: Uint32Array | null;
}

/** BM25's length normalization of a chunk of `len` terms, as the builder and format 3 compute it. */
export function lengthNorm(k1: number, b: number, len: number, avgLen: number): number {
  return k1 * (1 - b + (b * len) / (avgLen || 1));
}

/** BM25's term-frequency factor (the impact) of f occurrences in a chunk of this norm, before float32 rounding. */
export function impactOf(f: number, k1: number, norm: number): number {
  return (f * (k1 + 1)) / (f + norm);
}

/** Code-unit order, the same on every machine (localeCompare is not). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The bounds of these postings: what the builder stores and the format checks. */
export function computeBounds(termOffsets: Uint32Array, postImpact: Float32Array): IndexBounds {
  const terms = termOffsets.length - 1;
  const termMax = new Float32Array(Math.max(0, terms));
  for (let t = 0; t < terms; t++) {
    let max = 0;
    const end = termOffsets[t + 1] as number;
    for (let p = termOffsets[t] as number; p < end; p++) {
      const v = postImpact[p] as number;
      if (v > max) max = v;
    }
    termMax[t] = max;
  }
  const blockMax = new Float32Array(Math.ceil(postImpact.length / BLOCK_POSTINGS));
  for (let b = 0; b < blockMax.length; b++) {
    let max = 0;
    const end = Math.min(postImpact.length, (b + 1) * BLOCK_POSTINGS);
    for (let p = b * BLOCK_POSTINGS; p < end; p++) {
      const v = postImpact[p] as number;
      if (v > max) max = v;
    }
    blockMax[b] = max;
  }
  return { termMax, blockMax };
}

/** A ranking: chunks best first, with their unrounded scores. */
export interface Ranked {
  chunks: number[];
  scores: number[];
}

/** The query's indexed terms, each once, in first-occurrence order: the order scores are summed in. */
export interface QueryTerms {
  ids: number[];
  weights: number[];
}
