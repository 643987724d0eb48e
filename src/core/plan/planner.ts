/**
 * The default planner (docs/design.md §3.1): ProblemSpec -> Plan, pure. It always emits the five
 * node kinds as a chain; a preset only changes parameters, never structure. The plan lists its
 * nodes in the order they run (plan/topo.ts, checked here), so the executor runs them as listed.
 */
import { withId } from "../canonical.js";
import { InputError } from "../errors.js";
import type { Plan, PlanNode, ToolRequest } from "../models/plan.js";
import { PLAN_VERSION } from "../models/plan.js";
import type { ProblemSpec } from "../models/spec.js";
import { DEFAULT_MIN_CONFIDENCE } from "../reason/extractive.js";
import { DEFAULT_BASE_URL, DEFAULT_TEMPERATURE, withoutCredentials } from "../reason/llm.js";
import { type IndexParams, pickIndexParams } from "../retrieval/index-params.js";
import { topoOrder } from "./topo.js";

/** Every parameter a run uses, after preset defaults and spec constraints are merged. */
export interface ResolvedParams extends IndexParams {
  query: string;
  needs_retrieval: boolean;
  top_k: number;
  min_supports_per_claim: number;
  max_citations: number;
  min_confidence: number;
  /** The llm reasoner's model, endpoint (without credentials) and temperature; null for extractive. */
  llm: { model: string; base_url: string; temperature: number } | null;
}

type PresetParams = Omit<ResolvedParams, "query" | "needs_retrieval" | "llm">;

/** The llm reasoner's settings, or null for the extractive one; a setting without its reasoner is an error. */
function llmParams(c: ProblemSpec["constraints"]): ResolvedParams["llm"] {
  if (c.reasoner !== "llm") {
    for (const key of ["model", "base_url", "temperature"] as const)
      if (c[key] !== undefined)
        throw new InputError(
          "E_SPEC_INVALID",
          `${key} is a setting of the llm reasoner: add reasoner "llm" (--reasoner llm)`,
          {
            field: `constraints.${key}`,
          },
        );
    return null;
  }
  if (c.model === undefined)
    throw new InputError("E_SPEC_INVALID", "the llm reasoner needs a model (--model NAME)", {
      field: "constraints.model",
    });
  // The extractive reasoner's threshold has no meaning for a model's answer: refused, not ignored.
  if (c.min_confidence !== undefined)
    throw new InputError("E_SPEC_INVALID", "min_confidence applies to the extractive reasoner only", {
      field: "constraints.min_confidence",
    });
  return {
    model: c.model,
    base_url: withoutCredentials(c.base_url ?? DEFAULT_BASE_URL),
    temperature: c.temperature ?? DEFAULT_TEMPERATURE,
  };
}

const BASE: PresetParams = {
  top_k: 5,
  min_supports_per_claim: 1,
  max_citations: 2,
  chunk_chars: 800,
  overlap_chars: 200,
  bm25_k1: 1.2,
  bm25_b: 0.75,
  analyzer: "english",
  index_titles: true,
  min_confidence: DEFAULT_MIN_CONFIDENCE,
};

export const PRESETS: Readonly<Record<string, PresetParams>> = {
  default: BASE,
  /** One citation from the top three chunks: the fastest answer. */
  quick: { ...BASE, top_k: 3, max_citations: 1 },
  /** Ten chunks, and two independent supports required for a claim. */
  thorough: { ...BASE, top_k: 10, min_supports_per_claim: 2, max_citations: 3 },
};

export const DEFAULT_PRESET = "default";

export function resolveParams(spec: ProblemSpec, preset: string): ResolvedParams {
  // Own keys only: "__proto__", "constructor" or "toString" must not find Object.prototype.
  const base = Object.hasOwn(PRESETS, preset) ? PRESETS[preset] : undefined;
  if (base === undefined) {
    throw new InputError(
      "E_USAGE",
      `unknown preset ${JSON.stringify(preset)}; known: ${Object.keys(PRESETS).join(", ")}`,
      {
        field: "preset",
      },
    );
  }
  const c = spec.constraints;
  const params: ResolvedParams = {
    query: c.query ?? spec.description,
    needs_retrieval: c.needs_retrieval ?? c.corpus !== undefined,
    top_k: c.top_k ?? base.top_k,
    min_supports_per_claim: c.min_supports_per_claim ?? base.min_supports_per_claim,
    max_citations: c.max_citations ?? base.max_citations,
    chunk_chars: c.chunk_chars ?? base.chunk_chars,
    overlap_chars: c.overlap_chars ?? base.overlap_chars,
    bm25_k1: c.bm25_k1 ?? base.bm25_k1,
    bm25_b: c.bm25_b ?? base.bm25_b,
    analyzer: c.analyzer ?? base.analyzer,
    index_titles: c.index_titles ?? base.index_titles,
    min_confidence: c.min_confidence ?? base.min_confidence,
    llm: llmParams(c),
  };
  if (params.overlap_chars >= params.chunk_chars) {
    throw new InputError("E_SPEC_INVALID", "overlap_chars must be smaller than chunk_chars", {
      field: "constraints.overlap_chars",
    });
  }
  if (params.max_citations < params.min_supports_per_claim) {
    throw new InputError(
      "E_SPEC_INVALID",
      `max_citations (${params.max_citations}) is below min_supports_per_claim (${params.min_supports_per_claim}): no claim could ever be grounded`,
      { field: "constraints.max_citations" },
    );
  }
  if (params.needs_retrieval && c.corpus === undefined) {
    throw new InputError("E_SPEC_INVALID", "needs_retrieval is true but no corpus is given", {
      field: "constraints.corpus",
    });
  }
  return params;
}

function node(kind: PlanNode["kind"], deps: string[], params: PlanNode["params"], tools: ToolRequest[] = []) {
  return withId("node", { kind, deps, params, tool_requests: tools }) as PlanNode;
}

export function planFor(spec: ProblemSpec & { id: string }, preset: string): Plan {
  const p = resolveParams(spec, preset);
  const understand = node("understand", [], { question: spec.description, query: p.query });
  const retrieval = p.needs_retrieval
    ? [{ tool: "retrieve", args: { query: p.query, top_k: p.top_k, ...pickIndexParams(p) } }]
    : [];
  const gather = node("gather", [understand.id], { top_k: p.top_k, ...pickIndexParams(p) }, retrieval);
  const derive = node("derive", [gather.id], {
    ...(p.llm === null ? { reasoner: "extractive" } : { reasoner: "llm", ...p.llm }),
    min_supports_per_claim: p.min_supports_per_claim,
    max_citations: p.max_citations,
    // Only when the spec sets it: a default plan stays what it was before min_confidence
    // existed (so older runs re-plan and replay identically); the reasoner's default applies.
    ...(spec.constraints.min_confidence === undefined ? {} : { min_confidence: p.min_confidence }),
  });
  const verify = node("verify", [derive.id], { min_supports_per_claim: p.min_supports_per_claim });
  const finalize = node("finalize", [verify.id], {});
  return withId("plan", {
    version: PLAN_VERSION,
    spec_id: spec.id,
    preset,
    nodes: topoOrder([understand, gather, derive, verify, finalize]),
  }) as Plan;
}
