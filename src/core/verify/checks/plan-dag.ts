/** plan_dag (INV-ORD-001): node ids unique, dependencies exist, no cycle. */
import { dagProblems } from "../../plan/topo.js";
import type { Check } from "../check.js";
import { finding } from "../findings.js";

export const planDagCheck: Check = {
  name: "plan_dag",
  invariant: "INV-ORD-001",
  description: "node ids unique, dependencies exist, no cycle; the plan belongs to the spec",
  run(view) {
    if (view.plan === null)
      return { findings: [finding("MISSING_INPUT", { inputs: ["plan.json"] })], details: "plan unreadable" };
    const findings = dagProblems(view.plan.nodes).map((problem) => finding("PLAN_NOT_DAG", { problem }));
    if (view.spec && view.plan.spec_id !== view.spec.id) findings.push(finding("PLAN_SPEC_MISMATCH", {}));
    return {
      findings,
      details: `${view.plan.nodes.length} nodes`,
      metrics: { nodes: view.plan.nodes.length },
    };
  },
};
