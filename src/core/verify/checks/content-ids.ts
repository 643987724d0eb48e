/** content_ids (INV-ID-001): every id recomputes from the object it names (docs/design.md §2). */
import { contentId, type IdKind } from "../../canonical.js";
import type { Check } from "../check.js";
import { type Finding, finding } from "../findings.js";

export const contentIdsCheck: Check = {
  name: "content_ids",
  readsSeal: true,
  invariant: "INV-ID-001",
  description: "every id (spec, plan, node, call, evidence, claim, trace, run, report) recomputes",
  run(view) {
    const findings: Finding[] = [];
    let checked = 0;
    const expect = (what: string, recorded: unknown, recomputed: string) => {
      checked++;
      if (recorded !== recomputed)
        findings.push(finding("ID_MISMATCH", { what, recorded: String(recorded), recomputed }));
    };
    const own = (kind: IdKind, object: object, what: string) =>
      expect(what, (object as { id?: unknown }).id, contentId(kind, object as Record<string, unknown>));
    if (view.spec) own("spec", view.spec, "spec.json");
    if (view.plan) {
      own("plan", view.plan, "plan.json");
      for (const node of view.plan.nodes) own("node", node, `plan node ${node.kind}`);
    }
    for (const e of view.trace?.events ?? []) {
      if (e.type === "tool_called") own("call", e.call, `tool call at event ${e.idx}`);
      if (e.type === "evidence_registered") own("ev", e.evidence, `evidence at event ${e.idx}`);
      if (e.type === "claim_emitted") own("claim", e.claim, `claim at event ${e.idx}`);
    }
    // trace and run ids are recorded in run.json, not inside the objects they name.
    if (view.trace && view.run)
      expect(
        "trace (run.json trace_id)",
        view.run.trace_id,
        contentId("trace", { header: view.trace.header, events: view.trace.events }),
      );
    if (view.run) expect("run (run.json run_id)", view.run.run_id, contentId("run", view.run.inputs));
    if (view.report) own("report", view.report, "report.json");
    return { findings, details: `${checked} ids recomputed`, metrics: { ids: checked } };
  },
};
