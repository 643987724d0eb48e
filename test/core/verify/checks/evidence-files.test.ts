/**
 * Unit tests of evidence_files (INV-EVD-001): evidence files named, hashed and holding the retrieved
 * text. Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import type { RunView } from "../../../../src/core/artifact/view.js";
import { evidenceFilesCheck } from "../../../../src/core/verify/checks/evidence-files.js";
import {
  answeredRun,
  codes,
  edited,
  insufficientRun,
  outputOf,
  paramsOf,
  sealing,
  traceIn,
  ZEROS,
} from "./fixture.js";

const run = answeredRun();
const check = (view: RunView = run.view) => evidenceFilesCheck.run(view, sealing(run.store));
const first = run.view.evidence[0];
const path = first?.content_path ?? "";

/** The view with the first evidence edited (the trace's copy is not: this check reads view.evidence). */
const withEvidence = (edit: (ev: NonNullable<typeof first>) => void) =>
  edited(run.view, (v) => {
    const ev = v.evidence[0];
    if (ev) edit(ev);
  });
const withFile = (file: string, bytes: Uint8Array | null) => {
  const files = new Map(run.view.files);
  if (bytes === null) files.delete(file);
  else files.set(file, bytes);
  return { ...run.view, files };
};

describe("evidence_files", () => {
  it("passes the untouched runs", () => {
    expect(codes(check())).toEqual([]);
    expect(codes(evidenceFilesCheck.run(insufficientRun().view, sealing(run.store)))).toEqual([]);
  });

  it("EVIDENCE_PATH: a content path that escapes evidence/ (its real file is then unreferenced)", () => {
    const outcome = check(
      withEvidence((ev) => {
        ev.content_path = "evidence/../run.json";
      }),
    );
    expect(codes(outcome)).toEqual(["EVIDENCE_PATH", "EVIDENCE_UNREFERENCED"]);
    expect(paramsOf(outcome, "EVIDENCE_PATH")).toEqual({ evidence: first?.id, path: "evidence/../run.json" });
    expect(paramsOf(outcome, "EVIDENCE_UNREFERENCED")).toEqual({ path });
  });

  it("EVIDENCE_MISSING: the evidence file is absent", () => {
    const outcome = check(withFile(path, null));
    expect(codes(outcome)).toEqual(["EVIDENCE_MISSING"]);
    expect(paramsOf(outcome, "EVIDENCE_MISSING")).toEqual({ evidence: first?.id, path });
  });

  it("EVIDENCE_HASH: the evidence file's bytes changed (so they are not the retrieved text either)", () => {
    const outcome = check(withFile(path, Buffer.from("other bytes", "utf8")));
    expect(codes(outcome)).toEqual(["EVIDENCE_HASH", "EVIDENCE_NOT_RETRIEVED"]);
    expect(paramsOf(outcome, "EVIDENCE_HASH")).toEqual({ path, sha256: first?.sha256 });
  });

  it("CHUNK_ID: an evidence's chunk id is not its sha256 (nor then any hit's)", () => {
    const outcome = check(
      withEvidence((ev) => {
        ev.chunk_id = ZEROS;
      }),
    );
    expect(codes(outcome)).toEqual(["CHUNK_ID", "EVIDENCE_NOT_RETRIEVED", "HIT_NOT_REGISTERED"]);
    expect(paramsOf(outcome, "CHUNK_ID")).toEqual({ evidence: first?.id });
    expect(paramsOf(outcome, "HIT_NOT_REGISTERED")).toEqual({ rank: 1, doc: first?.doc_id });
  });

  it("EVIDENCE_NOT_RETRIEVED: the retrieve tool returned another text for the hit", () => {
    const outcome = check(
      edited(run.view, (v) => {
        const hit = v.retrieval?.hits.find((h) => h.doc_id === first?.doc_id);
        if (hit) hit.text = `${hit.text} `;
      }),
    );
    expect(codes(outcome)).toEqual(["EVIDENCE_NOT_RETRIEVED"]);
    expect(paramsOf(outcome, "EVIDENCE_NOT_RETRIEVED")).toEqual({ path });
  });

  it("HIT_NOT_REGISTERED: a returned hit that never became evidence", () => {
    const outcome = check(
      edited(run.view, (v) => {
        const hit = v.retrieval?.hits[0];
        if (hit) v.retrieval?.hits.push({ ...hit, rank: 3, doc_id: "tea.md" });
      }),
    );
    expect(codes(outcome)).toEqual(["HIT_NOT_REGISTERED"]);
    expect(paramsOf(outcome, "HIT_NOT_REGISTERED")).toEqual({ rank: 3, doc: "tea.md" });
  });

  it("GATHER_LIST: the gather step lists other evidence than it registered", () => {
    const outcome = check(
      edited(run.view, (v) => {
        outputOf(traceIn(v), "gather").evidence_ids.reverse();
      }),
    );
    expect(codes(outcome)).toEqual(["GATHER_LIST"]);
  });

  it("EVIDENCE_UNREFERENCED: an evidence file no evidence names", () => {
    const stray = `evidence/${ZEROS}.txt`;
    const outcome = check(withFile(stray, Buffer.from("stray", "utf8")));
    expect(codes(outcome)).toEqual(["EVIDENCE_UNREFERENCED"]);
    expect(paramsOf(outcome, "EVIDENCE_UNREFERENCED")).toEqual({ path: stray });
  });
});
