/**
 * rederive (INV-RDV-001): the recorded reasoner, given the recorded question, query terms and
 * evidence, derives exactly the recorded outcome: the same statement, citations, confidence and
 * reasoner metadata, or the same insufficiency (docs/design.md §5). A forger who edits a confidence or the
 * matched terms and recomputes every id is caught here without a signature. The understand step's
 * query terms are recomputed with the analyzer too, since they are the reasoner's input.
 */
import type { RunView } from "../../artifact/view.js";
import { canonicalJson, sha256Hex } from "../../canonical.js";
import { MODEL_CALL_FILE } from "../../models/model-call.js";
import type { StepOutput } from "../../models/trace.js";
import { type ModelContext, type RecordedEvidence, toReasonerInput } from "../../reason/input.js";
import type { Derivation, Reasoner, ReasonerInput } from "../../reason/reasoner.js";
import { findReasoner } from "../../reason/reasoners.js";
import { contentTerms } from "../../retrieval/analyzer.js";
import type { Check } from "../check.js";
import { type Finding, finding } from "../findings.js";

type Output<T extends StepOutput["type"]> = Extract<StepOutput, { type: T }>;

function outputOf<T extends StepOutput["type"]>(view: RunView, type: T): Output<T> | null {
  for (const e of view.trace?.events ?? [])
    if (e.type === "step_finished" && e.output.type === type) return e.output as Output<T>;
  return null;
}

/** Each registered evidence with the text and rank of the retrieval hit it was registered from. */
function recordedEvidence(view: RunView): RecordedEvidence[] | string {
  const hits = view.retrieval?.hits ?? [];
  const out: RecordedEvidence[] = [];
  for (const ref of view.evidence) {
    const hit = hits.find(
      (h) => h.doc_id === ref.doc_id && h.span[0] === ref.span[0] && h.span[1] === ref.span[1],
    );
    if (hit === undefined) return `evidence ${ref.id} matches no retrieval hit`;
    out.push({ ref, text: hit.text, rank: hit.rank, title: hit.title?.text });
  }
  return out;
}

/** What the recorded trace says the reasoner derived, in the reasoner's own terms. */
function recordedDerivation(view: RunView): Derivation | string {
  const insufficient = outputOf(view, "insufficient_evidence");
  if (insufficient !== null)
    return {
      kind: "insufficient",
      reason: insufficient.reason,
      relevantEvidence: insufficient.relevant_evidence,
      required: insufficient.required,
      ...(insufficient.confidence === undefined ? {} : { confidence: insufficient.confidence }),
      ...(insufficient.model_call === undefined ? {} : { modelCall: insufficient.model_call }),
    };
  const derive = outputOf(view, "derive");
  if (derive === null) return "the trace records no derivation";
  const claim = view.claims.find((c) => c.id === derive.claim_id);
  if (claim === undefined) return "the derivation's claim is not in the trace";
  const { reasoner: _id, reasoner_version: _version, ...structured } = claim.structured;
  return {
    kind: "claim",
    statement: derive.statement,
    confidence: claim.confidence,
    citations: derive.citations,
    structured: structured as Extract<Derivation, { kind: "claim" }>["structured"],
    ...(derive.model_call === undefined ? {} : { modelCall: derive.model_call }),
  };
}

/**
 * The recorded model call the derive step names, checked against its file: missing or altered
 * bytes fail closed (a finding, and nothing is re-derived). Files under model/ that the trace
 * does not name are reported too.
 */
function modelContext(view: RunView, seed: number, findings: Finding[]): ModelContext | null {
  let ref: { path: string; sha256: string } | undefined;
  for (const e of view.trace?.events ?? [])
    if (
      e.type === "step_finished" &&
      (e.output.type === "derive" || e.output.type === "insufficient_evidence")
    )
      ref ??= e.output.model_call;
  for (const path of view.files.keys())
    if (MODEL_CALL_FILE.test(path) && path !== ref?.path)
      findings.push(finding("MODEL_CALL_UNREFERENCED", { path }));
  if (ref === undefined) return { seed };
  const bytes = view.files.get(ref.path);
  const recording = view.modelCalls.get(ref.path);
  if (bytes === undefined) findings.push(finding("MODEL_CALL_MISSING", { path: ref.path }));
  else if (sha256Hex(bytes) !== ref.sha256) findings.push(finding("MODEL_CALL_ALTERED", { path: ref.path }));
  // An unparseable recording is a schemas finding; it cannot be derived from either.
  else if (recording !== undefined) return { seed, call: { ref, recording } };
  return null;
}

/** The first field where two derivations differ, compared as canonical JSON. */
function firstDifference(recorded: Derivation, fresh: Derivation): string | null {
  if (recorded.kind !== fresh.kind)
    return `recorded ${recorded.kind === "claim" ? "a claim" : "insufficient evidence"}, re-derived ${fresh.kind === "claim" ? "a claim" : "insufficient evidence"}`;
  const a = recorded as unknown as Record<string, unknown>;
  const b = fresh as unknown as Record<string, unknown>;
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (key === "structured") {
      const sa = (a[key] ?? {}) as Record<string, unknown>;
      const sb = (b[key] ?? {}) as Record<string, unknown>;
      for (const sub of [...new Set([...Object.keys(sa), ...Object.keys(sb)])].sort())
        if (canonicalJson(sa[sub] ?? null) !== canonicalJson(sb[sub] ?? null)) return sub;
    } else if (canonicalJson(a[key] ?? null) !== canonicalJson(b[key] ?? null)) return key;
  }
  return null;
}

/** The understand step's output recomputed: the spec's question, the plan's query, its terms. */
function recomputeUnderstand(view: RunView, understand: Output<"understand">, findings: Finding[]): void {
  if (view.spec !== null && understand.question !== view.spec.description)
    findings.push(finding("UNDERSTAND_RECOMPUTED", { field: "question" }));
  // The step's query is the plan's (and the plan is recomputed from the spec by plan_dag).
  const planned = view.plan?.nodes.find((n) => n.kind === "understand")?.params.query;
  if (understand.query !== planned) findings.push(finding("UNDERSTAND_RECOMPUTED", { field: "query" }));
  if (canonicalJson(understand.query_terms) !== canonicalJson(contentTerms(understand.query)))
    findings.push(finding("UNDERSTAND_RECOMPUTED", { field: "query_terms" }));
}

/**
 * For a reasoner that derives from a recorded model call: whether the recording stands for
 * this input's call (its request is the one the input makes), recording a finding when it does
 * not and when it was made at another endpoint than the plan's.
 */
function recordingFits(
  reasoner: Reasoner,
  input: ReasonerInput,
  base: unknown,
  findings: Finding[],
): boolean {
  if (reasoner.recordingMismatch === undefined) return true;
  // The recording was made at the run's endpoint: the plan's base URL (from the spec).
  const recording = input.llm?.call?.recording;
  const expected = typeof base === "string" ? `${base.replace(/\/+$/, "")}/chat/completions` : "";
  if (recording !== undefined && recording.endpoint !== expected)
    findings.push(finding("MODEL_ENDPOINT", { recorded: recording.endpoint, expected }));
  const mismatch = reasoner.recordingMismatch(input);
  if (mismatch === null) return true;
  findings.push(finding("MODEL_CALL_MISMATCH", { detail: mismatch }));
  return false;
}

export const rederiveCheck: Check = {
  name: "rederive",
  invariant: "INV-RDV-001",
  description: "the recorded reasoner, given the recorded evidence, derives the recorded claims",
  run(view) {
    if (view.trace === null || view.run === null || view.plan === null)
      return {
        findings: [finding("MISSING_INPUT", { inputs: ["trace.jsonl", "run.json", "plan.json"] })],
        details: "not re-derived",
      };
    const findings: Finding[] = [];
    const understand = outputOf(view, "understand");
    if (understand === null)
      return {
        findings: [finding("REDERIVE_INPUT", { detail: "no understand output" })],
        details: "not re-derived",
      };
    recomputeUnderstand(view, understand, findings);
    const recorded = view.run.inputs.runtime.reasoner;
    const reasoner = findReasoner(recorded);
    if (reasoner === null) {
      findings.push(finding("REASONER_UNKNOWN", { reasoner: `${recorded.id} ${recorded.version}` }));
      return { findings, details: "not re-derived: this build does not have the recorded reasoner" };
    }
    const model = modelContext(view, view.run.inputs.seed, findings);
    if (model === null) return { findings, details: "not re-derived: the recorded model call is unusable" };
    const evidence = recordedEvidence(view);
    const deriveNode = view.plan.nodes.find((n) => n.kind === "derive");
    if (deriveNode !== undefined && deriveNode.params.reasoner !== reasoner.id)
      findings.push(
        finding("REDERIVE_INPUT", {
          detail: `the plan's derive step names reasoner ${String(deriveNode.params.reasoner)}, run.json ${reasoner.id}`,
        }),
      );
    const input =
      typeof evidence === "string"
        ? evidence
        : deriveNode === undefined
          ? "the plan has no derive step"
          : toReasonerInput(
              understand.question,
              understand.query_terms,
              evidence,
              deriveNode.params,
              view.retrieval?.term_stats,
              model,
            );
    if (typeof input === "string") {
      findings.push(finding("REDERIVE_INPUT", { detail: input }));
      return { findings, details: "not re-derived" };
    }
    const claimed = recordedDerivation(view);
    if (typeof claimed === "string") {
      findings.push(finding("REDERIVE_INPUT", { detail: claimed }));
      return { findings, details: "not re-derived" };
    }
    if (!recordingFits(reasoner, input, deriveNode?.params.base_url, findings))
      return { findings, details: "not re-derived: the recorded model call does not fit" };
    // The derivation names the reasoner run.json records (the one re-run here).
    const named = outputOf(view, "derive")?.reasoner ?? outputOf(view, "insufficient_evidence")?.reasoner;
    if (named !== undefined && (named.id !== reasoner.id || named.version !== reasoner.version))
      findings.push(
        finding("REDERIVED_DIFFERS", { reasoner: `${reasoner.id} ${reasoner.version}`, field: "reasoner" }),
      );
    const fresh = reasoner.derive(input);
    const differs = firstDifference(claimed, fresh);
    if (differs !== null)
      findings.push(
        finding("REDERIVED_DIFFERS", { reasoner: `${reasoner.id} ${reasoner.version}`, field: differs }),
      );
    return {
      findings,
      details: `re-derived with ${reasoner.id} ${reasoner.version} from ${input.evidence.length} evidence`,
    };
  },
};
