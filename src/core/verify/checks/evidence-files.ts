/**
 * evidence_files (INV-EVD-001): each evidence file exists inside the run, is named by and
 * hashes to its sha256, and holds exactly the text the retrieve tool returned for it; every
 * returned hit was registered, and the gather step lists exactly what it registered.
 */
import { sha256Hex } from "../../canonical.js";
import type { Check } from "../check.js";
import { type Finding, finding } from "../findings.js";

const EVIDENCE_PATH = /^evidence\/([0-9a-f]{64})\.txt$/;

/** A hit and the evidence registered from it share document, chunk and span. */
const hitKey = (h: { doc_id: string; chunk_id: string; span: readonly [number, number] }) =>
  `${h.doc_id}\u0000${h.chunk_id}\u0000${h.span[0]}\u0000${h.span[1]}`;

export const evidenceFilesCheck: Check = {
  name: "evidence_files",
  invariant: "INV-EVD-001",
  description:
    "each evidence file exists inside the run, its name and sha256 match, and it holds the retrieved text",
  run(view) {
    const findings: Finding[] = [];
    const hits = view.retrieval?.hits ?? [];
    const returned = new Map(hits.map((h) => [hitKey(h), h.text]));
    const referenced = new Set<string>();
    for (const ev of view.evidence) {
      const name = EVIDENCE_PATH.exec(ev.content_path);
      // The schema already pins the pattern; checked again because a path is attacker-controlled,
      // and the run's files are looked up by this exact key, never resolved on a file system.
      if (name === null || name[1] !== ev.sha256) {
        findings.push(finding("EVIDENCE_PATH", { evidence: ev.id, path: ev.content_path }));
        continue;
      }
      referenced.add(ev.content_path);
      const bytes = view.files.get(ev.content_path);
      if (bytes === undefined) {
        findings.push(finding("EVIDENCE_MISSING", { evidence: ev.id, path: ev.content_path }));
        continue;
      }
      if (sha256Hex(bytes) !== ev.sha256)
        findings.push(finding("EVIDENCE_HASH", { path: ev.content_path, sha256: ev.sha256 }));
      if (ev.chunk_id !== ev.sha256) findings.push(finding("CHUNK_ID", { evidence: ev.id }));
      const text = returned.get(hitKey(ev));
      if (text === undefined || Buffer.compare(Buffer.from(text, "utf8"), Buffer.from(bytes)) !== 0)
        findings.push(finding("EVIDENCE_NOT_RETRIEVED", { path: ev.content_path }));
    }
    const registered = new Set(view.evidence.map(hitKey));
    for (const h of hits)
      if (!registered.has(hitKey(h)))
        findings.push(finding("HIT_NOT_REGISTERED", { rank: h.rank, doc: h.doc_id }));
    const gathered = (view.trace?.events ?? []).flatMap((e) =>
      e.type === "step_finished" && e.output.type === "gather" ? e.output.evidence_ids : [],
    );
    if (JSON.stringify(gathered) !== JSON.stringify(view.evidence.map((ev) => ev.id)))
      findings.push(finding("GATHER_LIST", {}));
    for (const path of view.files.keys())
      if (path.startsWith("evidence/") && !referenced.has(path))
        findings.push(finding("EVIDENCE_UNREFERENCED", { path }));
    return {
      findings,
      details: `${view.evidence.length} evidence file(s) checked`,
      metrics: { evidence: view.evidence.length },
    };
  },
};
