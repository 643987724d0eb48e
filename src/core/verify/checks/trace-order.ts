/**
 * trace_order (INV-ORD-002): idx contiguous from 0; each plan node started and finished
 * exactly once, in a valid topological order; a step's events lie between its start and
 * finish, and it finishes with the typed output its kind produces (docs/design.md §2, §3.2).
 */
import type { NodeKind } from "../../models/plan.js";
import type { StepOutput } from "../../models/trace.js";
import type { Check } from "../check.js";
import { type Finding, finding } from "../findings.js";

/** derive is the one step with two possible outcomes: a claim or an insufficiency marker (docs/design.md §3.4). */
const OUTPUTS: Record<NodeKind, ReadonlyArray<StepOutput["type"]>> = {
  understand: ["understand"],
  gather: ["gather"],
  derive: ["derive", "insufficient_evidence"],
  verify: ["verify"],
  finalize: ["finalize"],
};

export const traceOrderCheck: Check = {
  name: "trace_order",
  invariant: "INV-ORD-002",
  description: "idx contiguous from 0; every plan node started and finished once, in dependency order",
  run(view) {
    if (view.trace === null || view.plan === null) {
      return {
        findings: [finding("MISSING_INPUT", { inputs: ["trace.jsonl", "plan.json"] })],
        details: "trace or plan unreadable",
      };
    }
    const findings: Finding[] = [];
    const nodes = new Map(view.plan.nodes.map((n) => [n.id, n]));
    const finished = new Set<string>();
    const started = new Set<string>();
    let open: string | null = null;
    for (const [i, e] of view.trace.events.entries()) {
      if (e.idx !== i) findings.push(finding("IDX_GAP", { event: i, idx: e.idx }));
      const node = nodes.get(e.node_id);
      if (node === undefined) {
        findings.push(finding("UNKNOWN_NODE", { event: i }));
        continue;
      }
      if (e.type === "step_started") {
        if (open !== null) findings.push(finding("NESTED_STEP", { event: i, kind: node.kind }));
        if (started.has(node.id)) findings.push(finding("STEP_TWICE", { kind: node.kind }));
        if (node.deps.some((dep) => !finished.has(dep)))
          findings.push(finding("DEPENDENCY_ORDER", { kind: node.kind }));
        if (e.kind !== node.kind)
          findings.push(finding("STEP_KIND", { event: i, recorded: e.kind, planned: node.kind }));
        started.add(node.id);
        open = node.id;
      } else if (open !== e.node_id) {
        findings.push(finding("OUTSIDE_STEP", { event: i, type: e.type }));
      } else if (e.type === "step_finished") {
        if (e.kind !== node.kind)
          findings.push(finding("STEP_KIND", { event: i, recorded: e.kind, planned: node.kind }));
        if (!OUTPUTS[node.kind].includes(e.output.type))
          findings.push(finding("STEP_OUTPUT", { event: i, kind: node.kind, output: e.output.type }));
        finished.add(node.id);
        open = null;
      }
    }
    for (const node of view.plan.nodes)
      if (!finished.has(node.id)) findings.push(finding("STEP_UNFINISHED", { kind: node.kind }));
    return {
      findings,
      details: `${view.trace.events.length} events, ${finished.size} steps`,
      metrics: { events: view.trace.events.length },
    };
  },
};
