/**
 * The consistency an index read from bytes must have before it is searched: every count, offset
 * and id in bounds, and for formats 2 and 3 the positive impacts and exact bounds pruning relies on.
 */
import { BLOCK_POSTINGS, compareStrings, type IndexArrays } from "./bm25-arrays.js";
import { CorruptIndexError } from "./bm25-layout.js";

/**
 * Every count agrees with its array, and every offset and id search follows stays in bounds.
 * Format 2 also promises what pruning relies on: the parameters keep every impact positive
 * (k1 >= 0, 0 <= b <= 1), every impact is, and each stored bound is exactly the maximum it
 * names; a bound too low would silently drop a chunk from the top-k.
 */
export function checkConsistency(a: IndexArrays, postingsChecked = false): void {
  const { chunks, documents, postings, terms } = a.stats;
  const fail = (what: string) => {
    throw new CorruptIndexError(what);
  };
  if (a.terms.length !== terms) fail(`${a.terms.length} terms, the header says ${terms}`);
  if (a.docIds.length !== documents) fail(`${a.docIds.length} doc ids, the header says ${documents}`);
  if (a.termOffsets.length !== terms + 1) fail("termOffsets does not hold one offset per term plus one");
  if (a.postChunk.length !== postings || a.postImpact.length !== postings)
    fail(`postings sections disagree with the header's ${postings} postings`);
  if (a.chunkDoc.length !== chunks || a.chunkStart.length !== chunks || a.chunkEnd.length !== chunks)
    fail(`chunk sections disagree with the header's ${chunks} chunks`);
  // Sorted and unique: a term's id is its position, and search looks terms up by value.
  for (let t = 1; t < a.terms.length; t++)
    if (compareStrings(a.terms[t - 1] as string, a.terms[t] as string) >= 0)
      fail("terms are not sorted and unique");
  if (new Set(a.docIds).size !== a.docIds.length) fail("duplicate doc ids");
  if (a.termOffsets[0] !== 0 || a.termOffsets[terms] !== postings)
    fail("termOffsets do not span the postings");
  const bounded = a.bounds !== null;
  if (bounded) {
    const { k1, b } = a.params;
    if (!(k1 >= 0 && b >= 0 && b <= 1)) fail(`k1 ${k1} and b ${b} do not keep impacts positive`);
  }
  const { termOffsets, postChunk, postImpact, bounds } = a;
  const blocks = Math.ceil(postings / BLOCK_POSTINGS);
  if (bounds !== null && (bounds.termMax.length !== terms || bounds.blockMax.length !== blocks))
    fail("the bounds sections do not hold one bound per term and per block");
  // Format 1 only promises finite impacts; format 2 positive ones, which its bounds rely on.
  // Format 3's postings were checked as they were unpacked, and its impacts and bounds computed.
  const above = bounded ? 0 : Number.NEGATIVE_INFINITY;
  for (let t = 0; t < terms && !postingsChecked; t++) {
    const start = termOffsets[t] as number;
    const end = termOffsets[t + 1] as number;
    if (end < start) fail("termOffsets are not monotone");
    const bad = firstBadPosting(postChunk, postImpact, start, end, chunks, above);
    if (bad >= 0) {
      const c = postChunk[bad] as number;
      const previous = bad > start ? (postChunk[bad - 1] as number) : -1;
      fail(
        c <= previous || c >= chunks
          ? `posting ${bad} names chunk ${c}`
          : `posting ${bad} has impact ${postImpact[bad]}`,
      );
    }
    if (bounds !== null && largestImpact(postImpact, start, end) !== bounds.termMax[t])
      fail(`term ${t}'s bound is not its largest impact`);
  }
  // Each block's bound is the largest impact among its postings, whichever terms they belong to.
  if (bounds !== null && !postingsChecked)
    for (let i = 0; i < blocks; i++) {
      const from = i * BLOCK_POSTINGS;
      if (largestImpact(postImpact, from, Math.min(postings, from + BLOCK_POSTINGS)) !== bounds.blockMax[i])
        fail(`block ${i}'s bound is not its largest impact`);
    }
  for (let c = 0; c < chunks; c++) {
    if ((a.chunkDoc[c] as number) >= documents) fail(`chunk ${c} names document ${a.chunkDoc[c]}`);
    if ((a.chunkStart[c] as number) > (a.chunkEnd[c] as number)) fail(`chunk ${c} ends before it starts`);
  }
}

/*
 * The postings loops are small functions of their own, called once per term and per block, so
 * V8 optimizes them after a few hundred calls. A command loads an index once: the same loop
 * inlined in checkConsistency runs mostly unoptimized, about 4x slower on SciFact's 735k postings.
 */

/**
 * The first posting of [start, end) that is out of order (a term's postings name distinct chunks
 * in increasing order), names no chunk, or has an impact that is not finite and above `above`;
 * -1 when there is none.
 */
function firstBadPosting(
  postChunk: Uint32Array,
  postImpact: Float32Array,
  start: number,
  end: number,
  chunks: number,
  above: number,
): number {
  let previous = -1;
  for (let p = start; p < end; p++) {
    const c = postChunk[p] as number;
    const v = postImpact[p] as number;
    if (c <= previous || c >= chunks || !(v > above && v < Number.POSITIVE_INFINITY)) return p;
    previous = c;
  }
  return -1;
}

/** The largest impact in [from, to); 0 when it is empty (format 2's impacts are positive). */
export function largestImpact(postImpact: Float32Array, from: number, to: number): number {
  let max = 0;
  for (let p = from; p < to; p++) {
    const v = postImpact[p] as number;
    if (v > max) max = v;
  }
  return max;
}
