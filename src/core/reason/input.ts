/**
 * What a reasoner is given, built one way from what the trace records: the question, the
 * understood query terms, the registered evidence with its text and rank, and the derive
 * step's parameters. The executor feeds the reasoner with it, and the verifier re-derives
 * with it (docs/design.md §5 rederive), so the two can never feed a reasoner differently.
 */
import type { EvidenceRef } from "../models/evidence.js";
import type { PlanNode } from "../models/plan.js";
import type { TermStats } from "../models/trace.js";
import type { LlmInput, ReasonerInput } from "./reasoner.js";

export interface RecordedEvidence {
  ref: EvidenceRef;
  /** The evidence text, as the retrieve tool returned it. */
  text: string;
  rank: number;
  /** The document's title, when the retrieve tool recorded one. */
  title: string | undefined;
}

/** A derive-step parameter, or null when the plan does not carry it as a number. */
function numberParam(params: PlanNode["params"], key: string): number | null {
  const v = params[key];
  return typeof v === "number" ? v : null;
}

/** What the llm reasoner needs beside the plan: the run's seed and the recorded call, if any. */
export interface ModelContext {
  seed: number;
  call?: LlmInput["call"];
}

/** The llm parameters of a derive step ("llm" reasoner only), or a string naming what is missing. */
function llmInput(params: PlanNode["params"], context: ModelContext): LlmInput | string | undefined {
  if (params.reasoner !== "llm") return undefined;
  const { model, base_url: baseUrl } = params;
  const temperature = numberParam(params, "temperature");
  if (typeof model !== "string") return "model";
  if (typeof baseUrl !== "string") return "base_url";
  if (temperature === null) return "temperature";
  return {
    model,
    baseUrl,
    temperature,
    seed: context.seed,
    ...(context.call === undefined ? {} : { call: context.call }),
  };
}

/** The reasoner input, or a string naming the derive parameter that is missing. */
export function toReasonerInput(
  question: string,
  queryTerms: readonly string[],
  evidence: readonly RecordedEvidence[],
  deriveParams: PlanNode["params"],
  termStats: TermStats | undefined,
  model: ModelContext = { seed: 0 },
): ReasonerInput | string {
  const minSupports = numberParam(deriveParams, "min_supports_per_claim");
  const maxCitations = numberParam(deriveParams, "max_citations");
  if (minSupports === null) return "min_supports_per_claim";
  if (maxCitations === null) return "max_citations";
  // Plans made before min_confidence existed leave it to the reasoner's default.
  const minConfidence =
    "min_confidence" in deriveParams ? numberParam(deriveParams, "min_confidence") : undefined;
  if (minConfidence === null) return "min_confidence";
  const llm = llmInput(deriveParams, model);
  if (typeof llm === "string") return llm;
  return {
    question,
    queryTerms,
    evidence: evidence.map((e) => ({
      id: e.ref.id,
      docId: e.ref.doc_id,
      span: e.ref.span,
      rank: e.rank,
      text: e.text,
      ...(e.title === undefined ? {} : { title: e.title }),
    })),
    minSupports,
    maxCitations,
    ...(minConfidence === undefined ? {} : { minConfidence }),
    ...(termStats === undefined ? {} : { termStats }),
    ...(llm === undefined ? {} : { llm }),
  };
}
