/** Whether a run's pinned BM25 index was built with the parameters its provenance records. */
import type { RetrievalProvenance } from "../models/trace.js";
import type { Bm25Index } from "../retrieval/bm25-index.js";
import { indexBuiltWith, recordedIndexParams } from "../retrieval/index-params.js";

/** The index was built with the recorded parameters over the recorded corpus size. */
export function indexAgrees(index: Bm25Index, p: RetrievalProvenance): boolean {
  return (
    indexBuiltWith(index, recordedIndexParams(p), { id: p.analyzer.name, version: p.analyzer.version }) &&
    index.stats.documents === p.documents &&
    index.stats.chunks === p.chunks
  );
}
