/**
 * What a reasoner is given, built one way from what the trace records: the question, the
 * understood query terms, the registered evidence with its text and rank, and the derive
 * step's parameters. The executor feeds the reasoner with it, and the verifier re-derives
 * with it (SPEC §5 rederive), so the two can never feed a reasoner differently.
 */
import type { EvidenceRef } from "../models/evidence.js";
import type { PlanNode } from "../models/plan.js";
import type { ReasonerInput } from "./reasoner.js";

export interface RecordedEvidence {
  ref: EvidenceRef;
  /** The evidence text, as the retrieve tool returned it. */
  text: string;
  rank: number;
}

/** A derive-step parameter, or null when the plan does not carry it as a number. */
function numberParam(params: PlanNode["params"], key: string): number | null {
  const v = params[key];
  return typeof v === "number" ? v : null;
}

/** The reasoner input, or a string naming the derive parameter that is missing. */
export function toReasonerInput(
  question: string,
  queryTerms: readonly string[],
  evidence: readonly RecordedEvidence[],
  deriveParams: PlanNode["params"],
): ReasonerInput | string {
  const minSupports = numberParam(deriveParams, "min_supports_per_claim");
  const maxCitations = numberParam(deriveParams, "max_citations");
  if (minSupports === null) return "min_supports_per_claim";
  if (maxCitations === null) return "max_citations";
  return {
    question,
    queryTerms,
    evidence: evidence.map((e) => ({
      id: e.ref.id,
      docId: e.ref.doc_id,
      span: e.ref.span,
      rank: e.rank,
      text: e.text,
    })),
    minSupports,
    maxCitations,
  };
}
