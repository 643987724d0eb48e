/**
 * evidence_origin (INV-EVD-003): each evidence's bytes equal the bytes at its span in the
 * pinned corpus snapshot, and its uri names that snapshot and document (docs/design.md §3.3: a span is a
 * byte range of the whole document text, so it can be checked against the corpus directly).
 */

import { evidenceUri } from "../../artifact/names.js";
import type { CorpusDocument } from "../../corpus/document.js";
import { findDocuments } from "../../corpus/document.js";
import type { Check } from "../check.js";
import { type Finding, finding } from "../findings.js";
import { readStoreObject } from "../store-object.js";

export const evidenceOriginCheck: Check = {
  name: "evidence_origin",
  invariant: "INV-EVD-003",
  description: "each evidence's bytes equal the bytes at its span of the pinned corpus snapshot",
  run(view, context) {
    if (view.evidence.length === 0) return { findings: [], details: "no evidence in this run" };
    const snapshotHash = view.retrieval?.provenance.corpus_snapshot;
    if (snapshotHash === undefined)
      return { findings: [finding("NO_PROVENANCE", {})], details: "no snapshot named" };
    const snapshot = readStoreObject(context.store, snapshotHash, "corpus snapshot");
    if ("finding" in snapshot) return { findings: [snapshot.finding], details: "snapshot unavailable" };
    let docs: Map<string, CorpusDocument>;
    try {
      docs = findDocuments(
        snapshot.bytes,
        view.evidence.map((ev) => ev.doc_id),
      );
    } catch (e) {
      // The store vouches for the bytes' hash, not that they are a snapshot: any object can be named.
      const error = e instanceof Error ? e.message : String(e);
      return {
        findings: [finding("STORE_OBJECT_CORRUPT", { what: "corpus snapshot", hash: snapshotHash, error })],
        details: "snapshot unreadable",
      };
    }
    const findings: Finding[] = [];
    for (const ev of view.evidence) {
      const expectedUri = evidenceUri(snapshotHash, ev.doc_id);
      if (ev.uri !== expectedUri)
        findings.push(finding("EVIDENCE_URI", { evidence: ev.id, uri: ev.uri, expected: expectedUri }));
      const doc = docs.get(ev.doc_id);
      if (doc === undefined || typeof doc.text !== "string") {
        findings.push(
          finding("DOC_NOT_IN_SNAPSHOT", { evidence: ev.id, doc: ev.doc_id, snapshot: snapshotHash }),
        );
        continue;
      }
      const text = Buffer.from(doc.text, "utf8");
      const bytes = view.files.get(ev.content_path);
      if (
        ev.span[1] > text.length ||
        bytes === undefined ||
        !text.subarray(ev.span[0], ev.span[1]).equals(bytes)
      )
        findings.push(finding("EVIDENCE_NOT_IN_CORPUS", { evidence: ev.id, doc: ev.doc_id, span: ev.span }));
    }
    return {
      findings,
      details: `${view.evidence.length} evidence span(s) re-read from snapshot sha256:${snapshotHash.slice(0, 12)}…`,
    };
  },
};
