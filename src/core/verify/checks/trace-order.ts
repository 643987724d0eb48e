/**
 * trace_order (INV-ORD-002): idx contiguous from 0; each plan node started and finished
 * exactly once, in a valid topological order; a step's events lie between its start and finish.
 */
import type { Check } from "../check.js";
import { error, type Issue } from "../issue.js";

export const traceOrderCheck: Check = {
  name: "trace_order",
  invariant: "INV-ORD-002",
  description: "idx contiguous from 0; every plan node started and finished once, in dependency order",
  run(view) {
    if (view.trace === null || view.plan === null) {
      return {
        issues: [error("MISSING_INPUT", "no readable trace or plan")],
        details: "trace or plan unreadable",
      };
    }
    const issues: Issue[] = [];
    const nodes = new Map(view.plan.nodes.map((n) => [n.id, n]));
    const finished = new Set<string>();
    const started = new Set<string>();
    let open: string | null = null;
    view.trace.events.forEach((e, i) => {
      if (e.idx !== i) issues.push(error("IDX_GAP", `event ${i} has idx ${e.idx}`));
      const node = nodes.get(e.node_id);
      if (node === undefined) {
        issues.push(error("UNKNOWN_NODE", `event ${i} names a node that is not in the plan`));
        return;
      }
      if (e.type === "step_started") {
        if (open !== null)
          issues.push(error("NESTED_STEP", `event ${i} starts ${node.kind} while another step is open`));
        if (started.has(node.id)) issues.push(error("STEP_TWICE", `${node.kind} started twice`));
        for (const dep of node.deps) {
          if (!finished.has(dep))
            issues.push(error("DEPENDENCY_ORDER", `${node.kind} started before its dependency finished`));
        }
        if (e.kind !== node.kind)
          issues.push(error("STEP_KIND", `event ${i} says ${e.kind}, the plan says ${node.kind}`));
        started.add(node.id);
        open = node.id;
      } else if (open !== e.node_id) {
        issues.push(error("OUTSIDE_STEP", `event ${i} (${e.type}) lies outside its step`));
      } else if (e.type === "step_finished") {
        finished.add(node.id);
        open = null;
      }
    });
    for (const node of view.plan.nodes) {
      if (!finished.has(node.id)) issues.push(error("STEP_UNFINISHED", `${node.kind} never finished`));
    }
    return {
      issues,
      details: `${view.trace.events.length} events, ${finished.size} steps`,
      metrics: { events: view.trace.events.length },
    };
  },
};
