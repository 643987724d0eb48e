/**
 * The executor (docs/design.md §3.2): runs plan nodes in the order the plan lists them (the planner's
 * checked topological order, core/plan/topo.ts) and records every step as trace events. Tools are
 * reached only through a dispatcher, so the same code runs live (tools execute) and frozen
 * (results served from a recorded trace).
 */
import { evidenceUri } from "../artifact/names.js";
import { sha256Hex, withId } from "../canonical.js";
import { CanonError, ToolFailedError } from "../errors.js";
import type { Claim, Support } from "../models/claim.js";
import type { EvidenceRef } from "../models/evidence.js";
import type { Plan, PlanNode } from "../models/plan.js";
import type { ProblemSpec } from "../models/spec.js";
import {
  RetrievePayload,
  type StepOutput,
  type TermStats,
  type ToolCall,
  type ToolResult,
  type Trace,
  type TraceEvent,
  type TraceHeader,
} from "../models/trace.js";
import { type ModelContext, type RecordedEvidence, toReasonerInput } from "../reason/input.js";
import type { Reasoner } from "../reason/reasoner.js";
import { contentTerms } from "../retrieval/analyzer.js";

export interface ToolDispatcher {
  dispatch(call: ToolCall): ToolResult;
}

export interface ExecuteOptions extends StepOptions {
  header: TraceHeader;
}

/** What running the steps needs: the run's identity (the trace header) is not among it. */
export interface StepOptions {
  dispatcher: ToolDispatcher;
  reasoner: Reasoner;
  /** The run's seed and, for the llm reasoner, its recorded model call. */
  model?: ModelContext;
  /**
   * Return the events up to a failing tool instead of throwing. Replay uses it: a recorded
   * result that no longer matches its call is a divergence to point at, not an error.
   */
  partialOnToolFailure?: boolean;
  /** Sees each event as it is recorded (the CLI times steps with it); the trace is unchanged. */
  onEvent?: (event: TraceEvent) => void;
}

/** Text and rank of registered evidence, kept beside the trace for later steps. */
type EvidenceState = RecordedEvidence;

interface RunState {
  query: string;
  queryTerms: string[];
  evidence: EvidenceState[];
  /** The first retrieve result's term statistics (retrieve tool 2 and later). */
  termStats: TermStats | undefined;
  proposed: Claim[];
  validated: Claim[];
  insufficient: string | null;
}

type Emit = (event: Record<string, unknown> & { type: TraceEvent["type"] }) => void;

function num(params: PlanNode["params"], key: string): number {
  const v = params[key];
  if (typeof v !== "number")
    throw new CanonError("E_PLAN_INVALID", `plan node parameter "${key}" must be a number`);
  return v;
}

/** The trace of a plan's execution: the given header, then the events of its steps. */
export function execute(spec: ProblemSpec, plan: Plan, options: ExecuteOptions): Trace {
  return { header: options.header, events: runSteps(spec, plan, options) };
}

/**
 * Runs the plan's steps and returns their events. Nothing here depends on which run this is,
 * so the producer identifies the run (its header) apart from executing it.
 */
export function runSteps(spec: ProblemSpec, plan: Plan, options: StepOptions): TraceEvent[] {
  const events: TraceEvent[] = [];
  const state: RunState = {
    query: spec.constraints.query ?? spec.description,
    queryTerms: [],
    evidence: [],
    termStats: undefined,
    proposed: [],
    validated: [],
    insufficient: null,
  };
  try {
    for (const node of plan.nodes) {
      const emit: Emit = (event) => {
        const recorded = { idx: events.length, node_id: node.id, ...event } as TraceEvent;
        events.push(recorded);
        options.onEvent?.(recorded);
      };
      emit({ type: "step_started", kind: node.kind });
      const output = runStep(node, spec, state, emit, options);
      emit({ type: "step_finished", kind: node.kind, output });
    }
  } catch (error) {
    if (!(options.partialOnToolFailure && error instanceof ToolFailedError)) throw error;
  }
  return events;
}

function callTools(node: PlanNode, emit: Emit, dispatcher: ToolDispatcher): ToolResult[] {
  return node.tool_requests.map((request, index) => {
    const call = withId("call", {
      tool: request.tool,
      args: request.args,
      node_id: node.id,
      index,
    }) as ToolCall;
    emit({ type: "tool_called", call });
    const result = dispatcher.dispatch(call);
    emit({ type: "tool_returned", result });
    if (!result.ok)
      throw new ToolFailedError(node.kind, request.tool, result.error ?? "failed without a message");
    return result;
  });
}

function runStep(node: PlanNode, spec: ProblemSpec, state: RunState, emit: Emit, o: StepOptions): StepOutput {
  switch (node.kind) {
    case "understand": {
      state.query = typeof node.params.query === "string" ? node.params.query : spec.description;
      state.queryTerms = contentTerms(state.query);
      return {
        type: "understand",
        question: spec.description,
        query: state.query,
        query_terms: state.queryTerms,
      };
    }
    case "gather": {
      const results = callTools(node, emit, o.dispatcher);
      const ids: string[] = [];
      for (const result of results) {
        const payload = RetrievePayload.parse(result.payload);
        state.termStats ??= payload.term_stats;
        for (const hit of payload.hits) {
          const bytes = Buffer.from(hit.text, "utf8");
          const sha = sha256Hex(bytes);
          const ref = withId("ev", {
            uri: evidenceUri(payload.provenance.corpus_snapshot, hit.doc_id),
            doc_id: hit.doc_id,
            chunk_id: hit.chunk_id,
            span: hit.span,
            sha256: sha,
            content_path: `evidence/${sha}.txt`,
          }) as EvidenceRef;
          if (ids.includes(ref.id)) continue;
          ids.push(ref.id);
          state.evidence.push({ ref, text: hit.text, rank: hit.rank, title: hit.title?.text });
          emit({ type: "evidence_registered", evidence: ref });
        }
      }
      return { type: "gather", evidence_ids: ids };
    }
    case "derive":
      return derive(node, spec, state, emit, o);
    case "verify":
      return verifyClaims(node, state, emit);
    case "finalize": {
      const top = state.validated[0];
      if (top === undefined) {
        return {
          type: "finalize",
          status: "insufficient_evidence",
          answer: null,
          claim_ids: [],
          uncertainty: `Insufficient evidence: ${state.insufficient ?? "no claim could be validated"}.`,
        };
      }
      return {
        type: "finalize",
        status: "answered",
        answer: top.statement,
        claim_ids: state.validated.map((c) => c.id),
        uncertainty: null,
      };
    }
  }
}

function derive(node: PlanNode, spec: ProblemSpec, state: RunState, emit: Emit, o: StepOptions): StepOutput {
  const { reasoner } = o;
  const reasonerId = { id: reasoner.id, version: reasoner.version };
  const input = toReasonerInput(
    spec.description,
    state.queryTerms,
    state.evidence,
    node.params,
    state.termStats,
    o.model,
  );
  if (typeof input === "string")
    throw new CanonError("E_PLAN_INVALID", `plan node parameter "${input}" must be a number`);
  const derivation = reasoner.derive(input);
  if (derivation.kind === "insufficient") {
    state.insufficient = derivation.reason;
    return {
      type: "insufficient_evidence",
      reasoner: reasonerId,
      reason: derivation.reason,
      relevant_evidence: derivation.relevantEvidence,
      required: derivation.required,
      ...(derivation.confidence === undefined ? {} : { confidence: derivation.confidence }),
      ...(derivation.modelCall === undefined ? {} : { model_call: derivation.modelCall }),
    };
  }
  const supports: Support[] = derivation.citations.map((c) => ({
    kind: "evidence",
    ref: c.evidence_id,
    span: c.span,
    sha256: c.sha256,
  }));
  const claim = withId("claim", {
    statement: derivation.statement,
    status: "proposed",
    confidence: derivation.confidence,
    claim_type: "derived",
    supports,
    structured: { reasoner: reasoner.id, reasoner_version: reasoner.version, ...derivation.structured },
  }) as Claim;
  state.proposed.push(claim);
  emit({ type: "claim_emitted", claim });
  return {
    type: "derive",
    reasoner: reasonerId,
    claim_id: claim.id,
    statement: claim.statement,
    citations: derivation.citations,
    ...(derivation.modelCall === undefined ? {} : { model_call: derivation.modelCall }),
  };
}

/** Why a claim's supports do not hold up against the registered evidence bytes; empty when they do. */
function supportProblems(claim: Claim, evidence: readonly EvidenceState[], minSupports: number): string[] {
  const problems: string[] = [];
  // Supports count by distinct source span (document and byte range): the same sentence reached
  // through two overlapping pieces of evidence is one support, not two.
  const grounded = new Set<string>();
  for (const s of claim.supports) {
    if (s.kind !== "evidence") continue;
    const ev = evidence.find((e) => e.ref.id === s.ref);
    if (ev === undefined || s.span === undefined) {
      problems.push(`support ${s.ref} does not name registered evidence with a span`);
      continue;
    }
    const bytes = Buffer.from(ev.text, "utf8");
    const [start, end] = s.span;
    if (end > bytes.length || start >= end) {
      problems.push(`span [${start}, ${end}) lies outside evidence ${s.ref}`);
    } else if (sha256Hex(bytes.subarray(start, end)) !== s.sha256) {
      problems.push(`sha256 of span [${start}, ${end}) in ${s.ref} does not match`);
    } else grounded.add(`${ev.ref.doc_id}\u0000${ev.ref.span[0] + start}\u0000${ev.ref.span[0] + end}`);
  }
  // The message is recorded in traces: kept as it was, so older runs replay identically.
  if (grounded.size < minSupports)
    problems.push(`${grounded.size} grounded support(s), ${minSupports} required`);
  return problems;
}

function verifyClaims(node: PlanNode, state: RunState, emit: Emit): StepOutput {
  const minSupports = num(node.params, "min_supports_per_claim");
  const decisions = state.proposed.map((claim) => {
    const reasons = supportProblems(claim, state.evidence, minSupports);
    const status = reasons.length === 0 ? "validated" : "rejected";
    // A claim is immutable and content-addressed: its verdict is a new claim that cites it.
    const { id: proposedId, ...body } = claim;
    const result = withId("claim", {
      ...body,
      status,
      supports: [...claim.supports, { kind: "claim", ref: proposedId }],
    }) as Claim;
    if (status === "validated") state.validated.push(result);
    emit({ type: "claim_emitted", claim: result });
    return { claim_id: claim.id, status, result_claim_id: result.id, reasons } as const;
  });
  return { type: "verify", decisions };
}
