/**
 * Produces a complete run in memory (docs/design.md §3–§4): plan, execute, assemble every artifact,
 * verify, then seal with the manifest. Pure: tools, the reasoner and the verifier are passed
 * in, and the caller decides where the files go.
 */
import { jsonFile, modelCallFile, RUN_FILES, type RunFiles, traceFile } from "../artifact/files.js";
import { buildManifest } from "../artifact/manifest.js";
import { RETRIEVE_TOOL } from "../artifact/names.js";
import { answerView, evidenceTexts, provenanceFiles } from "../artifact/projections.js";
import { SCHEMA_VERSIONS } from "../artifact/versions.js";
import { contentId, withId } from "../canonical.js";
import type { ModelCall } from "../models/model-call.js";
import type { Plan } from "../models/plan.js";
import { type AnswerView, RUN_VERSION, type RunInputs, type RunRecord } from "../models/run.js";
import type { ProblemSpec } from "../models/spec.js";
import {
  type RetrievalProvenance,
  TRACE_VERSION,
  type Trace,
  type TraceEvent,
  type TraceHeader,
} from "../models/trace.js";
import type { VerificationReport } from "../models/verification-report.js";
import { planFor } from "../plan/planner.js";
import { LLM_REASONER_ID, LLM_REASONER_VERSION } from "../reason/llm.js";
import type { Reasoner, ReasonerInput } from "../reason/reasoner.js";
import type { Bm25Index } from "../retrieval/bm25/bm25-index.js";
import type { DocumentBytesLookup } from "../retrieval/hits.js";
import { frozenDispatcher, liveDispatcher } from "./dispatch.js";
import { runSteps, type StepOptions, type ToolDispatcher } from "./executor.js";
import { makeRetrieveTool, retrieveToolDescriptor } from "./retrieve-tool.js";

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
  /** Sees each trace event as it is recorded (for volatile step timings); changes nothing recorded. */
  onEvent?: (event: TraceEvent) => void;
  /** The llm reasoner's recorded model call, written into the run as model/<sha256>.json. */
  modelCall?: ModelCall;
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

/**
 * Plans and executes: everything up to the trace, which is what replay compares. The steps run
 * first; the run's identity (its inputs, id and the trace header) is then computed in one place.
 */
export function traceRun(
  specInput: ProblemSpec,
  options: Omit<ProduceOptions, "verify"> & Pick<StepOptions, "partialOnToolFailure" | "onEvent">,
): TracedRun {
  const call =
    options.modelCall === undefined
      ? undefined
      : { ref: modelCallFile(options.modelCall).ref, recording: options.modelCall };
  const spec = specWithId(specInput);
  const plan = planFor(spec, options.preset);
  const events = runSteps(spec, plan, {
    dispatcher: options.dispatcher,
    reasoner: options.reasoner,
    model: { seed: options.seed, ...(call === undefined ? {} : { call }) },
    ...(options.partialOnToolFailure === undefined
      ? {}
      : { partialOnToolFailure: options.partialOnToolFailure }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
  });
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
  const trace = { header, events };
  const traceId = contentId("trace", { header, events });
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
  if (options.modelCall !== undefined) {
    const { ref, bytes } = modelCallFile(options.modelCall);
    // Only a recording the trace refers to belongs to the run.
    const referenced = trace.events.some(
      (e) =>
        e.type === "step_finished" &&
        (e.output.type === "derive" || e.output.type === "insufficient_evidence") &&
        e.output.model_call?.path === ref.path,
    );
    if (referenced) files.set(ref.path, bytes);
  }

  const report = options.verify(files);
  files.set(RUN_FILES.report, jsonFile(report));
  files.set(RUN_FILES.manifest, jsonFile(buildManifest(runId, files)));
  return { runId, files, trace, answer, report };
}

/**
 * The llm reasoner's input for this spec: plans and executes with a reasoner that only looks,
 * so the model call can be made (an effect, at the edge) before the run is produced from its
 * recording. Also returns the tool results, so producing the run does not retrieve again.
 */
export function llmInputOf(
  specInput: ProblemSpec,
  options: Omit<ProduceOptions, "verify" | "reasoner" | "modelCall">,
): { input: ReasonerInput; dispatcher: ToolDispatcher } {
  let seen: ReasonerInput | undefined;
  const look: Reasoner = {
    id: LLM_REASONER_ID,
    version: LLM_REASONER_VERSION,
    derive(input) {
      seen = input;
      return { kind: "insufficient", reason: "not derived", relevantEvidence: 0, required: 1 };
    },
  };
  const { trace } = traceRun(specInput, { ...options, reasoner: look });
  if (seen === undefined) throw new Error("the plan has no derive step");
  return { input: seen, dispatcher: frozenDispatcher(trace) };
}
