/**
 * tool_linkage (INV-TLK-001): every call has exactly one result, after it, in the same step;
 * no orphan results. Each call is the plan's tool request at its index, so a trace cannot
 * record a call (another query, another top_k) that the plan never asked for.
 */
import { canonicalJson } from "../../canonical.js";
import type { Check } from "../check.js";
import { type Finding, finding } from "../findings.js";

export const toolLinkageCheck: Check = {
  name: "tool_linkage",
  invariant: "INV-TLK-001",
  description:
    "every tool call is a planned request and has exactly one result, after it, in the same step; no orphan results",
  run(view) {
    const findings: Finding[] = [];
    const nodes = new Map((view.plan?.nodes ?? []).map((n) => [n.id, n]));
    const calls = new Map<string, { node: string; returned: number }>();
    const called = new Set<string>();
    const startedSteps = new Set<string>();
    for (const e of view.trace?.events ?? []) {
      if (e.type === "step_started") startedSteps.add(e.node_id);
      if (e.type === "tool_called") {
        const { call } = e;
        if (calls.has(call.id)) findings.push(finding("CALL_TWICE", { call: call.id }));
        if (call.node_id !== e.node_id) findings.push(finding("CALL_STEP", { call: call.id }));
        calls.set(call.id, { node: e.node_id, returned: 0 });
        const node = nodes.get(call.node_id);
        const request = node?.tool_requests[call.index];
        if (
          node !== undefined &&
          (request === undefined ||
            request.tool !== call.tool ||
            canonicalJson(request.args) !== canonicalJson(call.args))
        ) {
          findings.push(finding("CALL_NOT_PLANNED", { call: call.id, kind: node.kind, index: call.index }));
        }
        called.add(`${call.node_id}#${call.index}`);
      } else if (e.type === "tool_returned") {
        const call = calls.get(e.result.call_id);
        if (call === undefined) findings.push(finding("ORPHAN_RESULT", { event: e.idx }));
        else {
          call.returned++;
          if (call.node !== e.node_id) findings.push(finding("RESULT_STEP", { event: e.idx }));
        }
      }
    }
    for (const [id, call] of calls)
      if (call.returned !== 1) findings.push(finding("RESULT_COUNT", { call: id, results: call.returned }));
    // A step that ran made every call its plan node requests (trace_order reports steps that never ran).
    for (const node of nodes.values()) {
      if (!startedSteps.has(node.id)) continue;
      for (const [index, request] of node.tool_requests.entries())
        if (!called.has(`${node.id}#${index}`))
          findings.push(finding("REQUEST_NOT_CALLED", { kind: node.kind, index, tool: request.tool }));
    }
    return {
      findings,
      details: `${calls.size} tool call(s) linked to the plan`,
      metrics: { calls: calls.size },
    };
  },
};
