/**
 * Okapi BM25 over chunks (docs/design.md §3.3), built for a million chunks: postings live in typed
 * arrays in CSR layout (one offsets array, one chunk array, one impact array), never as an
 * object per term per document. Each posting stores its precomputed BM25 term-frequency
 * factor (its impact), so scoring a posting is one multiply-add. A query does not score every
 * posting: with the upper bounds the index stores (each term's largest impact, and the largest
 * impact of each block of postings) it skips chunks that cannot reach the top-k (MaxScore with
 * block-max bounds), and returns exactly what scoring every posting would. Building is in
 * bm25-build.ts, the binary format in bm25-format.ts, pruned search in max-score.ts.
 */
import { getAnalyzer } from "../analyzer.js";
import {
  BLOCK_POSTINGS,
  type Bm25Params,
  compareStrings,
  type IndexArrays,
  type IndexBounds,
  type IndexStats,
  type QueryTerms,
  type Ranked,
  type SearchHit,
  type TermStats,
} from "./bm25-arrays.js";
import { rankPruned } from "./max-score.js";
import { TopK } from "./top-k.js";

// The index's data model lives in bm25-arrays.ts; its importers have always found it here.
export {
  BLOCK_POSTINGS,
  type Bm25Params,
  compareStrings,
  computeBounds,
  type IndexArrays,
  type IndexBounds,
  type IndexStats,
  impactOf,
  lengthNorm,
  type Ranked,
  type SearchHit,
  type TermStats,
} from "./bm25-arrays.js";

/**
 * The cost rule of `Bm25Index.method`. Exhaustive scoring costs a multiply-add per posting into
 * a Float64Array of one accumulator per chunk; while that array stays in a core's L2 cache
 * (up to 64Ki chunks, 512 KiB) it is about 2x faster than pruning at every query size measured
 * (SciFact's 13,951 chunks: 58 us against 126 us per claim). Beyond, each posting is a cache
 * miss and pruning, which reads a fraction of the postings, wins (1.5x at 349k chunks, 4x at
 * 1M), except for queries with few postings, where its set-up dominates.
 */
export const EXHAUSTIVE_MAX_CHUNKS = 1 << 16;
/** Queries with at most this many postings in all are scored exhaustively at any index size. */
export const EXHAUSTIVE_MAX_POSTINGS = 2048;

/** How a top-k is found: "pruned" skips chunks that cannot make it, "exhaustive" scores every posting. */
export type Scoring = "pruned" | "exhaustive";

export class Bm25Index {
  readonly params: Bm25Params;
  readonly stats: IndexStats;
  readonly arrays: IndexArrays;
  /** Exhaustive scoring's accumulators, allocated by its first query only. */
  private scratch: { scores: Float64Array; touched: Uint32Array } | null = null;
  /** Each document's best chunk so far in `rankDocumentsExhaustive` (-1: none), left at -1 after each query. */
  private docScratch: Int32Array | null = null;

  constructor(arrays: IndexArrays) {
    this.arrays = arrays;
    this.params = arrays.params;
    this.stats = arrays.stats;
  }

  /** A term's id by binary search of the sorted terms, or -1 when it is not indexed. */
  termId(term: string): number {
    const { terms } = this.arrays;
    let lo = 0;
    let hi = terms.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const t = terms[mid] as string;
      if (t === term) return mid;
      if (t < term) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private df(t: number): number {
    return (this.arrays.termOffsets[t + 1] as number) - (this.arrays.termOffsets[t] as number);
  }

  /** Lucene's BM25 idf: never negative, so a very common term cannot lower a score. */
  private idf(t: number): number {
    const df = this.df(t);
    return Math.log(1 + (this.stats.chunks - df + 0.5) / (df + 0.5));
  }

  /**
   * The corpus statistics BM25 weighs these terms by: the number of chunks, their average
   * length in terms, and each term's document frequency in chunks (0 when not indexed). The
   * retrieve tool records them so the reasoner can weigh words without the index (docs/design.md §3.4).
   */
  termStats(terms: readonly string[]): TermStats {
    const df: Record<string, number> = {};
    for (const term of terms) {
      const t = this.termId(term);
      df[term] = t < 0 ? 0 : this.df(t);
    }
    return { chunks: this.stats.chunks, avg_chunk_len: Math.round(this.stats.avgChunkLen * 1e6) / 1e6, df };
  }

  private queryTerms(query: string): QueryTerms {
    const ids: number[] = [];
    const weights: number[] = [];
    for (const term of new Set(getAnalyzer(this.params.analyzer).tokenize(query))) {
      const t = this.termId(term);
      if (t < 0) continue;
      ids.push(t);
      weights.push(this.idf(t));
    }
    return { ids, weights };
  }

  /**
   * Top-k chunks by BM25 score. Ranking: score descending, then doc id, then chunk start
   * (docs/design.md §3.3), so equal scores order the same way on every machine. A chunk's score is
   * summed in query-term order, so the same query always adds the same floats in the same
   * order, whether the chunk was found by the pruned or the exhaustive search.
   */
  search(query: string, topK: number): SearchHit[] {
    return this.hits(this.topChunks(query, topK));
  }

  /** The same hits as `search`, found by scoring every posting of every query term. */
  searchExhaustive(query: string, topK: number): SearchHit[] {
    return this.hits(this.topChunksExhaustive(query, topK));
  }

  /**
   * The ranking `search` returns hits for, with unrounded scores, found by whichever method
   * costs less for this query (`method`): both return exactly the same ranking.
   */
  topChunks(query: string, topK: number): Ranked {
    const terms = this.queryTerms(query);
    const k = Math.max(0, Math.floor(topK));
    const bounds = this.arrays.bounds;
    if (bounds === null || this.method(terms, k) === "exhaustive") return this.rankExhaustive(terms, k);
    return this.rankPruned(terms, k, bounds);
  }

  topChunksExhaustive(query: string, topK: number): Ranked {
    return this.rankExhaustive(this.queryTerms(query), Math.max(0, Math.floor(topK)));
  }

  /** The ranking pruned search finds, whatever the cost rule would pick (for tests and benchmarks). */
  topChunksPruned(query: string, topK: number): Ranked {
    const bounds = this.arrays.bounds;
    const terms = this.queryTerms(query);
    const k = Math.max(0, Math.floor(topK));
    if (bounds === null || this.stats.postings >= 2 ** 31 - BLOCK_POSTINGS)
      return this.rankExhaustive(terms, k);
    return this.rankPruned(terms, k, bounds);
  }

  /**
   * Which method `topChunks` uses for this query, by cost (see EXHAUSTIVE_MAX_CHUNKS):
   * exhaustive on an index small enough that its accumulators stay in cache, for a query with
   * few postings, or for a k that asks for a good part of its longest postings list (nothing
   * left to prune); pruned otherwise. Both give bit-identical rankings: the rule changes speed only.
   */
  method(terms: { ids: readonly number[] }, k: number): Scoring {
    // Binary searches halve positions with >>> 1: beyond 2^31 postings, score them all.
    if (this.arrays.bounds === null || this.stats.postings >= 2 ** 31 - BLOCK_POSTINGS) return "exhaustive";
    if (this.stats.chunks <= EXHAUSTIVE_MAX_CHUNKS) return "exhaustive";
    let postings = 0;
    let longest = 0;
    for (const t of terms.ids) {
      const df = this.df(t);
      postings += df;
      if (df > longest) longest = df;
    }
    if (postings <= EXHAUSTIVE_MAX_POSTINGS || k * 8 >= longest) return "exhaustive";
    return "pruned";
  }

  /** The method `topChunks` picks for this query text (for benchmarks and the profile). */
  methodFor(query: string, topK: number): Scoring {
    return this.method(this.queryTerms(query), Math.max(0, Math.floor(topK)));
  }

  /**
   * The top-k documents: each document ranks by its best chunk (score, then doc id), and that
   * chunk stands for it, so the ranking is the first occurrence of each document in the chunk
   * ranking, as `documentRanking` takes it from `topChunks` to any depth. Exhaustive scoring
   * keeps each document's best chunk as it goes; pruned search asks for k chunks and widens
   * only when they hold fewer than k documents.
   */
  topDocuments(query: string, topK: number, scoring: Scoring | "auto" = "auto"): Ranked {
    const terms = this.queryTerms(query);
    const k = Math.max(0, Math.floor(topK));
    const bounds = this.arrays.bounds;
    const method = scoring === "auto" ? this.method(terms, k) : scoring;
    if (bounds === null || method === "exhaustive" || this.stats.postings >= 2 ** 31 - BLOCK_POSTINGS)
      return this.rankDocumentsExhaustive(terms, k);
    const { chunkDoc } = this.arrays;
    for (let want = k; ; want *= 2) {
      const ranked = this.rankPruned(terms, want, bounds);
      const seen = new Set<number>();
      const chunks: number[] = [];
      const scores: number[] = [];
      for (let i = 0; i < ranked.chunks.length && chunks.length < k; i++) {
        const c = ranked.chunks[i] as number;
        const d = chunkDoc[c] as number;
        if (seen.has(d)) continue;
        seen.add(d);
        chunks.push(c);
        scores.push(ranked.scores[i] as number);
      }
      if (chunks.length >= k || ranked.chunks.length < want) return { chunks, scores };
    }
  }

  /** The hits of `topDocuments`: one per document, its best chunk. */
  searchDocuments(query: string, topK: number, scoring: Scoring | "auto" = "auto"): SearchHit[] {
    return this.hits(this.topDocuments(query, topK, scoring));
  }

  private hits({ chunks, scores }: Ranked): SearchHit[] {
    const { chunkDoc, chunkStart, chunkEnd, docIds } = this.arrays;
    return chunks.map((c, i) => ({
      chunk: c,
      docId: docIds[chunkDoc[c] as number] as string,
      start: chunkStart[c] as number,
      end: chunkEnd[c] as number,
      score: Math.round((scores[i] as number) * 1e6) / 1e6,
    }));
  }

  /** Whether chunk a with score sa ranks before chunk b with score sb. */
  private better(a: number, sa: number, b: number, sb: number): boolean {
    if (sa !== sb) return sa > sb;
    const { chunkDoc, chunkStart, docIds } = this.arrays;
    const da = chunkDoc[a] as number;
    const db = chunkDoc[b] as number;
    if (da !== db) return compareStrings(docIds[da] as string, docIds[db] as string) < 0;
    return (chunkStart[a] as number) < (chunkStart[b] as number);
  }

  /** Per-chunk scores and the chunks touched, allocated once and left zeroed after each query. */
  private scratchArrays(): { scores: Float64Array; touched: Uint32Array } {
    const n = this.stats.chunks;
    this.scratch ??= { scores: new Float64Array(n), touched: new Uint32Array(n) };
    return this.scratch;
  }

  /**
   * Adds term t's weighted impacts into the scratch scores, recording each chunk it touches
   * first; returns the new count of touched chunks. Scores start at 0 and impacts are positive,
   * so 0 means untouched.
   */
  private addPostings(t: number, w: number, nTouched: number): number {
    const { scores, touched } = this.scratchArrays();
    const { termOffsets, postChunk, postImpact } = this.arrays;
    let n = nTouched;
    const end = termOffsets[t + 1] as number;
    for (let p = termOffsets[t] as number; p < end; p++) {
      const c = postChunk[p] as number;
      if (scores[c] === 0) touched[n++] = c;
      scores[c] = (scores[c] as number) + w * (postImpact[p] as number);
    }
    return n;
  }

  /** Accumulates every posting of the query's terms; returns how many chunks were touched. */
  private accumulate({ ids, weights }: QueryTerms): number {
    let nTouched = 0;
    for (let i = 0; i < ids.length; i++)
      nTouched = this.addPostings(ids[i] as number, weights[i] as number, nTouched);
    return nTouched;
  }

  /**
   * Scores every posting, then selects the top k of the chunks touched: a chunk below the
   * k-th score so far is rejected by one comparison, the heap and its tie-break see the rest.
   */
  private rankExhaustive(terms: QueryTerms, k: number): Ranked {
    const { scores, touched } = this.scratchArrays();
    const nTouched = this.accumulate(terms);
    const heap = new TopK(k, (a, sa, b, sb) => this.better(a, sa, b, sb));
    let worst = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < nTouched; i++) {
      const c = touched[i] as number;
      const s = scores[c] as number;
      scores[c] = 0;
      if (s < worst) continue;
      if (heap.offer(c, s) && heap.full) worst = heap.worstScore;
    }
    return heap.ranked();
  }

  /**
   * Scores every posting, keeps each document's best chunk (score, then chunk start), then
   * selects the top k documents by those chunks, ranked as chunks are.
   */
  private rankDocumentsExhaustive(terms: QueryTerms, k: number): Ranked {
    const { scores, touched } = this.scratchArrays();
    const nTouched = this.accumulate(terms);
    const { chunkDoc, chunkStart } = this.arrays;
    this.docScratch ??= new Int32Array(this.stats.documents).fill(-1);
    const best = this.docScratch;
    const docs: number[] = [];
    for (let i = 0; i < nTouched; i++) {
      const c = touched[i] as number;
      const d = chunkDoc[c] as number;
      const b = best[d] as number;
      if (b < 0) {
        best[d] = c;
        docs.push(d);
      } else {
        const s = scores[c] as number;
        const sb = scores[b] as number;
        if (s > sb || (s === sb && (chunkStart[c] as number) < (chunkStart[b] as number))) best[d] = c;
      }
    }
    const heap = new TopK(k, (a, sa, b, sb) => this.better(a, sa, b, sb));
    let worst = Number.NEGATIVE_INFINITY;
    for (const d of docs) {
      const c = best[d] as number;
      best[d] = -1;
      const s = scores[c] as number;
      if (s < worst) continue;
      if (heap.offer(c, s) && heap.full) worst = heap.worstScore;
    }
    for (let i = 0; i < nTouched; i++) scores[touched[i] as number] = 0;
    return heap.ranked();
  }

  /** Pruned search (max-score.ts), breaking ties as every search here does. */
  private rankPruned(terms: QueryTerms, k: number, bounds: IndexBounds): Ranked {
    return rankPruned(this.arrays, bounds, terms, k, (a, sa, b, sb) => this.better(a, sa, b, sb));
  }
}
