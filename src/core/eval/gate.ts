/** The regression gate (docs/design.md §7): metrics worse than a baseline by more than a tolerance. */

/** Higher is better for every gated metric except insufficiency_rate, calibration_ece and risk_coverage_area. Run time is never gated. */
export const GATED_METRICS: Readonly<Record<string, "higher" | "lower">> = {
  ndcg_at_10: "higher",
  recall_at_100: "higher",
  mrr_at_10: "higher",
  citation_precision: "higher",
  rationale_precision: "higher",
  answer_hit_rate: "higher",
  verification_pass_rate: "higher",
  insufficiency_rate: "lower",
  unanswerable_insufficient_rate: "higher",
  answerable_answered_rate: "higher",
  confidence_auroc: "higher",
  calibration_ece: "lower",
  risk_coverage_area: "lower",
};

export interface Regression {
  metric: string;
  baseline: number;
  current: number | null;
  tolerance: number;
}

export function regressions(
  baseline: Readonly<Record<string, { mean: number | null }>>,
  current: Readonly<Record<string, { mean: number | null }>>,
  tolerance: number,
): Regression[] {
  const out: Regression[] = [];
  for (const [metric, direction] of Object.entries(GATED_METRICS)) {
    const before = baseline[metric]?.mean;
    if (before === null || before === undefined) continue;
    const after = current[metric]?.mean ?? null;
    const worse =
      after === null || (direction === "higher" ? after < before - tolerance : after > before + tolerance);
    if (worse) out.push({ metric, baseline: before, current: after, tolerance });
  }
  return out;
}
