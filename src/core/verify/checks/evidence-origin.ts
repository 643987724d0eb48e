/** evidence_origin (INV-EVD-003): each evidence's bytes equal the bytes at its span in the pinned corpus snapshot. */
import { findDocuments } from "../../corpus/document.js";
import type { Check } from "../check.js";
import { error, type Issue } from "../issue.js";
import { readStoreObject } from "../store-object.js";

export const evidenceOriginCheck: Check = {
  name: "evidence_origin",
  invariant: "INV-EVD-003",
  description: "each evidence's bytes equal the bytes at its span of the pinned corpus snapshot",
  run(view, context) {
    if (view.evidence.length === 0) return { issues: [], details: "no evidence in this run" };
    const snapshotHash = view.retrieval?.provenance.corpus_snapshot;
    if (snapshotHash === undefined)
      return {
        issues: [error("NO_PROVENANCE", "evidence without a retrieval provenance")],
        details: "no snapshot named",
      };
    const snapshot = readStoreObject(context.store, snapshotHash, "corpus snapshot");
    if ("issue" in snapshot) return { issues: [snapshot.issue], details: "snapshot unavailable" };
    const issues: Issue[] = [];
    const docs = findDocuments(
      snapshot.bytes,
      view.evidence.map((ev) => ev.doc_id),
    );
    for (const ev of view.evidence) {
      const doc = docs.get(ev.doc_id);
      const bytes = view.files.get(ev.content_path);
      if (doc === undefined) {
        issues.push(
          error(
            "DOC_NOT_IN_SNAPSHOT",
            `evidence ${ev.id}: document ${JSON.stringify(ev.doc_id)} is not in snapshot ${snapshotHash}`,
          ),
        );
        continue;
      }
      const source = Buffer.from(doc.text, "utf8").subarray(ev.span[0], ev.span[1]);
      if (
        ev.span[1] > Buffer.byteLength(doc.text, "utf8") ||
        bytes === undefined ||
        Buffer.compare(source, Buffer.from(bytes)) !== 0
      ) {
        issues.push(
          error(
            "EVIDENCE_NOT_IN_CORPUS",
            `evidence ${ev.id}: bytes [${ev.span[0]}, ${ev.span[1]}) of ${ev.doc_id} differ from the evidence file`,
          ),
        );
      }
    }
    return {
      issues,
      details: `${view.evidence.length} evidence span(s) re-read from snapshot sha256:${snapshotHash.slice(0, 12)}…`,
    };
  },
};
