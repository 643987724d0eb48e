/**
 * Builds a Bm25Index from documents in two steps: collect each chunk's postings, shard by shard
 * (bm25-collect.ts: a shard is a run of consecutive documents, its terms numbered in sorted
 * order), then merge (bm25-merge.ts): plan where every posting goes from the shards' summaries
 * and let each shard write its postings, chunk ids and BM25 impacts, into the term-major CSR
 * arrays. The bytes depend only on the documents, not on how they were cut into shards, so
 * worker threads (io/index-cache/index-build-pool.ts) can collect and write shards side by side.
 */
import { InputError } from "../../errors.js";
import { getAnalyzer } from "../analyzer.js";
import { validateChunkOptions } from "../chunker.js";
import { collectDocuments, type IndexDocument, type IndexShard } from "./bm25-collect.js";
import type { Bm25Index, Bm25Params } from "./bm25-index.js";
import {
  assembleIndex,
  checkDistinctDocIds,
  planMerge,
  scatterPostings,
  scatterTarget,
} from "./bm25-merge.js";

export type { IndexDocument, IndexShard, ShardPostings, ShardSummary } from "./bm25-collect.js";
export {
  assembleIndex,
  checkDistinctDocIds,
  type MergePlan,
  planMerge,
  type ScatterTarget,
  scatterPostings,
  scatterTarget,
} from "./bm25-merge.js";

/**
 * BM25's own ranges: k1 >= 0 and 0 <= b <= 1 keep every impact positive, which the pruned
 * search and the index format rely on.
 */
export function validateBm25Params({ k1, b }: Pick<Bm25Params, "k1" | "b">): void {
  if (!(Number.isFinite(k1) && k1 >= 0))
    throw new InputError("E_USAGE", `BM25 k1 must be a number >= 0 (got ${k1})`, { field: "bm25_k1" });
  if (!(Number.isFinite(b) && b >= 0 && b <= 1))
    throw new InputError("E_USAGE", `BM25 b must be between 0 and 1 (got ${b})`, { field: "bm25_b" });
}

/** Tokenizes and chunks `docs` into a shard. */
export function collectShard(
  docs: Iterable<IndexDocument>,
  params: Bm25Params,
  onProgress?: (bytesDone: number) => void,
): IndexShard {
  validateChunkOptions(params);
  validateBm25Params(params);
  return collectDocuments(docs, params, onProgress);
}

/** Joins shards, in document order, into an index, in this thread. */
export function mergeShards(shards: readonly IndexShard[], params: Bm25Params): Bm25Index {
  validateChunkOptions(params);
  validateBm25Params(params);
  checkDistinctDocIds(shards);
  const analyzer = getAnalyzer(params.analyzer);
  const plan = planMerge(shards);
  const postChunk = new Uint32Array(plan.postings);
  const postImpact = new Float32Array(plan.postings);
  shards.forEach((s, i) => {
    scatterPostings(s.postings, s.chunkLen, params, scatterTarget(plan, i, { postChunk, postImpact }));
  });
  return assembleIndex(
    shards,
    plan,
    params,
    { id: analyzer.id, version: analyzer.version },
    postChunk,
    postImpact,
  );
}

/** Builds an index in this thread: one shard. io/index-cache/index-build-pool.ts splits a build across threads. */
export function buildIndex(
  docs: Iterable<IndexDocument>,
  params: Bm25Params,
  onProgress?: (bytesDone: number) => void,
): Bm25Index {
  return mergeShards([collectShard(docs, params, onProgress)], params);
}
