/**
 * The parameters that define a BM25 index, in one type with its conversions. A spec's
 * constraints, the plan and the index cache key hold them as `IndexParams` (snake_case); the
 * index builder takes `Bm25Params`; the retrieve tool records them inside its provenance
 * (`k1`, `b`, `analyzer: {name, version}`). Every mapping between those shapes is here.
 */
import type { RetrievalProvenance } from "../models/trace.js";
import { type Analyzer, getAnalyzer } from "./analyzer.js";
import type { Bm25Index, Bm25Params } from "./bm25/bm25-index.js";

export interface IndexParams {
  analyzer: Analyzer["name"];
  bm25_k1: number;
  bm25_b: number;
  chunk_chars: number;
  overlap_chars: number;
  index_titles: boolean;
}

/** The keys of IndexParams, in the order runs record them. */
export const INDEX_PARAM_KEYS = [
  "analyzer",
  "bm25_k1",
  "bm25_b",
  "chunk_chars",
  "overlap_chars",
  "index_titles",
] as const satisfies ReadonlyArray<keyof IndexParams>;

/**
 * Index parameters as a run records them: the analyzer is whatever name the run claims, which
 * this build may not know; compare with it, do not build with it.
 */
export type RecordedIndexParams = Omit<IndexParams, "analyzer"> & { analyzer: string };

/** The index parameters among a larger set (resolved run parameters), in their recorded order. */
export function pickIndexParams(p: IndexParams): IndexParams {
  return {
    analyzer: p.analyzer,
    bm25_k1: p.bm25_k1,
    bm25_b: p.bm25_b,
    chunk_chars: p.chunk_chars,
    overlap_chars: p.overlap_chars,
    index_titles: p.index_titles,
  };
}

export function toBm25Params(p: IndexParams): Bm25Params {
  return {
    k1: p.bm25_k1,
    b: p.bm25_b,
    chunkChars: p.chunk_chars,
    overlapChars: p.overlap_chars,
    analyzer: p.analyzer,
    titles: p.index_titles,
  };
}

export function fromBm25Params(p: Bm25Params): IndexParams {
  return {
    analyzer: p.analyzer,
    bm25_k1: p.k1,
    bm25_b: p.b,
    chunk_chars: p.chunkChars,
    overlap_chars: p.overlapChars,
    index_titles: p.titles,
  };
}

/** The index parameters a retrieval provenance records. */
/** The provenance fields that name how an index was built (provenanceIndexFields writes them). */
export type ProvenanceIndexFields = Pick<
  RetrievalProvenance,
  "analyzer" | "k1" | "b" | "chunk_chars" | "overlap_chars" | "index_titles"
>;

export function recordedIndexParams(p: ProvenanceIndexFields): RecordedIndexParams {
  return {
    analyzer: p.analyzer.name,
    bm25_k1: p.k1,
    bm25_b: p.b,
    chunk_chars: p.chunk_chars,
    overlap_chars: p.overlap_chars,
    index_titles: p.index_titles,
  };
}

/** The recorded parameters to rebuild with; throws UnknownAnalyzerError for an analyzer this build lacks. */
export function indexParamsFromProvenance(p: RetrievalProvenance): IndexParams {
  return { ...recordedIndexParams(p), analyzer: getAnalyzer(p.analyzer.name).name };
}

/** The provenance fields that record the index parameters, with the analyzer's version. */
export function provenanceIndexFields(p: IndexParams, analyzer: Analyzer): ProvenanceIndexFields {
  return {
    analyzer: { name: analyzer.id, version: analyzer.version },
    k1: p.bm25_k1,
    b: p.bm25_b,
    chunk_chars: p.chunk_chars,
    overlap_chars: p.overlap_chars,
    index_titles: p.index_titles,
  };
}

/** The same parameters, field by field (both sides in the snake_case shape). */
export function sameIndexParams(a: RecordedIndexParams, b: RecordedIndexParams): boolean {
  return INDEX_PARAM_KEYS.every((key) => a[key] === b[key]);
}

/** The index was built with exactly these parameters and this analyzer (id and version). */
export function indexBuiltWith(
  index: Bm25Index,
  params: RecordedIndexParams,
  analyzer: { id: string; version: string },
): boolean {
  return (
    sameIndexParams(fromBm25Params(index.params), params) &&
    index.arrays.analyzer.id === analyzer.id &&
    index.arrays.analyzer.version === analyzer.version
  );
}
