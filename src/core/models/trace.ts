/** Trace (docs/design.md §2): a header line and an ordered list of typed events. */
import * as z from "zod";
import { Claim } from "./claim.js";
import { ByteSpan, idOf, JsonObject, Producer, Sha256Hex } from "./common.js";
import { EvidenceRef } from "./evidence.js";
import { ModelCallRef } from "./model-call.js";

export const TRACE_VERSION = "1";

export const ToolCall = z.strictObject({
  id: idOf("call"),
  tool: z.string().min(1),
  args: JsonObject,
  node_id: idOf("node"),
  /** Position of the call inside its step. */
  index: z.int().min(0),
});
export type ToolCall = z.infer<typeof ToolCall>;

export const ToolResult = z.strictObject({
  call_id: idOf("call"),
  ok: z.boolean(),
  payload: z.json().optional(),
  error: z.string().optional(),
});
export type ToolResult = z.infer<typeof ToolResult>;

/** What the retrieve tool records about where its results came from (docs/design.md §3.3). */
export const RetrievalProvenance = z.strictObject({
  corpus_snapshot: Sha256Hex,
  index_hash: Sha256Hex,
  analyzer: z.strictObject({ name: z.string(), version: z.string() }),
  k1: z.number(),
  b: z.number(),
  chunk_chars: z.int(),
  overlap_chars: z.int(),
  index_titles: z.boolean(),
  limits: z.strictObject({ max_bytes: z.int(), max_documents: z.int(), max_chunks: z.int() }),
  documents: z.int().min(0),
  chunks: z.int().min(0),
  /**
   * "sentences" (retrieve tool 2): each hit's evidence is widened to whole sentences and the
   * payload carries term_stats. Absent in runs of retrieve tool 1, whose hits are bare chunks;
   * the tool reproduces whichever the recorded provenance names, so older runs still verify.
   */
  evidence: z.literal("sentences").optional(),
});
export type RetrievalProvenance = z.infer<typeof RetrievalProvenance>;

/**
 * One ranked hit. Since retrieve tool version 2, `span` and `text` are the matched chunk
 * widened to whole sentences of the document, plus the sentence before it (a sentence that
 * opens with "It" needs it), and `chunk_id` is the sha256 of those evidence bytes; `chunk`
 * records the chunk the index matched. `title` is the document's heading line, when it has one.
 */
export const RetrievalHit = z.strictObject({
  rank: z.int().min(1),
  doc_id: z.string(),
  chunk_id: Sha256Hex,
  span: ByteSpan,
  score: z.number(),
  text: z.string(),
  chunk: z.strictObject({ id: Sha256Hex, span: ByteSpan }).optional(),
  title: z.strictObject({ span: ByteSpan, text: z.string() }).optional(),
});
export type RetrievalHit = z.infer<typeof RetrievalHit>;

/**
 * The index statistics of the query's content terms (Bm25Index.termStats): chunk count,
 * average chunk length in terms, and each term's document frequency in chunks. Recorded so
 * the reasoner's weights are a function of the trace alone.
 */
export const TermStats = z.strictObject({
  chunks: z.int().min(0),
  avg_chunk_len: z.number().min(0),
  df: z.record(z.string(), z.int().min(0)),
});
export type TermStats = z.infer<typeof TermStats>;

export const RetrievePayload = z.strictObject({
  query: z.string(),
  top_k: z.int().min(1),
  hits: z.array(RetrievalHit),
  provenance: RetrievalProvenance,
  term_stats: TermStats.optional(),
});
export type RetrievePayload = z.infer<typeof RetrievePayload>;

export const Citation = z.strictObject({ evidence_id: idOf("ev"), span: ByteSpan, sha256: Sha256Hex });
export type Citation = z.infer<typeof Citation>;

export const StepOutput = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("understand"),
    question: z.string(),
    query: z.string(),
    query_terms: z.array(z.string()),
  }),
  z.strictObject({ type: z.literal("gather"), evidence_ids: z.array(idOf("ev")) }),
  z.strictObject({
    type: z.literal("derive"),
    reasoner: z.strictObject({ id: z.string(), version: z.string() }),
    claim_id: idOf("claim"),
    statement: z.string(),
    citations: z.array(Citation),
    /** The recorded model call the claim was derived from (llm reasoner). */
    model_call: ModelCallRef.optional(),
  }),
  z.strictObject({
    type: z.literal("insufficient_evidence"),
    reasoner: z.strictObject({ id: z.string(), version: z.string() }),
    reason: z.string(),
    relevant_evidence: z.int().min(0),
    required: z.int().min(1),
    /** The best candidate's confidence, when the reasoner had one (extractive 2 and later). */
    confidence: z.number().min(0).max(1).optional(),
    /** The recorded model call judged insufficient (llm reasoner), when a call was made. */
    model_call: ModelCallRef.optional(),
  }),
  z.strictObject({
    type: z.literal("verify"),
    decisions: z.array(
      z.strictObject({
        claim_id: idOf("claim"),
        status: z.enum(["validated", "rejected"]),
        result_claim_id: idOf("claim"),
        reasons: z.array(z.string()),
      }),
    ),
  }),
  z.strictObject({
    type: z.literal("finalize"),
    status: z.enum(["answered", "insufficient_evidence"]),
    answer: z.string().nullable(),
    claim_ids: z.array(idOf("claim")),
    uncertainty: z.string().nullable(),
  }),
]);
export type StepOutput = z.infer<typeof StepOutput>;

const at = { idx: z.int().min(0), node_id: idOf("node") };
export const TraceEvent = z.discriminatedUnion("type", [
  z.strictObject({ ...at, type: z.literal("step_started"), kind: z.string() }),
  z.strictObject({ ...at, type: z.literal("tool_called"), call: ToolCall }),
  z.strictObject({ ...at, type: z.literal("tool_returned"), result: ToolResult }),
  z.strictObject({ ...at, type: z.literal("evidence_registered"), evidence: EvidenceRef }),
  z.strictObject({ ...at, type: z.literal("claim_emitted"), claim: Claim }),
  z.strictObject({ ...at, type: z.literal("step_finished"), kind: z.string(), output: StepOutput }),
]);
export type TraceEvent = z.infer<typeof TraceEvent>;

export const TraceHeader = z.strictObject({
  type: z.literal("header"),
  trace_version: z.literal(TRACE_VERSION),
  run_id: idOf("run"),
  spec_id: idOf("spec"),
  plan_id: idOf("plan"),
  producer: Producer,
});
export type TraceHeader = z.infer<typeof TraceHeader>;

/** The trace id covers the header and every event, in order. */
export interface Trace {
  header: TraceHeader;
  events: TraceEvent[];
}
