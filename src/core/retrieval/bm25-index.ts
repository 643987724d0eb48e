/**
 * Okapi BM25 over chunks (docs/design.md §3.3), built for a million chunks: postings live in typed
 * arrays in CSR layout (one offsets array, one chunk array, one impact array), never as an
 * object per term per document. Each posting stores its precomputed BM25 term-frequency
 * factor (its impact), so scoring a posting is one multiply-add. A query does not score every
 * posting: with the upper bounds the index stores (each term's largest impact, and the largest
 * impact of each block of postings) it skips chunks that cannot reach the top-k (MaxScore with
 * block-max bounds), and returns exactly what scoring every posting would. Building is in
 * bm25-build.ts, the binary format in bm25-format.ts.
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

/** log2 of BLOCK_POSTINGS: the block of posting p is p >>> BLOCK_SHIFT. */
const BLOCK_SHIFT = 7;
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
interface QueryTerms {
  ids: number[];
  weights: number[];
}

/**
 * Whether a sum of upper bounds may reach the threshold. The bound was summed in another order
 * than the score it bounds, so it may fall short of that score by a few ulps: the slack keeps
 * the comparison on the safe side, pruning only what is certainly below.
 */
function mayReach(bound: number, threshold: number): boolean {
  return bound * (1 + 1e-9) >= threshold;
}

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

  /**
   * Block-max MaxScore, document at a time over windows of chunk ids (as Lucene's MaxScore
   * scorer works). A window ends where the first of the query terms' current blocks of
   * postings ends, so within it each term's contribution is bounded by its block's largest
   * impact, usually well below the term's overall largest. Once the heap holds k chunks, its
   * k-th score is the threshold (before that, a floor taken from one term's k largest
   * contributions): the terms whose window bounds, smallest first, cannot reach it together
   * are non-essential there, a chunk found only in those cannot enter the top-k, and a window
   * where no term is essential is skipped whole. Chunks of the essential terms are looked up
   * in the non-essential ones (galloping forward, largest bound first) while they still can
   * make it, then scored in query-term order, exactly as exhaustive scoring sums them. A chunk
   * that ties the threshold is kept for the tie-break.
   */
  private rankPruned({ ids, weights }: QueryTerms, k: number, bounds: IndexBounds): Ranked {
    const heap = new TopK(k, (a, sa, b, sb) => this.better(a, sa, b, sb));
    const m = ids.length;
    if (k === 0 || m === 0) return heap.ranked();
    const { termOffsets, postChunk, postImpact } = this.arrays;
    const { termMax, blockMax } = bounds;
    // Cursor j reads query term j's postings from pos[j] to end[j].
    const pos = new Int32Array(m);
    const end = new Int32Array(m);
    const w = new Float64Array(m);
    const maxImpact = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      const t = ids[j] as number;
      pos[j] = termOffsets[t] as number;
      end[j] = termOffsets[t + 1] as number;
      w[j] = weights[j] as number;
      maxImpact[j] = termMax[t] as number;
    }
    // Per window: each cursor's bound, the cursors by increasing bound, and below[x], what
    // the cursors byBound[0..x) add together at most.
    const windowBound = new Float64Array(m);
    const byBound = new Int32Array(m);
    const below = new Float64Array(m + 1);
    // A chunk's contribution from query term j, valid when seen[j] is that chunk.
    const contrib = new Float64Array(m);
    const seen = new Float64Array(m).fill(-1);
    let threshold = this.floor(pos, end, w, maxImpact, k, blockMax);
    let next = 0;
    for (;;) {
      let windowStart = NO_CHUNK;
      let windowEnd = NO_CHUNK;
      for (let j = 0; j < m; j++) {
        const e = end[j] as number;
        const p = seek(postChunk, pos[j] as number, e, next);
        pos[j] = p;
        if (p >= e) continue;
        const c = postChunk[p] as number;
        if (c < windowStart) windowStart = c;
        const last = postChunk[Math.min(((p >>> BLOCK_SHIFT) + 1) << BLOCK_SHIFT, e) - 1] as number;
        if (last < windowEnd) windowEnd = last;
      }
      if (windowStart === NO_CHUNK) break;
      // Every posting of the window lies in its cursor's current block.
      for (let j = 0; j < m; j++) {
        const p = pos[j] as number;
        windowBound[j] =
          p < (end[j] as number) && (postChunk[p] as number) <= windowEnd
            ? (w[j] as number) * Math.min(maxImpact[j] as number, blockMax[p >>> BLOCK_SHIFT] as number)
            : 0;
        // Insertion sort: a query has a handful of terms.
        let x = j;
        while (x > 0 && (windowBound[byBound[x - 1] as number] as number) > (windowBound[j] as number)) {
          byBound[x] = byBound[x - 1] as number;
          x--;
        }
        byBound[x] = j;
      }
      for (let x = 0; x < m; x++)
        below[x + 1] = (below[x] as number) + (windowBound[byBound[x] as number] as number);
      // Cursors byBound[0..essential) are non-essential in this window.
      let essential = 0;
      while (essential < m && !mayReach(below[essential + 1] as number, threshold)) essential++;
      while (essential < m) {
        let doc = NO_CHUNK;
        let known = 0;
        if (essential === m - 1) {
          // One essential cursor, the usual case once the threshold is up: walk its postings.
          const j = byBound[essential] as number;
          const p = pos[j] as number;
          if (p < (end[j] as number)) doc = postChunk[p] as number;
          if (doc > windowEnd) break;
          known = (w[j] as number) * (postImpact[p] as number);
          pos[j] = p + 1;
          contrib[j] = known;
          seen[j] = doc;
        } else {
          for (let x = essential; x < m; x++) {
            const j = byBound[x] as number;
            const p = pos[j] as number;
            if (p < (end[j] as number)) {
              const c = postChunk[p] as number;
              if (c < doc) doc = c;
            }
          }
          if (doc > windowEnd) break;
          for (let x = essential; x < m; x++) {
            const j = byBound[x] as number;
            const p = pos[j] as number;
            if (p < (end[j] as number) && postChunk[p] === doc) {
              const v = (w[j] as number) * (postImpact[p] as number);
              contrib[j] = v;
              seen[j] = doc;
              known += v;
              pos[j] = p + 1;
            }
          }
        }
        if (!mayReach(known + (below[essential] as number), threshold)) continue;
        let dropped = false;
        for (let x = essential - 1; x >= 0; x--) {
          const j = byBound[x] as number;
          const e = end[j] as number;
          const p = seek(postChunk, pos[j] as number, e, doc);
          pos[j] = p;
          if (p < e && postChunk[p] === doc) {
            const v = (w[j] as number) * (postImpact[p] as number);
            contrib[j] = v;
            seen[j] = doc;
            known += v;
          }
          if (!mayReach(known + (below[x] as number), threshold)) {
            dropped = true;
            break;
          }
        }
        if (dropped) continue;
        let score = 0;
        for (let j = 0; j < m; j++) if (seen[j] === doc) score += contrib[j] as number;
        if (heap.offer(doc, score) && heap.full && heap.worstScore > threshold) {
          threshold = heap.worstScore;
          while (essential < m && !mayReach(below[essential + 1] as number, threshold)) essential++;
        }
      }
      next = windowEnd + 1;
    }
    return heap.ranked();
  }

  /**
   * A floor for the k-th best score: the k-th largest contribution of the term with the
   * largest bound (a chunk's score is at least any one of its contributions), or -Infinity
   * when that term has fewer than k postings. Blocks whose largest impact cannot beat the
   * k-th largest so far are not read.
   */
  private floor(
    pos: Int32Array,
    end: Int32Array,
    w: Float64Array,
    maxImpact: Float64Array,
    k: number,
    blockMax: Float32Array,
  ): number {
    let best = 0;
    for (let j = 1; j < pos.length; j++)
      if ((w[j] as number) * (maxImpact[j] as number) > (w[best] as number) * (maxImpact[best] as number))
        best = j;
    const start = pos[best] as number;
    const stop = end[best] as number;
    if (stop - start < k) return Number.NEGATIVE_INFINITY;
    const weight = w[best] as number;
    const { postImpact } = this.arrays;
    // A min-heap of the k largest impacts so far (weights multiply them all alike).
    const least = new Float64Array(k);
    for (let x = 0; x < k; x++) least[x] = postImpact[start + x] as number;
    least.sort();
    let p = start + k;
    while (p < stop) {
      const blockStop = Math.min(((p >>> BLOCK_SHIFT) + 1) << BLOCK_SHIFT, stop);
      if ((blockMax[p >>> BLOCK_SHIFT] as number) > (least[0] as number))
        for (; p < blockStop; p++) {
          const v = postImpact[p] as number;
          if (v > (least[0] as number)) siftDownMin(least, v);
        }
      p = blockStop;
    }
    return weight * (least[0] as number);
  }
}

/** Replaces the smallest of a min-heap with v and restores the heap. */
function siftDownMin(heap: Float64Array, v: number): void {
  const k = heap.length;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= k) break;
    const r = l + 1;
    const child = r < k && (heap[r] as number) < (heap[l] as number) ? r : l;
    if ((heap[child] as number) >= v) break;
    heap[i] = heap[child] as number;
    i = child;
  }
  heap[i] = v;
}

/** Past every chunk id: a cursor at the end of its postings. */
const NO_CHUNK = 2 ** 32;

/**
 * The first position in [from, end) whose chunk is >= c (end when none): galloping from
 * `from`, since a cursor's next chunk is usually near, then a binary search of the last step.
 */
function seek(postChunk: Uint32Array, from: number, end: number, c: number): number {
  if (from >= end || (postChunk[from] as number) >= c) return from;
  let lo = from;
  let step = 1;
  while (lo + step < end && (postChunk[lo + step] as number) < c) {
    lo += step;
    step *= 2;
  }
  // postChunk[lo] < c, and c <= postChunk[lo + step] when that is in range.
  let hi = Math.min(lo + step, end);
  lo++;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((postChunk[mid] as number) < c) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The k best (chunk, score) pairs seen, in a binary heap with the worst on top. */
class TopK {
  private readonly chunks: number[] = [];
  private readonly scores: number[] = [];

  constructor(
    private readonly k: number,
    private readonly better: (a: number, sa: number, b: number, sb: number) => boolean,
  ) {}

  get full(): boolean {
    return this.chunks.length === this.k;
  }

  /** The k-th best score so far (only meaningful when full). */
  get worstScore(): number {
    return this.scores[0] as number;
  }

  /** Keeps the pair if it is among the k best so far; returns whether it was kept. */
  offer(chunk: number, score: number): boolean {
    if (this.k === 0) return false;
    if (this.chunks.length < this.k) {
      this.chunks.push(chunk);
      this.scores.push(score);
      this.siftUp(this.chunks.length - 1);
      return true;
    }
    if (!this.better(chunk, score, this.chunks[0] as number, this.scores[0] as number)) return false;
    this.chunks[0] = chunk;
    this.scores[0] = score;
    this.siftDown(0);
    return true;
  }

  /** Whether entry i ranks before entry j. */
  private before(i: number, j: number): boolean {
    return this.better(
      this.chunks[i] as number,
      this.scores[i] as number,
      this.chunks[j] as number,
      this.scores[j] as number,
    );
  }

  private swap(i: number, j: number): void {
    const c = this.chunks[i] as number;
    const s = this.scores[i] as number;
    this.chunks[i] = this.chunks[j] as number;
    this.scores[i] = this.scores[j] as number;
    this.chunks[j] = c;
    this.scores[j] = s;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(parent, i)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.chunks.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < n && this.before(worst, l)) worst = l;
      if (r < n && this.before(worst, r)) worst = r;
      if (worst === i) return;
      this.swap(i, worst);
      i = worst;
    }
  }

  /** The kept pairs, best first. */
  ranked(): Ranked {
    const order = this.chunks.map((_, i) => i);
    order.sort((i, j) => (this.before(i, j) ? -1 : this.before(j, i) ? 1 : 0));
    return {
      chunks: order.map((i) => this.chunks[i] as number),
      scores: order.map((i) => this.scores[i] as number),
    };
  }
}
