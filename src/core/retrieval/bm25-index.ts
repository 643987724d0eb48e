/**
 * Okapi BM25 over chunks (SPEC §3.3), built for a million chunks: postings live in typed
 * arrays in CSR layout (one offsets array, one chunk array, one impact array), never as an
 * object per term per document. Each posting stores its precomputed BM25 term-frequency
 * factor, so a query is one multiply-add per posting. Building is in bm25-build.ts, the
 * binary format in bm25-format.ts.
 */
import { getAnalyzer } from "./analyzer.js";

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
  /** UTF-8 byte span of the chunk inside its document. */
  start: number;
  end: number;
  chunkId: string;
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
  chunkDoc: Uint32Array;
  chunkStart: Uint32Array;
  chunkEnd: Uint32Array;
  /** 32 bytes (sha256) per chunk. */
  chunkIds: Uint8Array;
}

/** Code-unit order, the same on every machine (localeCompare is not). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class Bm25Index {
  readonly params: Bm25Params;
  readonly stats: IndexStats;
  readonly arrays: IndexArrays;
  private termIds: Map<string, number> | null = null;
  private idf: Float64Array | null = null;
  private scores: Float64Array | null = null;
  /** Chunks with a non-zero score in the current query; allocated once, reused by every query. */
  private touched: Uint32Array | null = null;

  constructor(arrays: IndexArrays) {
    this.arrays = arrays;
    this.params = arrays.params;
    this.stats = arrays.stats;
  }

  chunkId(chunk: number): string {
    return Buffer.from(this.arrays.chunkIds.subarray(chunk * 32, chunk * 32 + 32)).toString("hex");
  }

  private prepare(): {
    termIds: Map<string, number>;
    idf: Float64Array;
    scores: Float64Array;
    touched: Uint32Array;
  } {
    if (this.termIds === null || this.idf === null || this.scores === null || this.touched === null) {
      const { terms, termOffsets } = this.arrays;
      this.termIds = new Map(terms.map((t, i) => [t, i]));
      const n = this.stats.chunks;
      this.idf = new Float64Array(terms.length);
      for (let t = 0; t < terms.length; t++) {
        const df = (termOffsets[t + 1] as number) - (termOffsets[t] as number);
        // Lucene's BM25 idf: never negative, so a very common term cannot lower a score.
        this.idf[t] = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      }
      this.scores = new Float64Array(n);
      this.touched = new Uint32Array(n);
    }
    return { termIds: this.termIds, idf: this.idf, scores: this.scores, touched: this.touched };
  }

  /**
   * The corpus statistics BM25 weighs these terms by: the number of chunks, their average
   * length in terms, and each term's document frequency in chunks (0 when not indexed). The
   * retrieve tool records them so the reasoner can weigh words without the index (SPEC §3.4).
   */
  termStats(terms: readonly string[]): TermStats {
    const { termIds } = this.prepare();
    const { termOffsets } = this.arrays;
    const df: Record<string, number> = {};
    for (const term of terms) {
      const t = termIds.get(term);
      df[term] = t === undefined ? 0 : (termOffsets[t + 1] as number) - (termOffsets[t] as number);
    }
    return { chunks: this.stats.chunks, avg_chunk_len: Math.round(this.stats.avgChunkLen * 1e6) / 1e6, df };
  }

  /**
   * Top-k chunks by BM25 score. Ranking: score descending, then doc id, then chunk start
   * (SPEC §3.3), so equal scores order the same way on every machine. Scores are summed in
   * query-term order, so the same query always adds the same floats in the same order.
   */
  search(query: string, topK: number): SearchHit[] {
    const { termIds, idf, scores, touched } = this.prepare();
    const { termOffsets, postChunk, postImpact, chunkDoc, chunkStart, docIds } = this.arrays;
    const analyzer = getAnalyzer(this.params.analyzer);
    let nTouched = 0;
    for (const term of new Set(analyzer.tokenize(query))) {
      const t = termIds.get(term);
      if (t === undefined) continue;
      const w = idf[t] as number;
      const end = termOffsets[t + 1] as number;
      for (let p = termOffsets[t] as number; p < end; p++) {
        const c = postChunk[p] as number;
        if (scores[c] === 0) touched[nTouched++] = c;
        scores[c] = (scores[c] as number) + w * (postImpact[p] as number);
      }
    }
    // Bounded heap of the k best, worst on top: O(touched * log k), not a sort of all matches.
    const better = (a: number, b: number): boolean => {
      const sa = scores[a] as number;
      const sb = scores[b] as number;
      if (sa !== sb) return sa > sb;
      const da = chunkDoc[a] as number;
      const db = chunkDoc[b] as number;
      if (da !== db) return compareStrings(docIds[da] as string, docIds[db] as string) < 0;
      return (chunkStart[a] as number) < (chunkStart[b] as number);
    };
    const heap: number[] = [];
    const siftDown = (i: number) => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let worst = i;
        if (l < heap.length && better(heap[worst] as number, heap[l] as number)) worst = l;
        if (r < heap.length && better(heap[worst] as number, heap[r] as number)) worst = r;
        if (worst === i) return;
        [heap[i], heap[worst]] = [heap[worst] as number, heap[i] as number];
        i = worst;
      }
    };
    const siftUp = (i: number) => {
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!better(heap[parent] as number, heap[i] as number)) return;
        [heap[i], heap[parent]] = [heap[parent] as number, heap[i] as number];
        i = parent;
      }
    };
    const k = Math.max(0, Math.floor(topK));
    for (let i = 0; i < nTouched; i++) {
      const c = touched[i] as number;
      if (heap.length < k) {
        heap.push(c);
        siftUp(heap.length - 1);
      } else if (k > 0 && better(c, heap[0] as number)) {
        heap[0] = c;
        siftDown(0);
      }
    }
    const ranked = heap.sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
    const hits = ranked.map((c) => ({
      chunk: c,
      docId: docIds[chunkDoc[c] as number] as string,
      start: chunkStart[c] as number,
      end: this.arrays.chunkEnd[c] as number,
      chunkId: this.chunkId(c),
      score: Math.round((scores[c] as number) * 1e6) / 1e6,
    }));
    for (let i = 0; i < nTouched; i++) scores[touched[i] as number] = 0;
    return hits;
  }
}
