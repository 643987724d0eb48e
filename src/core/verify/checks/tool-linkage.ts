/** tool_linkage (INV-TLK-001): every call has exactly one result, after it, in the same step. */
import type { Check } from "../check.js";
import { error, type Issue } from "../issue.js";

export const toolLinkageCheck: Check = {
  name: "tool_linkage",
  invariant: "INV-TLK-001",
  description: "every tool call has exactly one result, after it, in the same step; no orphan results",
  run(view) {
    const issues: Issue[] = [];
    const calls = new Map<string, { node: string; returned: number }>();
    let count = 0;
    for (const e of view.trace?.events ?? []) {
      if (e.type === "tool_called") {
        count++;
        if (calls.has(e.call.id)) issues.push(error("CALL_TWICE", `call ${e.call.id} recorded twice`));
        if (e.call.node_id !== e.node_id)
          issues.push(error("CALL_STEP", `call ${e.call.id} names another step`));
        calls.set(e.call.id, { node: e.node_id, returned: 0 });
      } else if (e.type === "tool_returned") {
        const call = calls.get(e.result.call_id);
        if (call === undefined)
          issues.push(error("ORPHAN_RESULT", `result at event ${e.idx} has no earlier call`));
        else {
          call.returned++;
          if (call.node !== e.node_id)
            issues.push(error("RESULT_STEP", `result at event ${e.idx} is in another step than its call`));
        }
      }
    }
    for (const [id, call] of calls) {
      if (call.returned !== 1) issues.push(error("RESULT_COUNT", `call ${id} has ${call.returned} results`));
    }
    return { issues, details: `${count} tool call(s) linked`, metrics: { calls: count } };
  },
};
