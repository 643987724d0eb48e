/**
 * plan_dag (INV-ORD-001): node ids unique, dependencies exist, no cycle; and the plan is the
 * one the planner makes from spec.json and the recorded preset (issue 19 item 3), so every
 * parameter a step runs with (query, top_k, index parameters, max_citations, min_confidence,
 * the model settings) follows from the spec, not from a file a forger can re-seal.
 */
import { canonicalJson } from "../../canonical.js";
import type { Plan } from "../../models/plan.js";
import type { ProblemSpec } from "../../models/spec.js";
import { planFor } from "../../plan/planner.js";
import { dagProblems } from "../../plan/topo.js";
import type { Check } from "../check.js";
import { finding } from "../findings.js";

export const planDagCheck: Check = {
  name: "plan_dag",
  invariant: "INV-ORD-001",
  description: "node ids unique, dependencies exist, no cycle; the plan is the one the spec and preset make",
  run(view) {
    if (view.plan === null)
      return { findings: [finding("MISSING_INPUT", { inputs: ["plan.json"] })], details: "plan unreadable" };
    const findings = dagProblems(view.plan.nodes).map((problem) => finding("PLAN_NOT_DAG", { problem }));
    if (view.spec && view.plan.spec_id !== view.spec.id) findings.push(finding("PLAN_SPEC_MISMATCH", {}));
    if (view.spec) {
      const detail = planDifference(view.spec, view.plan);
      if (detail !== null) findings.push(finding("PLAN_RECOMPUTED", { detail }));
    }
    return {
      findings,
      details: `${view.plan.nodes.length} nodes`,
      metrics: { nodes: view.plan.nodes.length },
    };
  },
};

/** Where the recorded plan differs from a fresh one, or null when they are the same bytes. */
function planDifference(spec: ProblemSpec & { id: string }, plan: Plan): string | null {
  let fresh: Plan;
  try {
    fresh = planFor(spec, plan.preset);
  } catch (e) {
    // The spec or preset is refused by the planner: no release could have planned this run.
    return e instanceof Error ? e.message : String(e);
  }
  if (canonicalJson(fresh) === canonicalJson(plan)) return null;
  for (const [i, node] of fresh.nodes.entries()) {
    const recorded = plan.nodes[i];
    if (recorded === undefined || recorded.kind !== node.kind) return `step ${i + 1} is not ${node.kind}`;
    for (const key of [...new Set([...Object.keys(node.params), ...Object.keys(recorded.params)])].sort())
      if (canonicalJson(node.params[key] ?? null) !== canonicalJson(recorded.params[key] ?? null))
        return `the ${node.kind} step's ${key}`;
    if (canonicalJson(node.tool_requests) !== canonicalJson(recorded.tool_requests))
      return `the ${node.kind} step's tool requests`;
  }
  return plan.nodes.length !== fresh.nodes.length
    ? `${plan.nodes.length} steps, ${fresh.nodes.length} planned`
    : "ids or order";
}
