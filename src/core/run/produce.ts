/**
 * Produces a complete run in memory (SPEC §3–§4): plan, execute, assemble every artifact,
 * verify, then seal with the manifest. Pure: tools, the reasoner and the verifier are passed
 * in, and the caller decides where the files go.
 */
import { contentId, sha256Hex, withId } from "../canonical.js";
import type { Claim } from "../models/claim.js";
import type { EvidenceRef } from "../models/evidence.js";
import type { Plan } from "../models/plan.js";
import { PLAN_VERSION } from "../models/plan.js";
import { REPORT_VERSION, type VerificationReport } from "../models/report.js";
import {
  type AnswerView,
  MANIFEST_VERSION,
  RUN_VERSION,
  type RunInputs,
  type RunRecord,
} from "../models/run.js";
import { type ProblemSpec, SPEC_VERSION } from "../models/spec.js";
import {
  type RetrievalProvenance,
  RetrievePayload,
  TRACE_VERSION,
  type Trace,
  type TraceHeader,
} from "../models/trace.js";
import { liveDispatcher } from "../pipeline/dispatch.js";
import { type ExecuteOptions, execute, type ToolDispatcher } from "../pipeline/executor.js";
import {
  type DocumentBytesLookup,
  makeRetrieveTool,
  RETRIEVE_TOOL,
  retrieveToolDescriptor,
} from "../pipeline/retrieve-tool.js";
import { planFor } from "../plan/planner.js";
import type { Reasoner } from "../reason/reasoner.js";
import type { Bm25Index } from "../retrieval/bm25.js";
import { jsonFile, RUN_FILES, type RunFiles, traceFile } from "./files.js";
import { buildManifest } from "./manifest.js";

export const SCHEMA_VERSIONS = {
  spec: SPEC_VERSION,
  plan: PLAN_VERSION,
  trace: TRACE_VERSION,
  run: RUN_VERSION,
  report: REPORT_VERSION,
  manifest: MANIFEST_VERSION,
} as const;

export interface RetrievalBackend {
  index: Bm25Index;
  provenance: RetrievalProvenance;
  lookup: DocumentBytesLookup;
}

export interface ProduceOptions {
  preset: string;
  seed: number;
  producer: { name: string; version: string };
  reasoner: Reasoner;
  /** Recorded in the runtime descriptor; null when the spec needs no retrieval (then no evidence, never a fallback). */
  provenance: RetrievalProvenance | null;
  /** Live tools (`liveTools`) or results served from a recorded trace (frozen replay). */
  dispatcher: ToolDispatcher;
  /** The verifier, run over the finished files before the report and manifest are added. */
  verify: (files: RunFiles) => VerificationReport;
}

export interface ProducedRun {
  runId: string;
  files: RunFiles;
  trace: Trace;
  answer: AnswerView;
  report: VerificationReport;
}

/** Validates nothing (the caller parsed it); returns the spec with its content id. */
export function specWithId(spec: ProblemSpec): ProblemSpec & { id: string } {
  const { id: _old, ...rest } = spec;
  return withId("spec", rest);
}

/** The live tool dispatcher for a retrieval backend (none without a corpus). */
export function liveTools(retrieval: RetrievalBackend | null): ToolDispatcher {
  return liveDispatcher(
    retrieval === null
      ? {}
      : { [RETRIEVE_TOOL]: makeRetrieveTool(retrieval.index, retrieval.provenance, retrieval.lookup) },
  );
}

export function runInputsOf(
  spec: ProblemSpec & { id: string },
  plan: Plan,
  options: Pick<ProduceOptions, "preset" | "seed" | "producer" | "reasoner" | "provenance">,
): RunInputs {
  return {
    spec_id: spec.id,
    plan_id: plan.id,
    preset: options.preset,
    seed: options.seed,
    runtime: {
      tools: options.provenance === null ? [] : [retrieveToolDescriptor(options.provenance)],
      reasoner: { id: options.reasoner.id, version: options.reasoner.version },
    },
    producer: { ...options.producer },
    schema_versions: { ...SCHEMA_VERSIONS },
  };
}

export interface TracedRun {
  spec: ProblemSpec & { id: string };
  plan: Plan;
  record: RunRecord;
  trace: Trace;
}

/** Plans and executes: everything up to the trace, which is what replay compares. */
export function traceRun(
  specInput: ProblemSpec,
  options: Omit<ProduceOptions, "verify"> & Pick<ExecuteOptions, "partialOnToolFailure">,
): TracedRun {
  const spec = specWithId(specInput);
  const plan = planFor(spec, options.preset);
  const inputs = runInputsOf(spec, plan, options);
  const runId = contentId("run", inputs);
  const header: TraceHeader = {
    type: "header",
    trace_version: TRACE_VERSION,
    run_id: runId,
    spec_id: spec.id,
    plan_id: plan.id,
    producer: { ...options.producer },
  };
  const trace = execute(spec, plan, {
    header,
    dispatcher: options.dispatcher,
    reasoner: options.reasoner,
    ...(options.partialOnToolFailure === undefined
      ? {}
      : { partialOnToolFailure: options.partialOnToolFailure }),
  });
  const traceId = contentId("trace", { header: trace.header, events: trace.events });
  return { spec, plan, trace, record: { version: RUN_VERSION, run_id: runId, inputs, trace_id: traceId } };
}

export function produceRun(specInput: ProblemSpec, options: ProduceOptions): ProducedRun {
  const { spec, plan, trace, record } = traceRun(specInput, options);
  const runId = record.run_id;
  const files: RunFiles = new Map();
  files.set(RUN_FILES.spec, jsonFile(spec));
  files.set(RUN_FILES.plan, jsonFile(plan));
  files.set(RUN_FILES.trace, traceFile(trace));
  files.set(RUN_FILES.run, jsonFile(record));
  const texts = evidenceTexts(trace);
  const evidence = trace.events.flatMap((e) => (e.type === "evidence_registered" ? [e.evidence] : []));
  for (const ev of evidence) {
    const text = texts.get(ev.sha256);
    if (text !== undefined) files.set(ev.content_path, Buffer.from(text, "utf8"));
  }
  const answer = answerView(trace, evidence, texts);
  files.set(RUN_FILES.answer, jsonFile(answer));
  for (const [path, bytes] of provenanceFiles(trace, evidence)) files.set(path, bytes);

  const report = options.verify(files);
  files.set(RUN_FILES.report, jsonFile(report));
  files.set(RUN_FILES.manifest, jsonFile(buildManifest(runId, files)));
  return { runId, files, trace, answer, report };
}

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
