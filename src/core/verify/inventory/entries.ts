/**
 * The vocabulary of the field inventory (../inventory.ts): what kind of establishment a field
 * has, and the entries many fields share, one per check that establishes them.
 */

export type FieldKind = "plan" | "pinned" | "rederived" | "hash" | "label";

export interface FieldEntry {
  kind: FieldKind;
  /** How the field is established, or for a label why it cannot be. */
  how: string;
}

/**
 * A field's pattern: `<file>:<json path>`. Files: a run path, with `*` for the hash in
 * evidence/ and model/ names; trace lines as `trace.jsonl#header`, `trace.jsonl#<event type>`
 * and `trace.jsonl#step_finished/<output type>`. JSON paths: keys joined by ".", `[]` for any
 * array element, `*` for any key of a record (`df`, manifest `files`); `X.**` stands for every
 * field below X. A whole non-JSON file (evidence text) is `<file>:`.
 */
export type FieldPattern = string;

export const PLAN: FieldEntry = {
  kind: "plan",
  how: "plan_dag: plan.json equals a fresh plan from spec.json and the preset",
};
export const RECOMPUTED_ID: FieldEntry = {
  kind: "hash",
  how: "content_ids: recomputed from the object's content",
};
export const LINKS: FieldEntry = {
  kind: "hash",
  how: "an id of a recomputed object, linked by content_ids and trace checks",
};
export const REPORT: FieldEntry = {
  kind: "hash",
  how: "report_recompute: the report this verifier writes when sealing",
};
export const MANIFEST: FieldEntry = { kind: "hash", how: "manifest: recomputed from the files present" };
export const SIGNED: FieldEntry = {
  kind: "hash",
  how: "signature: verified against the root digest with the key",
};
export const RETRIEVED: FieldEntry = {
  kind: "pinned",
  how: "retrieval_recompute: a fresh search of the pinned index (rebuilt from the snapshot)",
};
export const PROVENANCE: FieldEntry = {
  kind: "pinned",
  how: "retrieval_provenance: equals the store objects, the rebuilt index and the plan",
};
export const REDERIVED: FieldEntry = {
  kind: "rederived",
  how: "rederive: the recorded reasoner derives it again",
};
export const JUDGED: FieldEntry = {
  kind: "rederived",
  how: "grounding: the verify step's verdict is recomputed",
};
export const STEP: FieldEntry = { kind: "plan", how: "trace_order: the step follows the recomputed plan" };
export const PROJECTION: FieldEntry = {
  kind: "hash",
  how: "a projection of the trace, recomputed (outcome, retrieval_provenance)",
};
export const EVIDENCE: FieldEntry = {
  kind: "pinned",
  how: "evidence_origin: the registered evidence is the snapshot's bytes at a retrieved hit",
};
export const VERSIONED: FieldEntry = { kind: "plan", how: "schemas: the version this verifier reads" };

/** Fields of a retrieve hit (trace payload) and of the provenance record: the same in every place. */
export function provenanceFields(prefix: string): Record<FieldPattern, FieldEntry> {
  const out: Record<FieldPattern, FieldEntry> = {};
  for (const key of [
    "corpus_snapshot",
    "analyzer.name",
    "k1",
    "b",
    "chunk_chars",
    "overlap_chars",
    "index_titles",
  ])
    out[`${prefix}.${key}`] = PROVENANCE;
  out[`${prefix}.index_hash`] = {
    kind: "pinned",
    how: "retrieval_provenance: the index the recorded parameters build from the snapshot",
  };
  out[`${prefix}.analyzer.version`] = {
    kind: "pinned",
    how: "retrieval_provenance: the index's analyzer version, a combination some release produced",
  };
  out[`${prefix}.documents`] = PROVENANCE;
  out[`${prefix}.chunks`] = PROVENANCE;
  out[`${prefix}.evidence`] = {
    kind: "pinned",
    how: "retrieval_recompute: the evidence mode the recorded hits are recomputed in (retrieve tool 2)",
  };
  for (const key of ["max_bytes", "max_documents", "max_chunks"])
    out[`${prefix}.limits.${key}`] = {
      kind: "label",
      how: "the corpus limit the run was made with: checked to hold for the pinned snapshot and index, not recomputable",
    };
  return out;
}
