/** The fields of spec.json. */
import { type FieldEntry, type FieldPattern, RECOMPUTED_ID, VERSIONED } from "./entries.js";

export const SPEC_FIELDS: Readonly<Record<FieldPattern, FieldEntry>> = {
  // spec.json: the question and constraints are the run's input; the run id covers them.
  "spec.json:version": VERSIONED,
  "spec.json:id": RECOMPUTED_ID,
  "spec.json:description": {
    kind: "plan",
    how: "the question: the plan, the retrieval and the answer follow from it",
  },
  "spec.json:constraints.corpus": {
    kind: "pinned",
    how: "retrieval_provenance: the pinned snapshot the retrieval read",
  },
  ...Object.fromEntries(
    [
      "query",
      "needs_retrieval",
      "top_k",
      "min_supports_per_claim",
      "max_citations",
      "chunk_chars",
      "overlap_chars",
      "bm25_k1",
      "bm25_b",
      "analyzer",
      "index_titles",
      "min_confidence",
      "reasoner",
      "model",
      "base_url",
      "temperature",
    ].map((key) => [
      `spec.json:constraints.${key}`,
      { kind: "plan", how: "plan_dag: the plan made from it is recomputed" },
    ]),
  ),
};
