/**
 * outcome (INV-OUT-001): exactly one of a derived claim or an insufficiency marker; finalize
 * present; the final answer uses validated claims only, and all of them (docs/design.md §3.6): an
 * answer is never withheld while a claim stands. answer.json is recomputed as the trace's view.
 */

import { answerView, evidenceTexts } from "../../artifact/projections.js";
import { canonicalJson } from "../../canonical.js";
import type { Check } from "../check.js";
import { type Finding, finding } from "../findings.js";

export const outcomeCheck: Check = {
  name: "outcome",
  invariant: "INV-OUT-001",
  description:
    "one derived claim or one insufficiency marker; the final answer uses exactly the validated claims",
  run(view) {
    if (view.trace === null)
      return {
        findings: [finding("MISSING_INPUT", { inputs: ["trace.jsonl"] })],
        details: "trace unreadable",
      };
    const findings: Finding[] = [];
    const outputs = view.trace.events.flatMap((e) => (e.type === "step_finished" ? [e.output] : []));
    const derivations = outputs.filter((o) => o.type === "derive").length;
    const markers = outputs.filter((o) => o.type === "insufficient_evidence").length;
    if (derivations + markers !== 1) findings.push(finding("OUTCOME_COUNT", { derivations, markers }));
    const finals = outputs.flatMap((o) => (o.type === "finalize" ? [o] : []));
    const final = finals[0];
    if (finals.length !== 1 || final === undefined) {
      findings.push(finding("FINALIZE_COUNT", { count: finals.length }));
      return { findings, details: "no single final answer" };
    }
    const validated = view.claims.filter((c) => c.status === "validated");
    const validatedIds = new Set(validated.map((c) => c.id));
    for (const id of final.claim_ids)
      if (!validatedIds.has(id)) findings.push(finding("UNVALIDATED_CLAIM", { claim: id }));
    const usesAll = JSON.stringify(final.claim_ids) === JSON.stringify(validated.map((c) => c.id));
    if ((final.status === "answered") !== validated.length > 0 || (final.status === "answered" && !usesAll))
      findings.push(finding("FINAL_CLAIMS", { status: final.status, validated: validated.length }));
    if (final.status === "answered" && final.answer !== validated[0]?.statement)
      findings.push(finding("ANSWER_MISMATCH", {}));
    if (final.status === "insufficient_evidence" && (final.answer !== null || final.claim_ids.length > 0))
      findings.push(finding("INSUFFICIENT_WITH_ANSWER", {}));
    // The stated uncertainty is the executor's: none for an answer, else the derivation's reason.
    const marker = outputs.find((o) => o.type === "insufficient_evidence");
    const reason = marker?.type === "insufficient_evidence" ? marker.reason : "no claim could be validated";
    const uncertainty = final.status === "answered" ? null : `Insufficient evidence: ${reason}.`;
    if (final.uncertainty !== uncertainty) findings.push(finding("FINAL_UNCERTAINTY", {}));
    if (view.answer !== null) {
      const expected = answerView(view.trace, view.evidence, evidenceTexts(view.trace));
      if (canonicalJson(view.answer) !== canonicalJson(expected)) findings.push(finding("ANSWER_VIEW", {}));
    }
    return {
      findings,
      details:
        final.status === "answered"
          ? `answered with ${final.claim_ids.length} validated claim(s)`
          : "insufficient evidence",
    };
  },
};
