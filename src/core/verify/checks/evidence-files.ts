/**
 * evidence_files (INV-EVD-001): each evidence file exists inside the run, is named by and
 * hashes to its sha256, and holds exactly the text the retrieve tool returned for it.
 */
import { sha256Hex } from "../../canonical.js";
import type { Check } from "../check.js";
import { error, type Issue } from "../issue.js";

const EVIDENCE_PATH = /^evidence\/([0-9a-f]{64})\.txt$/;

export const evidenceFilesCheck: Check = {
  name: "evidence_files",
  invariant: "INV-EVD-001",
  description:
    "each evidence file exists inside the run, its name and sha256 match, and it holds the retrieved text",
  run(view) {
    const issues: Issue[] = [];
    const returned = new Map(
      (view.retrieval?.hits ?? []).map((h) => [`${h.doc_id}\u0000${h.span[0]}\u0000${h.span[1]}`, h.text]),
    );
    const referenced = new Set<string>();
    for (const ev of view.evidence) {
      const name = EVIDENCE_PATH.exec(ev.content_path);
      // The schema already pins the pattern; checked again because a path is attacker-controlled.
      if (name === null || name[1] !== ev.sha256) {
        issues.push(
          error(
            "EVIDENCE_PATH",
            `evidence ${ev.id}: content_path ${JSON.stringify(ev.content_path)} is not evidence/<its sha256>.txt`,
          ),
        );
        continue;
      }
      referenced.add(ev.content_path);
      const bytes = view.files.get(ev.content_path);
      if (bytes === undefined) {
        issues.push(error("EVIDENCE_MISSING", `evidence ${ev.id}: ${ev.content_path} is missing`));
        continue;
      }
      if (sha256Hex(bytes) !== ev.sha256)
        issues.push(error("EVIDENCE_HASH", `${ev.content_path} does not hash to ${ev.sha256}`));
      if (ev.chunk_id !== ev.sha256)
        issues.push(error("CHUNK_ID", `evidence ${ev.id}: chunk_id differs from the sha256 of its bytes`));
      const text = returned.get(`${ev.doc_id}\u0000${ev.span[0]}\u0000${ev.span[1]}`);
      if (text === undefined || Buffer.compare(Buffer.from(text, "utf8"), Buffer.from(bytes)) !== 0) {
        issues.push(
          error(
            "EVIDENCE_NOT_RETRIEVED",
            `${ev.content_path} is not the text the retrieve tool returned for it`,
          ),
        );
      }
    }
    for (const path of view.files.keys()) {
      if (path.startsWith("evidence/") && !referenced.has(path))
        issues.push(error("EVIDENCE_UNREFERENCED", `${path} is not referenced by any evidence`));
    }
    return {
      issues,
      details: `${view.evidence.length} evidence file(s) checked`,
      metrics: { evidence: view.evidence.length },
    };
  },
};
