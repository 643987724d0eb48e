/**
 * grounding (INV-GRD-001/002): each derived claim has at least min_supports_per_claim
 * evidence supports, the reasoner's citations and the claim's supports agree, and the verify
 * step's verdicts follow from those supports (docs/design.md §3.4, §3.5): a validated claim is earned.
 */

import type { RunView } from "../../artifact/view.js";
import { contentId, sha256Hex } from "../../canonical.js";
import type { Claim } from "../../models/claim.js";
import type { Check } from "../check.js";
import { type Finding, finding } from "../findings.js";

function minSupports(view: RunView, kind: "derive" | "verify"): number {
  const value = view.plan?.nodes.find((n) => n.kind === kind)?.params.min_supports_per_claim;
  return typeof value === "number" ? value : 1;
}

/**
 * The evidence bytes a support points into, or null when they fail their own hash: that is
 * evidence_files' finding, and judging a claim on them would blame the claim for it.
 */
function trustedBytes(view: RunView, evidenceId: string): Uint8Array | undefined | null {
  const ev = view.evidence.find((e) => e.id === evidenceId);
  const bytes = ev === undefined ? undefined : view.files.get(ev.content_path);
  if (ev === undefined) return undefined;
  return bytes !== undefined && sha256Hex(bytes) === ev.sha256 ? bytes : null;
}

/** The reasoner's derivations against the claims they emitted (INV-GRD-001/002). */
function derivationFindings(view: RunView, proposed: readonly Claim[]): Finding[] {
  const findings: Finding[] = [];
  const required = minSupports(view, "derive");
  const outputs = (view.trace?.events ?? []).flatMap((e) =>
    e.type === "step_finished" && e.output.type === "derive" ? [e.output] : [],
  );
  for (const claim of proposed) {
    const evidence = claim.supports.filter((s) => s.kind === "evidence");
    if (claim.claim_type === "derived" && evidence.length < required)
      findings.push(finding("TOO_FEW_SUPPORTS", { claim: claim.id, supports: evidence.length, required }));
    const output = outputs.find((o) => o.claim_id === claim.id);
    if (output === undefined) {
      findings.push(finding("CLAIM_WITHOUT_DERIVATION", { claim: claim.id }));
      continue;
    }
    const cited = JSON.stringify(output.citations.map((c) => [c.evidence_id, c.span, c.sha256]));
    const supported = JSON.stringify(evidence.map((s) => [s.ref, s.span, s.sha256]));
    if (cited !== supported) findings.push(finding("CITATIONS_DISAGREE", { claim: claim.id }));
    if (output.statement !== claim.statement)
      findings.push(finding("STATEMENT_DISAGREES", { claim: claim.id }));
    // An extractive claim quotes its first citation verbatim: a reworded statement is not grounded.
    const first = evidence[0];
    const bytes = first === undefined ? undefined : trustedBytes(view, first.ref);
    if (claim.structured.reasoner === "extractive" && first?.span && bytes) {
      const quote = Buffer.from(bytes).subarray(first.span[0], first.span[1]).toString("utf8");
      if (quote !== claim.statement) findings.push(finding("STATEMENT_NOT_QUOTED", { claim: claim.id }));
    }
  }
  for (const o of outputs)
    if (!proposed.some((c) => c.id === o.claim_id))
      findings.push(finding("DERIVATION_WITHOUT_CLAIM", { claim: o.claim_id }));
  return findings;
}

/**
 * The verdict docs/design.md §3.5 implies for a proposed claim: validated exactly when every evidence
 * support's span lies inside its evidence and hashes to its sha256, and at least
 * min_supports_per_claim of them do. null when the evidence bytes cannot be trusted.
 */
function expectedVerdict(view: RunView, claim: Claim, required: number): "validated" | "rejected" | null {
  let grounded = 0;
  let broken = false;
  for (const s of claim.supports) {
    if (s.kind !== "evidence") continue;
    const bytes = trustedBytes(view, s.ref);
    if (bytes === null) return null;
    const [start, end] = s.span ?? [0, 0];
    if (bytes === undefined || s.span === undefined || end > bytes.length || start >= end) broken = true;
    else if (sha256Hex(bytes.subarray(start, end)) !== s.sha256) broken = true;
    else grounded++;
  }
  return !broken && grounded >= required ? "validated" : "rejected";
}

/** The verify step's decisions, re-judged: each names a proposed claim and the verdict claim it became. */
function verdictFindings(view: RunView, proposed: readonly Claim[]): Finding[] {
  const findings: Finding[] = [];
  const required = minSupports(view, "verify");
  const decisions = (view.trace?.events ?? []).flatMap((e) =>
    e.type === "step_finished" && e.output.type === "verify" ? e.output.decisions : [],
  );
  const emitted = new Set(view.claims.map((c) => c.id));
  const produced = new Set<string>();
  for (const d of decisions) {
    const claim = proposed.find((c) => c.id === d.claim_id);
    if (claim === undefined) {
      findings.push(finding("VERDICT_UNKNOWN_CLAIM", { claim: d.claim_id }));
      continue;
    }
    produced.add(d.result_claim_id);
    // A claim is immutable: its verdict is the same claim with a new status, citing it (executor.ts).
    const { id: _proposedId, ...body } = claim;
    const verdict = contentId("claim", {
      ...body,
      status: d.status,
      supports: [...claim.supports, { kind: "claim", ref: claim.id }],
    });
    if (verdict !== d.result_claim_id || !emitted.has(d.result_claim_id))
      findings.push(finding("VERDICT_CLAIM", { claim: claim.id, result: d.result_claim_id }));
    const expected = expectedVerdict(view, claim, required);
    if (expected !== null && expected !== d.status)
      findings.push(finding("VERDICT_WRONG", { claim: claim.id, recorded: d.status, expected }));
  }
  for (const claim of proposed)
    if (decisions.filter((d) => d.claim_id === claim.id).length !== 1)
      findings.push(finding("VERDICT_MISSING", { claim: claim.id }));
  for (const claim of view.claims)
    if (claim.status !== "proposed" && !produced.has(claim.id))
      findings.push(finding("UNJUDGED_CLAIM", { claim: claim.id, status: claim.status }));
  return findings;
}

export const groundingCheck: Check = {
  name: "grounding",
  invariant: "INV-GRD-001/002",
  description:
    "derived claims have enough evidence supports that match the reasoner's citations, and every verdict follows from them",
  run(view) {
    const proposed = view.claims.filter((c) => c.status === "proposed");
    return {
      findings: [...derivationFindings(view, proposed), ...verdictFindings(view, proposed)],
      details: `${proposed.length} derived claim(s) re-judged, min supports ${minSupports(view, "derive")}`,
      metrics: { claims: proposed.length },
    };
  },
};
