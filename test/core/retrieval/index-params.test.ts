import { describe, expect, it } from "vitest";
import type { RetrievalProvenance } from "../../../src/core/models/trace.js";
import { getAnalyzer } from "../../../src/core/retrieval/analyzer.js";
import {
  fromBm25Params,
  INDEX_PARAM_KEYS,
  type IndexParams,
  indexParamsFromProvenance,
  pickIndexParams,
  provenanceIndexFields,
  recordedIndexParams,
  sameIndexParams,
  toBm25Params,
} from "../../../src/core/retrieval/index-params.js";

const PARAMS: IndexParams = {
  analyzer: "english",
  bm25_k1: 1.5,
  bm25_b: 0.5,
  chunk_chars: 600,
  overlap_chars: 100,
  index_titles: false,
};
const PROVENANCE: RetrievalProvenance = {
  corpus_snapshot: "a".repeat(64),
  index_hash: "b".repeat(64),
  ...provenanceIndexFields(PARAMS, getAnalyzer("english")),
  limits: { max_bytes: 1, max_documents: 1, max_chunks: 1 },
  documents: 1,
  chunks: 1,
};

describe("IndexParams conversions", () => {
  it("round-trip through Bm25Params and the provenance shape", () => {
    expect(toBm25Params(PARAMS)).toEqual({
      k1: 1.5,
      b: 0.5,
      chunkChars: 600,
      overlapChars: 100,
      analyzer: "english",
      titles: false,
    });
    expect(fromBm25Params(toBm25Params(PARAMS))).toEqual(PARAMS);
    expect(PROVENANCE).toMatchObject({ analyzer: { name: "english", version: "1" }, k1: 1.5, b: 0.5 });
    expect(indexParamsFromProvenance(PROVENANCE)).toEqual(PARAMS);
    expect(sameIndexParams(recordedIndexParams(PROVENANCE), PARAMS)).toBe(true);
  });

  it("pick the index parameters in their recorded key order", () => {
    expect(Object.keys(pickIndexParams({ ...PARAMS, top_k: 3 } as IndexParams))).toEqual([
      ...INDEX_PARAM_KEYS,
    ]);
  });

  it("tell apart any one differing parameter", () => {
    for (const key of INDEX_PARAM_KEYS) {
      const other = { ...recordedIndexParams(PROVENANCE), [key]: key === "analyzer" ? "simple" : 7 };
      expect(sameIndexParams(other, PARAMS), key).toBe(false);
    }
  });

  it("refuse to rebuild with an analyzer this build does not have", () => {
    const foreign = { ...PROVENANCE, analyzer: { name: "klingon", version: "1" } };
    expect(recordedIndexParams(foreign).analyzer).toBe("klingon");
    expect(() => indexParamsFromProvenance(foreign)).toThrow(
      expect.objectContaining({ code: "E_UNKNOWN_ANALYZER" }),
    );
  });
});
