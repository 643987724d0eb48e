/**
 * The pinned BM25 index of a run, loaded for the checks that need it. The store hands out
 * bytes it has re-hashed and keeps them, so the same bytes are the same verified index: loading
 * an index is most of a verification's cost when one process verifies many runs.
 */
import type { RetrievalProvenance } from "../models/trace.js";
import { deserializeIndex } from "../retrieval/bm25-format.js";
import type { Bm25Index } from "../retrieval/bm25-index.js";
import { fromBm25Params, recordedIndexParams, sameIndexParams } from "../retrieval/index-params.js";

const loadedIndexes = new WeakMap<Uint8Array, Bm25Index>();

/** Parses index bytes once per byte array; throws CanonError (E_INDEX_CORRUPT) on a corrupt index. */
export function loadIndex(bytes: Uint8Array): Bm25Index {
  let index = loadedIndexes.get(bytes);
  if (index === undefined) {
    index = deserializeIndex(bytes);
    loadedIndexes.set(bytes, index);
  }
  return index;
}

/** The index was built with the recorded parameters over the recorded corpus size. */
export function indexAgrees(index: Bm25Index, p: RetrievalProvenance): boolean {
  return (
    sameIndexParams(fromBm25Params(index.params), recordedIndexParams(p)) &&
    index.arrays.analyzer.version === p.analyzer.version &&
    index.stats.documents === p.documents &&
    index.stats.chunks === p.chunks
  );
}
