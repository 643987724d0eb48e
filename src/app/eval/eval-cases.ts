/**
 * One eval case (docs/design.md §7): a real run, written like any other, scored against the
 * suite's judgments; a case whose request the endpoint rejects is recorded as failed.
 */

import * as z from "zod";
import { InputError } from "../../core/errors.js";
import {
  answerHit,
  citationPrecision,
  mrrAt,
  ndcgAt,
  rationalePrecision,
  recallAt,
} from "../../core/eval/metrics.js";
import { Constraints } from "../../core/models/spec.js";
import type { Trace } from "../../core/models/trace.js";
import { zodToInputError } from "../../core/zod-errors.js";
import type { EvalCase, EvalInput } from "../../io/eval/eval-input.js";
import { ModelEndpointError, type Pacer } from "../../io/model/llm-endpoint.js";
import { runJob } from "../run/run-job.js";
import { checkSpec, indexParamsOf } from "../run/run-spec.js";
import { type EvalOptions, type EvalRetrievals, specOf } from "./eval-retrievals.js";

/** Ranking depth for Recall@100: documents, each ranked by its best chunk. */
const DOC_DEPTH = 100;

export interface CaseResult {
  case_id: string;
  /** Null for a failed case: its model call was rejected, so no run was made. */
  run_id: string | null;
  /** "failed": the endpoint rejected this case's request (see runCaseOrFailure); `error` says why. */
  status: "answered" | "insufficient_evidence" | "failed";
  verdict: "pass" | "fail";
  retrieved: string[];
  cited: string[];
  /** Whether the suite expects an answer (`expected.answerable`, true unless said otherwise). */
  answerable: boolean;
  /** The claim's confidence, or the best candidate's when the answer was insufficient (0 without one). */
  confidence: number;
  metrics: Record<string, number | null>;
  /** Why the case failed (status "failed" only). */
  error?: string;
}

const CASE_METRICS = [
  "ndcg_at_10",
  "recall_at_100",
  "mrr_at_10",
  "citation_precision",
  "rationale_precision",
  "answer_hit",
  "insufficient",
  "unanswerable_insufficient",
  "answerable_answered",
  "verification_pass",
] as const;

/**
 * Runs one case; when the endpoint rejects that case's request (HTTP 400, 413, 422: say its
 * context is too long), the case is recorded as failed with the reason and the eval goes on.
 * Nothing of the case is written (the call fails before its run is). Every other failure (the
 * endpoint unreachable, refusing the key, failing 5xx after retries) still ends the eval: it
 * would fail every case alike.
 */
export async function runCaseOrFailure(
  c: EvalCase,
  retrievals: EvalRetrievals,
  options: EvalOptions,
  pace?: Pacer,
): Promise<CaseResult> {
  try {
    return await runCase(c, retrievals, options, pace);
  } catch (error) {
    if (!rejectedByEndpoint(error)) throw error;
    return failedCase(c, error.message);
  }
}

/** Whether the endpoint rejected this one request as such (HTTP 400, 413, 422): the case fails, the eval goes on. */
export function rejectedByEndpoint(error: unknown): error is ModelEndpointError {
  return error instanceof ModelEndpointError && error.rejected !== undefined;
}

/** The result of a case whose model call the endpoint rejected: counted, never measured. */
export function failedCase(c: Pick<EvalCase, "case_id" | "expected">, error: string): CaseResult {
  return {
    case_id: c.case_id,
    run_id: null,
    status: "failed",
    verdict: "fail",
    retrieved: [],
    cited: [],
    answerable: c.expected.answerable !== false,
    confidence: 0,
    // Not measured: a failed case is counted (summary.failed_cases), never averaged in.
    metrics: Object.fromEntries(CASE_METRICS.map((k) => [k, null])),
    error,
  };
}

/** The confidence a run reports: its claim's, else the one its derive step judged insufficient. */
function confidenceOf(result: {
  answer: { claims: ReadonlyArray<{ confidence: number }> };
  trace: Trace;
}): number {
  const claim = result.answer.claims[0];
  if (claim !== undefined) return claim.confidence;
  for (const e of result.trace.events)
    if (e.type === "step_finished" && e.output.type === "insufficient_evidence")
      return e.output.confidence ?? 0;
  return 0;
}

/** Runs one case as a real run and scores it. Pure apart from the run it writes. */
export async function runCase(
  c: EvalCase,
  retrievals: EvalRetrievals,
  options: EvalOptions,
  pace?: Pacer,
): Promise<CaseResult & { run_id: string }> {
  const spec = specOf(c, await retrievals.snapshotHash(), options.overrides);
  const result = await runJob({
    spec,
    preset: options.preset,
    seed: 0,
    artifactsRoot: options.artifactsRoot,
    source: retrievals,
    ...(options.model === undefined
      ? {}
      : {
          model: {
            settings: options.model.settings,
            ...(pace === undefined ? {} : { pace }),
            ...(options.model.endpoint === undefined ? {} : { endpoint: options.model.endpoint }),
          },
        }),
  });
  // A case that needs no retrieval is still ranked, with the index its parameters name.
  const prepared = result.retrieval ?? (await retrievals.get(indexParamsOf(spec, options.preset)));
  const query = spec.constraints.query ?? spec.description;
  // Separate from the run, which only retrieves top_k chunks: the same index and query, to depth
  // 100 documents, each ranked by its best chunk (what rankDocuments takes from a deep enough chunk ranking).
  const index = prepared.backend.index;
  const ranked = index.searchDocuments(query, DOC_DEPTH).map((h) => h.docId);
  const cited = result.answer.claims.flatMap((claim) => claim.citations.map((q) => q.doc_id));
  const relevant = c.expected.relevant ?? {};
  const answerable = c.expected.answerable !== false;
  const insufficient = result.answer.status === "insufficient_evidence";
  const confidence = confidenceOf(result);
  return {
    case_id: c.case_id,
    run_id: result.runId,
    status: result.answer.status,
    verdict: result.report.verdict,
    retrieved: ranked.slice(0, 10),
    cited,
    answerable,
    confidence,
    metrics: {
      ndcg_at_10: ndcgAt(ranked, relevant, 10),
      recall_at_100: recallAt(ranked, relevant, 100),
      mrr_at_10: mrrAt(ranked, relevant, 10),
      citation_precision: citationPrecision(cited, relevant),
      rationale_precision: rationalePrecision(
        result.answer.claims.flatMap((claim) => claim.citations),
        c.rationales,
      ),
      answer_hit: answerHit(result.answer.answer, c.expected.answer_contains),
      insufficient: insufficient ? 1 : 0,
      unanswerable_insufficient: answerable ? null : insufficient ? 1 : 0,
      answerable_answered: answerable ? (insufficient ? 0 : 1) : null,
      verification_pass: result.report.verdict === "pass" ? 1 : 0,
      correct: correctness(answerable, insufficient, confidence, cited, relevant),
    },
  };
}

/**
 * Whether the case's best answer was right, for calibration: an answer citing a relevant
 * document first is right; any answer to an unanswerable case, and a case with no candidate at
 * all, is not. An answerable case declined with a candidate is unknown (null), since the
 * candidate's document is not an answer: run the eval with `--min-confidence 0` to judge every
 * case. Cases without judgments are unknown too.
 */
function correctness(
  answerable: boolean,
  insufficient: boolean,
  confidence: number,
  cited: readonly string[],
  relevant: Readonly<Record<string, number>>,
): number | null {
  if (!answerable) return 0;
  if (insufficient) return confidence === 0 ? 0 : null;
  if (!Object.values(relevant).some((g) => g > 0)) return null;
  return (relevant[cited[0] ?? ""] ?? 0) > 0 ? 1 : 0;
}

/**
 * Resolves every case's parameters before any run is written, so clashing constraints (say a
 * case's overlap_chars against --chunk-chars) are bad input naming the case, not a failure
 * half-way through (docs/design.md §9).
 */
/** Overrides come from flags: held to the schema of a spec's constraints, named as such. */
const Overrides = z.strictObject({ constraints: Constraints });

export function checkCases(input: EvalInput, options: EvalOptions): void {
  const overrides = Overrides.safeParse({ constraints: options.overrides });
  if (!overrides.success) throw zodToInputError(overrides.error, "E_USAGE", "<command line>");
  for (const c of input.cases) {
    try {
      checkSpec(specOf(c, "0".repeat(64), options.overrides), options.preset);
    } catch (error) {
      // Only a clash of constraints is the case's fault; a bad --preset is the command's.
      if (!(error instanceof InputError) || !error.where.field?.startsWith("constraints.")) throw error;
      throw new InputError(
        error.code,
        `case ${JSON.stringify(c.case_id)}: ${error.message}`,
        { ...c.where, ...(error.where.field === undefined ? {} : { field: error.where.field }) },
        error,
      );
    }
  }
}
