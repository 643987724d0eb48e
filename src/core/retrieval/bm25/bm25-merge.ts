/**
 * Joins shards (bm25-collect.ts), in document order, into an index with the same bytes however
 * the documents were cut. The merge is planned from the shards' summaries alone: the sorted
 * union of their terms, each term's postings in all (its output range), the average chunk
 * length, and for each shard the output slot of each of its terms' first posting (after the
 * same term's postings in earlier shards). Each shard then writes its own postings straight
 * into the output arrays, chunk ids and BM25 impacts, in its chunk order: a counting sort whose
 * buckets are known in advance, so shards can do it side by side in worker threads over shared
 * memory, and within a term the postings stay in chunk order whoever wrote them.
 */
import { CanonError } from "../../errors.js";
import type { ShardPostings, ShardSummary } from "./bm25-collect.js";
import { Bm25Index, type Bm25Params, computeBounds, impactOf, lengthNorm } from "./bm25-index.js";
import { frequencyOf, releaseBlock } from "./postings-blocks.js";

export interface MergePlan {
  terms: string[];
  /** Term t's postings are [termOffsets[t], termOffsets[t + 1]) of the output. */
  termOffsets: Uint32Array;
  /** Per shard: the output slot of each shard term's first posting. */
  slots: Uint32Array[];
  /** Per shard: the index-wide id of its first chunk. */
  chunkBase: number[];
  avgLen: number;
  chunks: number;
  postings: number;
}

/** The sorted union of the shards' sorted terms, and each shard's map from its term ids to the union's. */
function mergeTerms(shards: readonly ShardSummary[]): { terms: string[]; remaps: Uint32Array[] } {
  if (shards.length === 1) {
    const only = (shards[0] as ShardSummary).terms;
    return { terms: only, remaps: [Uint32Array.from(only, (_, i) => i)] };
  }
  const terms: string[] = [];
  const remaps = shards.map((s) => new Uint32Array(s.terms.length));
  const at = new Array<number>(shards.length).fill(0);
  for (;;) {
    let least: string | undefined;
    for (let s = 0; s < shards.length; s++) {
      const term = (shards[s] as ShardSummary).terms[at[s] as number];
      if (term !== undefined && (least === undefined || term < least)) least = term;
    }
    if (least === undefined) break;
    for (let s = 0; s < shards.length; s++) {
      const shard = shards[s] as ShardSummary;
      const i = at[s] as number;
      if (shard.terms[i] === least) {
        (remaps[s] as Uint32Array)[i] = terms.length;
        at[s] = i + 1;
      }
    }
    terms.push(least);
  }
  return { terms, remaps };
}

/** Where every shard's postings go; nothing is written yet. */
export function planMerge(shards: readonly ShardSummary[]): MergePlan {
  const { terms, remaps } = mergeTerms(shards);
  const termOffsets = new Uint32Array(terms.length + 1);
  const chunkBase: number[] = [];
  let chunks = 0;
  let totalLen = 0;
  shards.forEach((s, i) => {
    const remap = remaps[i] as Uint32Array;
    for (let t = 0; t < remap.length; t++) {
      const g = (remap[t] as number) + 1;
      termOffsets[g] = (termOffsets[g] as number) + (s.termPostings[t] as number);
    }
    chunkBase.push(chunks);
    chunks += s.chunkLen.length;
    totalLen += s.totalLen;
  });
  for (let t = 0; t < terms.length; t++)
    termOffsets[t + 1] = (termOffsets[t + 1] as number) + (termOffsets[t] as number);
  const cursor = termOffsets.slice(0, terms.length);
  const slots = shards.map((s, i) => {
    const remap = remaps[i] as Uint32Array;
    const first = new Uint32Array(remap.length);
    for (let t = 0; t < remap.length; t++) {
      const g = remap[t] as number;
      first[t] = cursor[g] as number;
      cursor[g] = (cursor[g] as number) + (s.termPostings[t] as number);
    }
    return first;
  });
  return {
    terms,
    termOffsets,
    slots,
    chunkBase,
    avgLen: chunks === 0 ? 0 : totalLen / chunks,
    chunks,
    postings: termOffsets[terms.length] as number,
  };
}

/** What one shard needs to write its postings: its part of the plan and the output arrays. */
export interface ScatterTarget {
  /** The output slot of each shard term's next posting; advanced as postings are written. */
  slots: Uint32Array;
  chunkBase: number;
  avgLen: number;
  postChunk: Uint32Array;
  postImpact: Float32Array;
}

/** Shard `i`'s target in `plan`, writing into the shared output arrays. */
export function scatterTarget(
  plan: MergePlan,
  i: number,
  output: { postChunk: Uint32Array; postImpact: Float32Array },
): ScatterTarget {
  return {
    slots: plan.slots[i] as Uint32Array,
    chunkBase: plan.chunkBase[i] as number,
    avgLen: plan.avgLen,
    ...output,
  };
}

/**
 * Writes a shard's postings into the output: each posting's index-wide chunk id and its impact,
 * BM25's term-frequency factor f * (k1 + 1) / (f + k1 * (1 - b + b * len / avgLen)). It
 * consumes the shard's postings: their blocks are emptied as they are written.
 */
export function scatterPostings(
  postings: ShardPostings,
  chunkLen: Uint32Array,
  { k1, b }: Pick<Bm25Params, "k1" | "b">,
  target: ScatterTarget,
): void {
  const { slots, chunkBase, avgLen, postChunk, postImpact } = target;
  const { chunkPostEnd, termBlocks, tfBlocks } = postings;
  let p = 0;
  let block = -1;
  let terms: Uint32Array = new Uint32Array(0);
  let tfs: Uint16Array = new Uint16Array(0);
  let i = 0;
  let blockLength = 0;
  for (let c = 0; c < chunkPostEnd.length; c++) {
    const end = chunkPostEnd[c] as number;
    const norm = lengthNorm(k1, b, chunkLen[c] as number, avgLen);
    const chunk = chunkBase + c;
    for (; p < end; p++, i++) {
      if (i === blockLength) {
        // A block written is freed at once: the postings left shrink as the output fills.
        if (block >= 0) releaseBlock(postings, block);
        block++;
        terms = termBlocks[block] as Uint32Array;
        tfs = tfBlocks[block] as Uint16Array;
        blockLength = terms.length;
        i = 0;
      }
      const t = terms[i] as number;
      const slot = slots[t] as number;
      slots[t] = slot + 1;
      postChunk[slot] = chunk;
      postImpact[slot] = impactOf(frequencyOf(postings, p, tfs[i] as number), k1, norm);
    }
  }
  if (block >= 0) releaseBlock(postings, block);
}

/** Refuses a doc id that two shards share (each shard has refused its own repeats). */
export function checkDistinctDocIds(shards: readonly { docIds: readonly string[] }[]): void {
  if (shards.length < 2) return;
  const seen = new Set<string>();
  for (const s of shards)
    for (const id of s.docIds) {
      if (seen.has(id)) throw new CanonError("E_CORPUS_DUPLICATE", `duplicate doc_id ${JSON.stringify(id)}`);
      seen.add(id);
    }
}

/** The index of shards whose postings are in postChunk and postImpact as `plan` laid them out. */
export function assembleIndex(
  shards: readonly ShardSummary[],
  plan: MergePlan,
  params: Bm25Params,
  analyzer: { id: string; version: string },
  postChunk: Uint32Array,
  postImpact: Float32Array,
): Bm25Index {
  const one = shards.length === 1 ? (shards[0] as ShardSummary) : null;
  const concat = (pick: (s: ShardSummary) => Uint32Array): Uint32Array => {
    if (one !== null) return pick(one);
    const out = new Uint32Array(plan.chunks);
    shards.forEach((s, i) => {
      out.set(pick(s), plan.chunkBase[i]);
    });
    return out;
  };
  const chunkDoc = concat((s) => s.chunkDoc);
  if (one === null) {
    // Shard chunk documents are positions in the shard's own docIds.
    let c = 0;
    let doc = 0;
    for (const s of shards) {
      for (let end = c + s.chunkDoc.length; c < end; c++) chunkDoc[c] = (chunkDoc[c] as number) + doc;
      doc += s.docIds.length;
    }
  }
  const docIds = one?.docIds ?? shards.flatMap((s) => s.docIds);
  return new Bm25Index({
    params: { ...params },
    stats: {
      documents: docIds.length,
      chunks: plan.chunks,
      terms: plan.terms.length,
      postings: plan.postings,
      avgChunkLen: plan.avgLen,
      textBytes: shards.reduce((n, s) => n + s.textBytes, 0),
    },
    analyzer,
    terms: plan.terms,
    docIds,
    termOffsets: plan.termOffsets,
    postChunk,
    postImpact,
    bounds: computeBounds(plan.termOffsets, postImpact),
    chunkDoc,
    chunkStart: concat((s) => s.chunkStart),
    chunkEnd: concat((s) => s.chunkEnd),
    chunkLen: concat((s) => s.chunkLen),
  });
}
