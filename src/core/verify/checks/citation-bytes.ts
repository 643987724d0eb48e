/** citation_bytes (INV-EVD-002): each support's span lies inside its evidence and its sha256 matches. */
import { sha256Hex } from "../../canonical.js";
import type { Check } from "../check.js";
import { type Finding, finding } from "../findings.js";

export const citationBytesCheck: Check = {
  name: "citation_bytes",
  invariant: "INV-EVD-002",
  description: "each cited span lies inside its evidence bytes and hashes to the recorded sha256",
  run(view) {
    const findings: Finding[] = [];
    const byId = new Map(view.evidence.map((ev) => [ev.id, ev]));
    let spans = 0;
    for (const claim of view.claims) {
      for (const s of claim.supports) {
        if (s.kind !== "evidence") continue;
        spans++;
        const ev = byId.get(s.ref);
        const bytes = ev === undefined ? undefined : view.files.get(ev.content_path);
        if (bytes === undefined || s.span === undefined || s.sha256 === undefined) {
          findings.push(finding("CITATION_UNCHECKABLE", { claim: claim.id, evidence: s.ref }));
          continue;
        }
        const [start, end] = s.span;
        if (end > bytes.length || start >= end)
          findings.push(finding("SPAN_OUTSIDE", { claim: claim.id, span: s.span, size: bytes.length }));
        else if (sha256Hex(bytes.subarray(start, end)) !== s.sha256)
          findings.push(finding("SPAN_HASH", { claim: claim.id, evidence: s.ref, span: s.span }));
      }
    }
    return { findings, details: `${spans} cited span(s) re-hashed`, metrics: { spans } };
  },
};
