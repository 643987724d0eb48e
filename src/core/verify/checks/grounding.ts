/**
 * grounding (INV-GRD-001/002): each derived claim has at least min_supports_per_claim
 * evidence supports, and the reasoner's citations and the claim's supports agree.
 */
import { sha256Hex } from "../../canonical.js";
import type { Check } from "../check.js";
import { error, type Issue } from "../issue.js";

export const groundingCheck: Check = {
  name: "grounding",
  invariant: "INV-GRD-001/002",
  description: "derived claims have enough evidence supports, and they match the reasoner's citations",
  run(view) {
    const issues: Issue[] = [];
    const derive = view.plan?.nodes.find((n) => n.kind === "derive");
    const minSupports =
      typeof derive?.params.min_supports_per_claim === "number" ? derive.params.min_supports_per_claim : 1;
    const outputs = (view.trace?.events ?? []).flatMap((e) =>
      e.type === "step_finished" && e.output.type === "derive" ? [e.output] : [],
    );
    const proposed = view.claims.filter((c) => c.status === "proposed");
    for (const claim of proposed) {
      const evidence = claim.supports.filter((s) => s.kind === "evidence");
      if (claim.claim_type === "derived" && evidence.length < minSupports) {
        issues.push(
          error(
            "TOO_FEW_SUPPORTS",
            `claim ${claim.id} has ${evidence.length} evidence support(s), ${minSupports} required`,
          ),
        );
      }
      const output = outputs.find((o) => o.claim_id === claim.id);
      if (output === undefined) {
        issues.push(error("CLAIM_WITHOUT_DERIVATION", `claim ${claim.id} has no derive output naming it`));
        continue;
      }
      const cited = JSON.stringify(output.citations.map((c) => [c.evidence_id, c.span, c.sha256]));
      const supported = JSON.stringify(evidence.map((s) => [s.ref, s.span, s.sha256]));
      if (cited !== supported)
        issues.push(
          error("CITATIONS_DISAGREE", `claim ${claim.id}: supports differ from the reasoner's citations`),
        );
      if (output.statement !== claim.statement)
        issues.push(error("STATEMENT_DISAGREES", `claim ${claim.id}: statement differs from the derivation`));
      // An extractive claim quotes its first citation verbatim: a reworded statement is not grounded.
      const first = evidence[0];
      const ev = first === undefined ? undefined : view.evidence.find((e) => e.id === first.ref);
      const bytes = ev === undefined ? undefined : view.files.get(ev.content_path);
      // Bytes that fail their own hash are evidence_files' finding; judging the quote on them would blame the claim.
      if (
        claim.structured.reasoner === "extractive" &&
        first?.span &&
        bytes !== undefined &&
        sha256Hex(bytes) === ev?.sha256
      ) {
        const quote = Buffer.from(bytes).subarray(first.span[0], first.span[1]).toString("utf8");
        if (quote !== claim.statement)
          issues.push(
            error(
              "STATEMENT_NOT_QUOTED",
              `claim ${claim.id}: an extractive statement must be its first cited span verbatim`,
            ),
          );
      }
    }
    for (const o of outputs) {
      if (!proposed.some((c) => c.id === o.claim_id))
        issues.push(error("DERIVATION_WITHOUT_CLAIM", `derivation names claim ${o.claim_id}, never emitted`));
    }
    return {
      issues,
      details: `${proposed.length} derived claim(s), min supports ${minSupports}`,
      metrics: { claims: proposed.length },
    };
  },
};
