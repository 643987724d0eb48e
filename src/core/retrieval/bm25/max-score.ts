/**
 * Pruned top-k search over a BM25 index (bm25-index.ts picks it by cost): block-max MaxScore,
 * which returns exactly the ranking scoring every posting returns, with bit-identical scores,
 * while skipping the chunks that cannot reach the top-k.
 */
import {
  BLOCK_SHIFT,
  type IndexArrays,
  type IndexBounds,
  type QueryTerms,
  type Ranked,
} from "./bm25-arrays.js";
import { TopK } from "./top-k.js";

/** Past every chunk id: a cursor at the end of its postings. */
const NO_CHUNK = 2 ** 32;

/**
 * Whether a sum of upper bounds may reach the threshold. The bound was summed in another order
 * than the score it bounds, so it may fall short of that score by a few ulps: the slack keeps
 * the comparison on the safe side, pruning only what is certainly below.
 */
function mayReach(bound: number, threshold: number): boolean {
  return bound * (1 + 1e-9) >= threshold;
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
export function rankPruned(
  arrays: IndexArrays,
  bounds: IndexBounds,
  terms: QueryTerms,
  k: number,
  better: (a: number, sa: number, b: number, sb: number) => boolean,
): Ranked {
  const heap = new TopK(k, better);
  const m = terms.ids.length;
  if (k === 0 || m === 0) return heap.ranked();
  const cursors = new TermCursors(arrays, bounds, terms);
  let threshold = cursors.floor(k);
  let next = 0;
  for (;;) {
    const windowEnd = cursors.openWindow(next);
    if (windowEnd === NO_CHUNK) break;
    cursors.boundWindow(windowEnd);
    let essential = cursors.firstEssential(0, threshold);
    while (essential < m) {
      const doc = cursors.nextCandidate(essential, windowEnd);
      if (doc > windowEnd) break;
      if (!cursors.mayEnter(doc, essential, threshold)) continue;
      if (heap.offer(doc, cursors.score(doc)) && heap.full && heap.worstScore > threshold) {
        threshold = heap.worstScore;
        essential = cursors.firstEssential(essential, threshold);
      }
    }
    next = windowEnd + 1;
  }
  return heap.ranked();
}

/**
 * One cursor per query term over its postings, with the bounds of the current window. Cursor j
 * reads query term j's postings from pos[j] to end[j].
 */
class TermCursors {
  private readonly postChunk: Uint32Array;
  private readonly postImpact: Float32Array;
  private readonly blockMax: Float32Array;
  private readonly m: number;
  private readonly pos: Int32Array;
  private readonly end: Int32Array;
  private readonly w: Float64Array;
  private readonly maxImpact: Float64Array;
  // Per window: each cursor's bound, the cursors by increasing bound, and below[x], what
  // the cursors byBound[0..x) add together at most.
  private readonly windowBound: Float64Array;
  private readonly byBound: Int32Array;
  private readonly below: Float64Array;
  // A chunk's contribution from query term j, valid when seen[j] is that chunk.
  private readonly contrib: Float64Array;
  private readonly seen: Float64Array;
  /** What the essential cursors contribute to the current candidate (nextCandidate). */
  private known = 0;

  constructor(arrays: IndexArrays, bounds: IndexBounds, { ids, weights }: QueryTerms) {
    const { termOffsets } = arrays;
    const { termMax } = bounds;
    this.postChunk = arrays.postChunk;
    this.postImpact = arrays.postImpact;
    this.blockMax = bounds.blockMax;
    const m = ids.length;
    this.m = m;
    this.pos = new Int32Array(m);
    this.end = new Int32Array(m);
    this.w = new Float64Array(m);
    this.maxImpact = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      const t = ids[j] as number;
      this.pos[j] = termOffsets[t] as number;
      this.end[j] = termOffsets[t + 1] as number;
      this.w[j] = weights[j] as number;
      this.maxImpact[j] = termMax[t] as number;
    }
    this.windowBound = new Float64Array(m);
    this.byBound = new Int32Array(m);
    this.below = new Float64Array(m + 1);
    this.contrib = new Float64Array(m);
    this.seen = new Float64Array(m).fill(-1);
  }

  /**
   * Moves every cursor to its first chunk >= next; returns the last chunk of the window that
   * starts there (where the first of the cursors' current blocks ends), or NO_CHUNK when every
   * cursor is at its end.
   */
  openWindow(next: number): number {
    const { pos, end, postChunk } = this;
    let windowEnd = NO_CHUNK;
    for (let j = 0; j < this.m; j++) {
      const e = end[j] as number;
      const p = seek(postChunk, pos[j] as number, e, next);
      pos[j] = p;
      if (p >= e) continue;
      const last = postChunk[Math.min(((p >>> BLOCK_SHIFT) + 1) << BLOCK_SHIFT, e) - 1] as number;
      if (last < windowEnd) windowEnd = last;
    }
    return windowEnd;
  }

  /** Each cursor's bound in the window, the cursors ordered by it, and their running sums. */
  boundWindow(windowEnd: number): void {
    const { pos, end, postChunk, w, maxImpact, blockMax, windowBound, byBound, below, m } = this;
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
  }

  /**
   * The first essential cursor in bound order, from `from` on: cursors byBound[0..result) are
   * non-essential in this window, their bounds together below the threshold.
   */
  firstEssential(from: number, threshold: number): number {
    let essential = from;
    while (essential < this.m && !mayReach(this.below[essential + 1] as number, threshold)) essential++;
    return essential;
  }

  /**
   * The next chunk of the essential cursors (a chunk past the window, or NO_CHUNK, when they
   * hold none in it): those cursors move past it, recording their contributions to it.
   */
  nextCandidate(essential: number, windowEnd: number): number {
    const { pos, end, postChunk, postImpact, w, byBound, contrib, seen, m } = this;
    let doc = NO_CHUNK;
    let known = 0;
    if (essential === m - 1) {
      // One essential cursor, the usual case once the threshold is up: walk its postings.
      const j = byBound[essential] as number;
      const p = pos[j] as number;
      if (p < (end[j] as number)) doc = postChunk[p] as number;
      if (doc > windowEnd) return doc;
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
      if (doc > windowEnd) return doc;
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
    this.known = known;
    return doc;
  }

  /**
   * Whether the candidate may still reach the threshold: its contributions are looked up in the
   * non-essential cursors, largest bound first, until what is known plus what the rest can
   * add at most falls below.
   */
  mayEnter(doc: number, essential: number, threshold: number): boolean {
    let known = this.known;
    if (!mayReach(known + (this.below[essential] as number), threshold)) return false;
    const { pos, end, postChunk, postImpact, w, byBound, below, contrib, seen } = this;
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
      if (!mayReach(known + (below[x] as number), threshold)) return false;
    }
    return true;
  }

  /** The candidate's score, summed in query-term order exactly as exhaustive scoring sums it. */
  score(doc: number): number {
    let score = 0;
    for (let j = 0; j < this.m; j++) if (this.seen[j] === doc) score += this.contrib[j] as number;
    return score;
  }

  /**
   * A floor for the k-th best score: the k-th largest contribution of the term with the
   * largest bound (a chunk's score is at least any one of its contributions), or -Infinity
   * when that term has fewer than k postings. Blocks whose largest impact cannot beat the
   * k-th largest so far are not read.
   */
  floor(k: number): number {
    const { pos, end, w, maxImpact, blockMax, postImpact } = this;
    let best = 0;
    for (let j = 1; j < pos.length; j++)
      if ((w[j] as number) * (maxImpact[j] as number) > (w[best] as number) * (maxImpact[best] as number))
        best = j;
    const start = pos[best] as number;
    const stop = end[best] as number;
    if (stop - start < k) return Number.NEGATIVE_INFINITY;
    const weight = w[best] as number;
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
