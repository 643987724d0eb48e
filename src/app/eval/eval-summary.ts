/**
 * What an eval reports (docs/design.md §7): summary.json, from the suite's judgments of every
 * case, and timings.json, which nothing compares.
 */
import {
  auroc,
  expectedCalibrationError,
  type Judged,
  mean,
  reliabilityTable,
  riskCoverage,
  riskCoverageArea,
} from "../../core/eval/metrics.js";
import type { ProblemSpec } from "../../core/models/spec.js";
import { withoutCredentials } from "../../core/reason/llm.js";
import type { EvalInput } from "../../io/eval/eval-input.js";
import type { CaseResult } from "./eval-cases.js";
import type { EvalOptions } from "./eval-retrievals.js";

/** The overrides as the summary records them: a base URL without user:password. */
function publicOverrides(overrides: ProblemSpec["constraints"]): ProblemSpec["constraints"] {
  return overrides.base_url === undefined
    ? overrides
    : { ...overrides, base_url: withoutCredentials(overrides.base_url) };
}

/** The judged cases (correct known), in suite order. */
function judged(cases: readonly CaseResult[]): Judged[] {
  return cases.flatMap((c) => {
    const correct = c.metrics.correct;
    return correct === 0 || correct === 1 ? [{ confidence: c.confidence, correct }] : [];
  });
}

/** Thresholds the summary's risk–coverage table is given at: 0.05 to 0.95, and 0. */
const CURVE_THRESHOLDS = [0, ...Array.from({ length: 19 }, (_, i) => (i + 1) / 20)];

/**
 * Calibration of the judged cases: the reliability table (10 bins) and the risk–coverage curve
 * at fixed thresholds (what answering only cases at or above each confidence would cover, and
 * how many of those answers would be wrong).
 */
export function calibrationOf(cases: readonly CaseResult[]) {
  const js = judged(cases);
  const curve = riskCoverage(js);
  return {
    judged_cases: js.length,
    reliability: reliabilityTable(js),
    risk_coverage: CURVE_THRESHOLDS.map((t) => {
      const p = curve.filter((q) => q.threshold >= t).at(-1);
      return { threshold: t, coverage: p?.coverage ?? 0, risk: p?.risk ?? null };
    }),
  };
}

/**
 * summary.json: what the suite, preset and overrides determine, and nothing else. The worker
 * count and the queue are left out on purpose (they change how long an eval takes, never its
 * results), so a local and a distributed eval of one suite write the same bytes.
 */
export function summarize(input: EvalInput, cases: readonly CaseResult[], options: EvalOptions) {
  const m = (key: string) => mean(cases.map((c) => c.metrics[key] ?? null));
  return {
    suite: input.name,
    kind: input.kind,
    cases: cases.length,
    /** Cases whose model call the endpoint rejected: no run, no metrics, listed in cases.jsonl. */
    failed_cases: cases.filter((c) => c.status === "failed").length,
    config: { preset: options.preset, overrides: publicOverrides(options.overrides) },
    metrics: {
      ndcg_at_10: m("ndcg_at_10"),
      recall_at_100: m("recall_at_100"),
      mrr_at_10: m("mrr_at_10"),
      citation_precision: m("citation_precision"),
      rationale_precision: m("rationale_precision"),
      answer_hit_rate: m("answer_hit"),
      insufficiency_rate: m("insufficient"),
      /** Share of cases marked `answerable: false` answered "insufficient evidence". */
      unanswerable_insufficient_rate: m("unanswerable_insufficient"),
      /** Share of the other (answerable) cases that were answered. */
      answerable_answered_rate: m("answerable_answered"),
      /** How well confidence separates answerable from unanswerable cases (0.5 = not at all). */
      confidence_auroc: (() => {
        // A failed case has no confidence of its own (no run): it is counted, never scored.
        const scored = cases.filter((c) => c.status !== "failed");
        const value = auroc(scored.map((c) => ({ answerable: c.answerable, confidence: c.confidence })));
        return { mean: value, cases: value === null ? 0 : scored.length };
      })(),
      verification_pass_rate: m("verification_pass"),
      /** Share of judged cases whose best answer was right (see `correct`). */
      judged_accuracy: m("correct"),
      /** Expected calibration error of confidence against `correct` (10 bins; lower is better). */
      calibration_ece: (() => {
        const js = judged(cases);
        return { mean: expectedCalibrationError(js), cases: js.length };
      })(),
      /** Area under the risk–coverage curve (lower is better). */
      risk_coverage_area: (() => {
        const js = judged(cases);
        return { mean: riskCoverageArea(js), cases: js.length };
      })(),
    },
    calibration: calibrationOf(cases),
  };
}

export type EvalSummary = ReturnType<typeof summarize>;

/** Where the cases ran: worker threads of this process, or workers behind a queue. */
export type EvalTopology = { workers: number } | { queue: true };

/** timings.json: time is real but volatile; it is reported, never gated, never compared. */
export function evalTimings(cases: number, seconds: number, topology: EvalTopology) {
  return {
    seconds: Math.round(seconds * 1000) / 1000,
    run_time_ms_per_case: cases === 0 ? null : Math.round((seconds * 1000 * 100) / cases) / 100,
    workers: "workers" in topology ? topology.workers : null,
    queue: "queue" in topology,
  };
}

export type EvalTimings = ReturnType<typeof evalTimings>;
