/** plan_dag (INV-ORD-001): node ids unique, dependencies exist, no cycle. */
import { dagProblems } from "../../pipeline/topo.js";
import type { Check } from "../check.js";
import { error } from "../issue.js";

export const planDagCheck: Check = {
  name: "plan_dag",
  invariant: "INV-ORD-001",
  description: "node ids unique, dependencies exist, no cycle; the plan belongs to the spec",
  run(view) {
    if (view.plan === null)
      return { issues: [error("MISSING_INPUT", "no readable plan")], details: "plan unreadable" };
    const issues = dagProblems(view.plan.nodes).map((p) => error("PLAN_NOT_DAG", p));
    if (view.spec && view.plan.spec_id !== view.spec.id)
      issues.push(error("PLAN_SPEC_MISMATCH", "plan.spec_id is not the spec's id"));
    return { issues, details: `${view.plan.nodes.length} nodes`, metrics: { nodes: view.plan.nodes.length } };
  },
};
