/**
 * The field inventory (issue 19 item 1): for every file a run can contain and every field in
 * it, how the verifier establishes it. A field is one of:
 *
 * - `plan`: recomputed from spec.json and the preset (plan_dag recomputes the plan);
 * - `pinned`: recomputed from the pinned inputs, snapshot -> index -> retrieval -> evidence
 *   (retrieval_provenance, retrieval_recompute, evidence_origin, evidence_files);
 * - `rederived`: re-derived by the recorded reasoner from the recorded evidence (rederive,
 *   grounding, outcome); for the llm reasoner from the recording, whose request and endpoint
 *   must be the ones the plan makes;
 * - `hash`: an id, digest or projection of something recomputed (content_ids, manifest,
 *   report_recompute, outcome's answer view, the provenance projections);
 * - `label`: recorded, not verified: no check can establish it. Labels are few; `inspect`
 *   and the report page show them as "recorded, not verified".
 *
 * test/core/verify/inventory.test.ts walks every field of runs of every kind, fails on a
 * field without an entry here, and forges each non-label field (re-sealing the run the way the
 * producer does): `verify` must fail every one.
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

/** JSON objects whose keys are data, not field names. */
export const RECORD_FIELDS: ReadonlySet<string> = new Set([
  "manifest.json:files",
  "trace.jsonl#tool_returned:result.payload.term_stats.df",
]);

const PLAN: FieldEntry = {
  kind: "plan",
  how: "plan_dag: plan.json equals a fresh plan from spec.json and the preset",
};
const RECOMPUTED_ID: FieldEntry = { kind: "hash", how: "content_ids: recomputed from the object's content" };
const LINKS: FieldEntry = {
  kind: "hash",
  how: "an id of a recomputed object, linked by content_ids and trace checks",
};
const REPORT: FieldEntry = {
  kind: "hash",
  how: "report_recompute: the report this verifier writes when sealing",
};
const MANIFEST: FieldEntry = { kind: "hash", how: "manifest: recomputed from the files present" };
const SIGNED: FieldEntry = { kind: "hash", how: "signature: verified against the root digest with the key" };
const RETRIEVED: FieldEntry = {
  kind: "pinned",
  how: "retrieval_recompute: a fresh search of the pinned index (rebuilt from the snapshot)",
};
const PROVENANCE: FieldEntry = {
  kind: "pinned",
  how: "retrieval_provenance: equals the store objects, the rebuilt index and the plan",
};
const REDERIVED: FieldEntry = { kind: "rederived", how: "rederive: the recorded reasoner derives it again" };
const JUDGED: FieldEntry = { kind: "rederived", how: "grounding: the verify step's verdict is recomputed" };
const STEP: FieldEntry = { kind: "plan", how: "trace_order: the step follows the recomputed plan" };
const PROJECTION: FieldEntry = {
  kind: "hash",
  how: "a projection of the trace, recomputed (outcome, retrieval_provenance)",
};
const EVIDENCE: FieldEntry = {
  kind: "pinned",
  how: "evidence_origin: the registered evidence is the snapshot's bytes at a retrieved hit",
};
const VERSIONED: FieldEntry = { kind: "plan", how: "schemas: the version this verifier reads" };

/** Fields of a retrieve hit (trace payload) and of the provenance record: the same in every place. */
function provenanceFields(prefix: string): Record<FieldPattern, FieldEntry> {
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

const HIT = "trace.jsonl#tool_returned:result.payload.hits[]";

export const FIELD_INVENTORY: Readonly<Record<FieldPattern, FieldEntry>> = {
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

  // plan.json
  "plan.json:version": VERSIONED,
  "plan.json:id": RECOMPUTED_ID,
  "plan.json:spec_id": LINKS,
  "plan.json:preset": PLAN,
  "plan.json:nodes[].id": RECOMPUTED_ID,
  "plan.json:nodes[].kind": PLAN,
  "plan.json:nodes[].deps[]": PLAN,
  "plan.json:nodes[].deps": PLAN,
  "plan.json:nodes[].params.question": PLAN,
  "plan.json:nodes[].params.query": PLAN,
  "plan.json:nodes[].params.top_k": PLAN,
  "plan.json:nodes[].params.analyzer": PLAN,
  "plan.json:nodes[].params.bm25_k1": PLAN,
  "plan.json:nodes[].params.bm25_b": PLAN,
  "plan.json:nodes[].params.chunk_chars": PLAN,
  "plan.json:nodes[].params.overlap_chars": PLAN,
  "plan.json:nodes[].params.index_titles": PLAN,
  "plan.json:nodes[].params.reasoner": PLAN,
  "plan.json:nodes[].params.model": PLAN,
  "plan.json:nodes[].params.base_url": PLAN,
  "plan.json:nodes[].params.temperature": PLAN,
  "plan.json:nodes[].params.min_supports_per_claim": PLAN,
  "plan.json:nodes[].params.max_citations": PLAN,
  "plan.json:nodes[].params.min_confidence": PLAN,
  "plan.json:nodes[].params": PLAN,
  "plan.json:nodes[].tool_requests": PLAN,
  "plan.json:nodes[].tool_requests[].tool": PLAN,
  "plan.json:nodes[].tool_requests[].args.query": PLAN,
  "plan.json:nodes[].tool_requests[].args.top_k": PLAN,
  "plan.json:nodes[].tool_requests[].args.analyzer": PLAN,
  "plan.json:nodes[].tool_requests[].args.bm25_k1": PLAN,
  "plan.json:nodes[].tool_requests[].args.bm25_b": PLAN,
  "plan.json:nodes[].tool_requests[].args.chunk_chars": PLAN,
  "plan.json:nodes[].tool_requests[].args.overlap_chars": PLAN,
  "plan.json:nodes[].tool_requests[].args.index_titles": PLAN,

  // run.json
  "run.json:version": VERSIONED,
  "run.json:run_id": RECOMPUTED_ID,
  "run.json:trace_id": RECOMPUTED_ID,
  "run.json:inputs.spec_id": LINKS,
  "run.json:inputs.plan_id": LINKS,
  "run.json:inputs.preset": PLAN,
  "run.json:inputs.seed": {
    kind: "label",
    how: "the run's seed: the extractive reasoner does not use it (the llm reasoner's recorded request must carry it)",
  },
  "run.json:inputs.producer.name": {
    kind: "label",
    how: "who says they made the run: a name, not a computation",
  },
  "run.json:inputs.producer.version": {
    kind: "label",
    how: "the producing build's version: a name, not a computation",
  },
  "run.json:inputs.schema_versions.spec": VERSIONED,
  "run.json:inputs.schema_versions.plan": VERSIONED,
  "run.json:inputs.schema_versions.trace": VERSIONED,
  "run.json:inputs.schema_versions.run": VERSIONED,
  "run.json:inputs.schema_versions.report": VERSIONED,
  "run.json:inputs.schema_versions.manifest": VERSIONED,
  "run.json:inputs.runtime.reasoner.id": {
    kind: "rederived",
    how: "rederive: the reasoner the plan names, re-run; a combination some release produced",
  },
  "run.json:inputs.runtime.reasoner.version": {
    kind: "rederived",
    how: "rederive: this version re-derives the claims; a combination some release produced",
  },
  "run.json:inputs.runtime.tools": PROVENANCE,
  "run.json:inputs.runtime.tools[].name": PROVENANCE,
  "run.json:inputs.runtime.tools[].version": {
    kind: "pinned",
    how: "retrieval_provenance: follows from the recorded evidence mode; a released combination",
  },
  "run.json:inputs.runtime.tools[].fingerprint": {
    kind: "hash",
    how: "retrieval_provenance: sha256 of the config",
  },
  ...provenanceFields("run.json:inputs.runtime.tools[].config"),

  // trace.jsonl
  "trace.jsonl#header:type": VERSIONED,
  "trace.jsonl#header:trace_version": VERSIONED,
  "trace.jsonl#header:run_id": LINKS,
  "trace.jsonl#header:spec_id": LINKS,
  "trace.jsonl#header:plan_id": LINKS,
  "trace.jsonl#header:producer.name": { kind: "label", how: "equal to run.json's producer, itself a label" },
  "trace.jsonl#header:producer.version": {
    kind: "label",
    how: "equal to run.json's producer, itself a label",
  },
  ...Object.fromEntries(
    ["step_started", "tool_called", "tool_returned", "evidence_registered", "claim_emitted"].flatMap((t) => [
      [`trace.jsonl#${t}:idx`, STEP],
      [`trace.jsonl#${t}:node_id`, STEP],
      [`trace.jsonl#${t}:type`, STEP],
    ]),
  ),
  "trace.jsonl#step_started:kind": STEP,
  "trace.jsonl#tool_called:call.id": RECOMPUTED_ID,
  "trace.jsonl#tool_called:call.tool": PLAN,
  "trace.jsonl#tool_called:call.node_id": PLAN,
  "trace.jsonl#tool_called:call.index": PLAN,
  "trace.jsonl#tool_called:call.args.query": PLAN,
  "trace.jsonl#tool_called:call.args.top_k": PLAN,
  "trace.jsonl#tool_called:call.args.analyzer": PLAN,
  "trace.jsonl#tool_called:call.args.bm25_k1": PLAN,
  "trace.jsonl#tool_called:call.args.bm25_b": PLAN,
  "trace.jsonl#tool_called:call.args.chunk_chars": PLAN,
  "trace.jsonl#tool_called:call.args.overlap_chars": PLAN,
  "trace.jsonl#tool_called:call.args.index_titles": PLAN,
  "trace.jsonl#tool_returned:result.call_id": LINKS,
  "trace.jsonl#tool_returned:result.ok": RETRIEVED,
  "trace.jsonl#tool_returned:result.payload.query": PLAN,
  "trace.jsonl#tool_returned:result.payload.top_k": PLAN,
  "trace.jsonl#tool_returned:result.payload.hits": RETRIEVED,
  [`${HIT}.rank`]: RETRIEVED,
  [`${HIT}.doc_id`]: RETRIEVED,
  [`${HIT}.chunk_id`]: RETRIEVED,
  [`${HIT}.span[]`]: RETRIEVED,
  [`${HIT}.score`]: RETRIEVED,
  [`${HIT}.text`]: RETRIEVED,
  [`${HIT}.chunk.id`]: RETRIEVED,
  [`${HIT}.chunk.span[]`]: RETRIEVED,
  [`${HIT}.title.text`]: RETRIEVED,
  [`${HIT}.title.span[]`]: RETRIEVED,
  "trace.jsonl#tool_returned:result.payload.term_stats.chunks": RETRIEVED,
  "trace.jsonl#tool_returned:result.payload.term_stats.avg_chunk_len": RETRIEVED,
  "trace.jsonl#tool_returned:result.payload.term_stats.df": RETRIEVED,
  "trace.jsonl#tool_returned:result.payload.term_stats.df.*": RETRIEVED,
  ...provenanceFields("trace.jsonl#tool_returned:result.payload.provenance"),
  "trace.jsonl#evidence_registered:evidence.id": RECOMPUTED_ID,
  "trace.jsonl#evidence_registered:evidence.uri": EVIDENCE,
  "trace.jsonl#evidence_registered:evidence.doc_id": EVIDENCE,
  "trace.jsonl#evidence_registered:evidence.chunk_id": EVIDENCE,
  "trace.jsonl#evidence_registered:evidence.span[]": EVIDENCE,
  "trace.jsonl#evidence_registered:evidence.sha256": EVIDENCE,
  "trace.jsonl#evidence_registered:evidence.content_path": EVIDENCE,
  "trace.jsonl#claim_emitted:claim.id": RECOMPUTED_ID,
  "trace.jsonl#claim_emitted:claim.statement": REDERIVED,
  "trace.jsonl#claim_emitted:claim.status": JUDGED,
  "trace.jsonl#claim_emitted:claim.confidence": REDERIVED,
  "trace.jsonl#claim_emitted:claim.claim_type": REDERIVED,
  "trace.jsonl#claim_emitted:claim.supports": JUDGED,
  "trace.jsonl#claim_emitted:claim.supports[].kind": JUDGED,
  "trace.jsonl#claim_emitted:claim.supports[].ref": JUDGED,
  "trace.jsonl#claim_emitted:claim.supports[].span[]": REDERIVED,
  "trace.jsonl#claim_emitted:claim.supports[].sha256": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.reasoner": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.reasoner_version": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.matched_terms": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.matched_terms[]": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.rejected": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.rejected[]": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.method": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.evidence_rank": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.sentence": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.score": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.coverage": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.model": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.candidates_considered": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.min_confidence": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.query_terms": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.query_terms[]": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.relevance": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.runner_up_strength": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.claims": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.claims[]": REDERIVED,
  // extractive 3 (issue 20): the features its confidence is computed from, and the keyword-query cap.
  "trace.jsonl#claim_emitted:claim.structured.feature_agreement": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_coverage": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_fragment": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_margin": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_missing_rare": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_one_term": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_piece_coverage": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_rank": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_raw_coverage": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_relevance": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_terms_log": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_title_coverage": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_two_terms": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.keyword_query": REDERIVED,
  // extractive 4 (issue 20): its ten further features, and which candidate scored and which is cited.
  "trace.jsonl#claim_emitted:claim.structured.scored_position": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.cited_position": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_position": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_gap": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_doc_share": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_doc_rank": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_short_missing": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_compactness": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_missing_terms": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_short_incomplete": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_unknown_terms": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.feature_specificity": REDERIVED,
  // llm 2 (issue 21): the prompt budget it applied and how it read the reply.
  "trace.jsonl#claim_emitted:claim.structured.prompt_budget": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.passages_cut": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.passages_left_out": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.reasoning_removed": REDERIVED,
  "trace.jsonl#claim_emitted:claim.structured.response_format": REDERIVED,
  ...Object.fromEntries(
    ["understand", "gather", "derive", "insufficient_evidence", "verify", "finalize"].flatMap((o) => [
      [`trace.jsonl#step_finished/${o}:idx`, STEP],
      [`trace.jsonl#step_finished/${o}:node_id`, STEP],
      [`trace.jsonl#step_finished/${o}:type`, STEP],
      [`trace.jsonl#step_finished/${o}:kind`, STEP],
      [`trace.jsonl#step_finished/${o}:output.type`, STEP],
    ]),
  ),
  "trace.jsonl#step_finished/understand:output.question": PLAN,
  "trace.jsonl#step_finished/understand:output.query": PLAN,
  "trace.jsonl#step_finished/understand:output.query_terms": PLAN,
  "trace.jsonl#step_finished/understand:output.query_terms[]": PLAN,
  "trace.jsonl#step_finished/gather:output.evidence_ids": LINKS,
  "trace.jsonl#step_finished/gather:output.evidence_ids[]": LINKS,
  "trace.jsonl#step_finished/derive:output.reasoner.id": REDERIVED,
  "trace.jsonl#step_finished/derive:output.reasoner.version": REDERIVED,
  "trace.jsonl#step_finished/derive:output.claim_id": LINKS,
  "trace.jsonl#step_finished/derive:output.statement": REDERIVED,
  "trace.jsonl#step_finished/derive:output.citations": REDERIVED,
  "trace.jsonl#step_finished/derive:output.citations[].evidence_id": REDERIVED,
  "trace.jsonl#step_finished/derive:output.citations[].span[]": REDERIVED,
  "trace.jsonl#step_finished/derive:output.citations[].sha256": REDERIVED,
  "trace.jsonl#step_finished/derive:output.model_call.path": {
    kind: "hash",
    how: "rederive: names the recording by its sha256",
  },
  "trace.jsonl#step_finished/derive:output.model_call.sha256": {
    kind: "hash",
    how: "rederive: sha256 of the recording's bytes",
  },
  "trace.jsonl#step_finished/insufficient_evidence:output.reasoner.id": REDERIVED,
  "trace.jsonl#step_finished/insufficient_evidence:output.reasoner.version": REDERIVED,
  "trace.jsonl#step_finished/insufficient_evidence:output.reason": REDERIVED,
  "trace.jsonl#step_finished/insufficient_evidence:output.relevant_evidence": REDERIVED,
  "trace.jsonl#step_finished/insufficient_evidence:output.required": REDERIVED,
  "trace.jsonl#step_finished/insufficient_evidence:output.confidence": REDERIVED,
  "trace.jsonl#step_finished/insufficient_evidence:output.model_call.path": {
    kind: "hash",
    how: "rederive: names the recording by its sha256",
  },
  "trace.jsonl#step_finished/insufficient_evidence:output.model_call.sha256": {
    kind: "hash",
    how: "rederive: sha256 of the recording's bytes",
  },
  "trace.jsonl#step_finished/verify:output.decisions": JUDGED,
  "trace.jsonl#step_finished/verify:output.decisions[].claim_id": JUDGED,
  "trace.jsonl#step_finished/verify:output.decisions[].status": JUDGED,
  "trace.jsonl#step_finished/verify:output.decisions[].result_claim_id": JUDGED,
  "trace.jsonl#step_finished/verify:output.decisions[].reasons": JUDGED,
  "trace.jsonl#step_finished/verify:output.decisions[].reasons[]": JUDGED,
  "trace.jsonl#step_finished/finalize:output.status": {
    kind: "rederived",
    how: "outcome: follows from the verdicts",
  },
  "trace.jsonl#step_finished/finalize:output.answer": {
    kind: "rederived",
    how: "outcome: the validated claim's statement",
  },
  "trace.jsonl#step_finished/finalize:output.claim_ids": {
    kind: "rederived",
    how: "outcome: the validated claims",
  },
  "trace.jsonl#step_finished/finalize:output.claim_ids[]": {
    kind: "rederived",
    how: "outcome: the validated claims",
  },
  "trace.jsonl#step_finished/finalize:output.uncertainty": {
    kind: "rederived",
    how: "outcome: the insufficiency the derivation recorded",
  },

  // model/<sha256>.json: the llm reasoner's recording.
  "model/*.json:": {
    kind: "hash",
    how: "rederive: named by the sha256 of its bytes, which the trace records",
  },
  "model/*.json:version": VERSIONED,
  "model/*.json:endpoint": { kind: "plan", how: "rederive: the plan's base URL + /chat/completions" },
  "model/*.json:request": { kind: "plan", how: "rederive: the request the plan, question and evidence make" },
  "model/*.json:request.**": {
    kind: "plan",
    how: "rederive: the request the plan, question and evidence make",
  },
  "model/*.json:response.status": {
    kind: "label",
    how: "the endpoint's answer, as recorded: what the model said is what the run re-derives from",
  },
  "model/*.json:response.body": {
    kind: "label",
    how: "the endpoint's answer, as recorded: the claims are re-derived from it, but no check can know what the model said",
  },

  // evidence/<sha256>.txt
  "evidence/*.txt:": {
    kind: "hash",
    how: "evidence_files: the registered evidence's bytes, named by their sha256",
  },

  // Projections of the trace, recomputed.
  "answer.json:*": PROJECTION,
  "provenance/retrieval.json:*": PROJECTION,
  "provenance/chunks.json:*": PROJECTION,

  // The seal.
  "report.json:*": REPORT,
  "manifest.json:*": MANIFEST,
  "signature.json:*": SIGNED,

  // volatile/: never fingerprinted.
  "volatile/*:": {
    kind: "label",
    how: "volatile/ (wall-clock timings): never fingerprinted, never compared",
  },
};

/**
 * The entry for a field pattern: exact; for an array, its elements' entry; else a file-wide
 * `<file>:*` entry; else undefined (a field the inventory does not know).
 */
export function fieldEntry(pattern: FieldPattern): FieldEntry | undefined {
  const exact = FIELD_INVENTORY[pattern];
  if (exact !== undefined) return exact;
  const element = Object.keys(FIELD_INVENTORY).find(
    (p) => p === `${pattern}[]` || p.startsWith(`${pattern}[].`),
  );
  if (element !== undefined) return FIELD_INVENTORY[element];
  const below = Object.keys(FIELD_INVENTORY).find(
    (p) => p.endsWith(".**") && pattern.startsWith(p.slice(0, -2)),
  );
  if (below !== undefined) return FIELD_INVENTORY[below];
  const file = pattern.slice(0, pattern.indexOf(":"));
  return (
    FIELD_INVENTORY[`${file}:*`] ??
    (file.startsWith("volatile/") ? FIELD_INVENTORY["volatile/*:"] : undefined)
  );
}

/** The labels: recorded, not verified. */
export function labelFields(): Array<[FieldPattern, FieldEntry]> {
  return Object.entries(FIELD_INVENTORY).filter(([, e]) => e.kind === "label");
}

export interface Field {
  /** The inventory pattern. */
  pattern: FieldPattern;
  /** Where the value is: the run path, the trace line (0 = header) and the JSON keys. */
  path: string;
  line: number | null;
  keys: Array<string | number>;
  value: unknown;
}

function fileKey(path: string): string {
  if (/^evidence\/[0-9a-f]{64}\.txt$/.test(path)) return "evidence/*.txt";
  if (/^model\/[0-9a-f]{64}\.json$/.test(path)) return "model/*.json";
  if (path.startsWith("volatile/")) return "volatile/*";
  return path;
}

function lineKey(value: unknown, line: number): string {
  if (line === 0) return "trace.jsonl#header";
  const e = value as { type?: unknown; output?: { type?: unknown } };
  if (e.type === "step_finished") return `trace.jsonl#step_finished/${String(e.output?.type)}`;
  return `trace.jsonl#${String(e.type)}`;
}

function walk(
  file: string,
  at: { path: string; line: number | null },
  value: unknown,
  keys: Array<string | number>,
  json: string,
  out: Field[],
): void {
  const pattern = `${file}:${json}`;
  if (Array.isArray(value)) {
    out.push({ pattern, ...at, keys, value });
    value.forEach((v, i) => {
      walk(file, at, v, [...keys, i], `${json}[]`, out);
    });
  } else if (typeof value === "object" && value !== null) {
    if (Object.keys(value).length === 0 || RECORD_FIELDS.has(pattern))
      out.push({ pattern, ...at, keys, value });
    const record = RECORD_FIELDS.has(pattern);
    for (const [k, v] of Object.entries(value))
      walk(file, at, v, [...keys, k], record ? `${json}.*` : json === "" ? k : `${json}.${k}`, out);
  } else out.push({ pattern, ...at, keys, value });
}

/** Every field of every file of a run, with its inventory pattern (JSON leaves, arrays, records). */
export function runFields(files: ReadonlyMap<string, Uint8Array>): Field[] {
  const out: Field[] = [];
  for (const [path, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const key = fileKey(path);
    const text = Buffer.from(bytes).toString("utf8");
    if (path === "trace.jsonl") {
      text
        .trimEnd()
        .split("\n")
        .forEach((line, i) => {
          const value = JSON.parse(line) as unknown;
          walk(lineKey(value, i), { path, line: i }, value, [], "", out);
        });
    } else if (path.endsWith(".json") && !path.startsWith("volatile/")) {
      if (key === "model/*.json") out.push({ pattern: `${key}:`, path, line: null, keys: [], value: null });
      walk(key, { path, line: null }, JSON.parse(text) as unknown, [], "", out);
    } else out.push({ pattern: `${key}:`, path, line: null, keys: [], value: text });
  }
  return out;
}

export interface RecordedLabel {
  /** Where: the file and the JSON path of the value. */
  field: string;
  value: string;
  how: string;
}

const MAX_LABEL_VALUE = 80;

/**
 * The label values a run records, for `inspect` and the report page ("recorded, not verified"):
 * run.json's and the model recording's; the trace's copies of the same values are left out, and
 * volatile/ (timings) is shown by the pages that show timings.
 */
export function recordedLabels(files: ReadonlyMap<string, Uint8Array>): RecordedLabel[] {
  const shown = new Map<string, RecordedLabel>();
  let fields: Field[];
  try {
    fields = runFields(
      new Map([...files].filter(([p]) => p === "run.json" || /^model\/[0-9a-f]{64}\.json$/.test(p))),
    );
  } catch {
    return [];
  }
  for (const f of fields) {
    const entry = fieldEntry(f.pattern);
    if (entry?.kind !== "label") continue;
    const raw = typeof f.value === "string" ? f.value : JSON.stringify(f.value);
    const value =
      raw.length > MAX_LABEL_VALUE ? `${raw.slice(0, MAX_LABEL_VALUE)}… (${raw.length} characters)` : raw;
    const field = `${f.path} ${f.keys.join(".")}`;
    shown.set(field, { field, value, how: entry.how });
  }
  return [...shown.values()];
}
