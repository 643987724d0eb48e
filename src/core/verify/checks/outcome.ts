/**
 * outcome (INV-OUT-001): exactly one of a derived claim or an insufficiency marker; finalize
 * present; the final answer uses validated claims only; answer.json is the trace's view.
 */
import { canonicalJson } from "../../canonical.js";
import { answerView, evidenceTexts } from "../../run/produce.js";
import type { Check } from "../check.js";
import { error, type Issue } from "../issue.js";

export const outcomeCheck: Check = {
  name: "outcome",
  invariant: "INV-OUT-001",
  description: "one derived claim or one insufficiency marker; the final answer uses validated claims only",
  run(view) {
    if (view.trace === null)
      return { issues: [error("MISSING_INPUT", "no readable trace")], details: "trace unreadable" };
    const issues: Issue[] = [];
    const outputs = view.trace.events.flatMap((e) => (e.type === "step_finished" ? [e.output] : []));
    const derived = outputs.filter((o) => o.type === "derive").length;
    const insufficient = outputs.filter((o) => o.type === "insufficient_evidence").length;
    if (derived + insufficient !== 1)
      issues.push(
        error(
          "OUTCOME_COUNT",
          `${derived} derivation(s) and ${insufficient} insufficiency marker(s); exactly one expected`,
        ),
      );
    const finals = outputs.flatMap((o) => (o.type === "finalize" ? [o] : []));
    const final = finals[0];
    if (finals.length !== 1 || final === undefined) {
      issues.push(error("FINALIZE_COUNT", `${finals.length} finalize output(s)`));
      return { issues, details: "no single final answer" };
    }
    const validated = new Map(view.claims.filter((c) => c.status === "validated").map((c) => [c.id, c]));
    for (const id of final.claim_ids)
      if (!validated.has(id))
        issues.push(error("UNVALIDATED_CLAIM", `final answer uses claim ${id}, which is not validated`));
    const first = validated.get(final.claim_ids[0] ?? "");
    if (final.status === "answered" && (first === undefined || final.answer !== first.statement)) {
      issues.push(error("ANSWER_MISMATCH", "the final answer is not the statement of its validated claim"));
    }
    if (final.status === "insufficient_evidence" && (final.answer !== null || final.claim_ids.length > 0)) {
      issues.push(error("INSUFFICIENT_WITH_ANSWER", "an insufficient-evidence outcome carries an answer"));
    }
    if (view.answer !== null) {
      const expected = answerView(view.trace, view.evidence, evidenceTexts(view.trace));
      if (canonicalJson(view.answer) !== canonicalJson(expected))
        issues.push(error("ANSWER_VIEW", "answer.json differs from the answer recorded in the trace"));
    }
    return {
      issues,
      details:
        final.status === "answered"
          ? `answered with ${final.claim_ids.length} validated claim(s)`
          : "insufficient evidence",
    };
  },
};
