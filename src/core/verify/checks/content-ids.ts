/** content_ids (INV-ID-001): every id recomputes from the object it names (SPEC §2). */
import { contentId, type IdKind } from "../../canonical.js";
import type { Check } from "../check.js";
import { error, type Issue } from "../issue.js";

export const contentIdsCheck: Check = {
  name: "content_ids",
  invariant: "INV-ID-001",
  description: "every id (spec, plan, node, call, evidence, claim, trace, run, report) recomputes",
  run(view) {
    const issues: Issue[] = [];
    let checked = 0;
    const expect = (kind: IdKind, object: { id?: string } | Record<string, unknown>, what: string) => {
      checked++;
      const recorded = (object as { id?: unknown }).id;
      const actual = contentId(kind, object as Record<string, unknown>);
      if (recorded !== actual)
        issues.push(error("ID_MISMATCH", `${what}: recorded ${String(recorded)}, recomputed ${actual}`));
    };
    if (view.spec) expect("spec", view.spec, "spec.json");
    if (view.plan) {
      expect("plan", view.plan, "plan.json");
      for (const node of view.plan.nodes) expect("node", node, `plan node ${node.kind}`);
    }
    for (const e of view.trace?.events ?? []) {
      if (e.type === "tool_called") expect("call", e.call, `tool call at event ${e.idx}`);
      if (e.type === "evidence_registered") expect("ev", e.evidence, `evidence at event ${e.idx}`);
      if (e.type === "claim_emitted") expect("claim", e.claim, `claim at event ${e.idx}`);
    }
    if (view.trace && view.run) {
      checked++;
      const traceId = contentId("trace", { header: view.trace.header, events: view.trace.events });
      if (view.run.trace_id !== traceId)
        issues.push(
          error("ID_MISMATCH", `trace: run.json records ${view.run.trace_id}, recomputed ${traceId}`),
        );
    }
    if (view.run) {
      checked++;
      const runId = contentId("run", view.run.inputs);
      if (view.run.run_id !== runId)
        issues.push(error("ID_MISMATCH", `run: run.json records ${view.run.run_id}, recomputed ${runId}`));
    }
    if (view.report) expect("report", view.report, "report.json");
    return { issues, details: `${checked} ids recomputed`, metrics: { ids: checked } };
  },
};
