/**
 * Projections of a trace into the run's derived files (docs/design.md §4): answer.json and the
 * provenance files are views of the trace, computed here by one function each, so the
 * producer writes them and the verifier recomputes them from the same definition of the view,
 * never from the producer's state.
 */
import { sha256Hex } from "../canonical.js";
import type { Claim } from "../models/claim.js";
import type { EvidenceRef } from "../models/evidence.js";
import type { AnswerView } from "../models/run.js";
import { RetrievePayload, type Trace } from "../models/trace.js";
import { jsonFile, RUN_FILES } from "./files.js";

/** Evidence text by sha256, taken from the retrieve results recorded in the trace. */
export function evidenceTexts(trace: Trace): Map<string, string> {
  const texts = new Map<string, string>();
  for (const e of trace.events) {
    if (e.type !== "tool_returned" || !e.result.ok) continue;
    const parsed = RetrievePayload.safeParse(e.result.payload);
    if (!parsed.success) continue;
    for (const hit of parsed.data.hits) texts.set(sha256Hex(Buffer.from(hit.text, "utf8")), hit.text);
  }
  return texts;
}

export function answerView(
  trace: Trace,
  evidence: readonly EvidenceRef[],
  texts: ReadonlyMap<string, string>,
): AnswerView {
  const understand = trace.events.find((e) => e.type === "step_finished" && e.output.type === "understand");
  const finalize = trace.events.find((e) => e.type === "step_finished" && e.output.type === "finalize");
  const question =
    understand?.type === "step_finished" && understand.output.type === "understand"
      ? understand.output.question
      : "";
  const out =
    finalize?.type === "step_finished" && finalize.output.type === "finalize" ? finalize.output : null;
  const claims = trace.events.flatMap((e) => (e.type === "claim_emitted" ? [e.claim] : []));
  const byId = new Map(evidence.map((ev) => [ev.id, ev]));
  const final: Claim[] = (out?.claim_ids ?? []).flatMap((id) => claims.filter((c) => c.id === id));
  return {
    run_id: trace.header.run_id,
    question,
    status: out?.status ?? "insufficient_evidence",
    answer: out?.answer ?? null,
    uncertainty: out?.uncertainty ?? null,
    claims: final.map((claim) => ({
      id: claim.id,
      statement: claim.statement,
      status: claim.status,
      confidence: claim.confidence,
      citations: claim.supports.flatMap((s) => {
        const ev = byId.get(s.ref);
        const text = ev === undefined ? undefined : texts.get(ev.sha256);
        if (s.kind !== "evidence" || ev === undefined || text === undefined || !s.span || !s.sha256)
          return [];
        const quote = Buffer.from(text, "utf8").subarray(s.span[0], s.span[1]).toString("utf8");
        return [
          {
            evidence_id: ev.id,
            doc_id: ev.doc_id,
            uri: ev.uri,
            doc_span: [ev.span[0] + s.span[0], ev.span[0] + s.span[1]] as [number, number],
            sha256: s.sha256,
            quote,
          },
        ];
      }),
      // A model's quotes that were not cited, and why (llm reasoner): the answer says what it left out.
      ...(Array.isArray(claim.structured.rejected)
        ? { rejected: claim.structured.rejected.filter((r): r is string => typeof r === "string") }
        : {}),
    })),
  };
}

export function provenanceFiles(trace: Trace, evidence: readonly EvidenceRef[]): Array<[string, Uint8Array]> {
  const call = trace.events.find((e) => e.type === "tool_returned" && e.result.ok);
  const parsed = call?.type === "tool_returned" ? RetrievePayload.safeParse(call.result.payload) : null;
  if (!parsed?.success) return [];
  const payload = parsed.data;
  const evidenceByChunk = new Map(evidence.map((ev) => [`${ev.doc_id}\u0000${ev.span[0]}`, ev.id]));
  return [
    [
      RUN_FILES.retrieval,
      jsonFile({
        query: payload.query,
        top_k: payload.top_k,
        provenance: payload.provenance,
        ranking: payload.hits.map((h) => ({
          rank: h.rank,
          doc_id: h.doc_id,
          chunk_id: h.chunk_id,
          span: h.span,
          score: h.score,
          evidence_id: evidenceByChunk.get(`${h.doc_id}\u0000${h.span[0]}`) ?? null,
        })),
      }),
    ],
    [
      RUN_FILES.chunks,
      jsonFile({
        chunks: evidence.map((ev) => ({
          evidence_id: ev.id,
          doc_id: ev.doc_id,
          chunk_id: ev.chunk_id,
          span: ev.span,
          sha256: ev.sha256,
          content_path: ev.content_path,
        })),
      }),
    ],
  ];
}
