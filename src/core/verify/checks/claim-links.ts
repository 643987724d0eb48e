/** claim_links (INV-LNK-001): every support resolves to evidence, a claim or a tool call in the trace. */
import type { Check } from "../check.js";
import { type Finding, finding } from "../findings.js";

export const claimLinksCheck: Check = {
  name: "claim_links",
  invariant: "INV-LNK-001",
  description: "every claim support resolves to an evidence, claim or tool call recorded before it",
  run(view) {
    const findings: Finding[] = [];
    const seen = { evidence: new Set<string>(), claim: new Set<string>(), tool_call: new Set<string>() };
    let supports = 0;
    for (const e of view.trace?.events ?? []) {
      if (e.type === "evidence_registered") seen.evidence.add(e.evidence.id);
      if (e.type === "tool_called") seen.tool_call.add(e.call.id);
      if (e.type !== "claim_emitted") continue;
      for (const s of e.claim.supports) {
        supports++;
        if (!seen[s.kind].has(s.ref))
          findings.push(finding("DANGLING_SUPPORT", { claim: e.claim.id, kind: s.kind, ref: s.ref }));
      }
      seen.claim.add(e.claim.id);
    }
    return { findings, details: `${supports} support(s) resolved`, metrics: { supports } };
  },
};
