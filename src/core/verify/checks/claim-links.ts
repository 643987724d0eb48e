/** claim_links (INV-LNK-001): every support resolves to evidence, a claim or a tool call in the trace. */
import type { Check } from "../check.js";
import { error, type Issue } from "../issue.js";

export const claimLinksCheck: Check = {
  name: "claim_links",
  invariant: "INV-LNK-001",
  description: "every claim support resolves to an evidence, claim or tool call recorded before it",
  run(view) {
    const issues: Issue[] = [];
    const seen = { evidence: new Set<string>(), claim: new Set<string>(), tool_call: new Set<string>() };
    let supports = 0;
    for (const e of view.trace?.events ?? []) {
      if (e.type === "evidence_registered") seen.evidence.add(e.evidence.id);
      if (e.type === "tool_called") seen.tool_call.add(e.call.id);
      if (e.type !== "claim_emitted") continue;
      for (const s of e.claim.supports) {
        supports++;
        if (!seen[s.kind].has(s.ref))
          issues.push(
            error("DANGLING_SUPPORT", `claim ${e.claim.id} cites ${s.kind} ${s.ref}, not recorded before it`),
          );
      }
      seen.claim.add(e.claim.id);
    }
    return { issues, details: `${supports} support(s) resolved`, metrics: { supports } };
  },
};
