/**
 * Unit tests of evidence_origin (INV-EVD-003): evidence bytes re-read from the pinned snapshot in the
 * store. Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import type { RunView } from "../../../../src/core/artifact/view.js";
import type { StoreReader } from "../../../../src/core/verify/check.js";
import { evidenceOriginCheck } from "../../../../src/core/verify/checks/evidence-origin.js";
import { answeredRun, codes, edited, insufficientRun, paramsOf, sealing } from "./fixture.js";

const run = answeredRun();
const check = (view: RunView = run.view, store: StoreReader = run.store) =>
  evidenceOriginCheck.run(view, sealing(store));
const first = run.view.evidence[0];

const withEvidence = (edit: (ev: NonNullable<typeof first>) => void) =>
  edited(run.view, (v) => {
    const ev = v.evidence[0];
    if (ev) edit(ev);
  });

describe("evidence_origin", () => {
  it("passes the untouched run", () => {
    expect(codes(check())).toEqual([]);
  });

  it("passes a run without evidence without reading the store", () => {
    expect(codes(check(insufficientRun().view, run.store.with({ [run.snapshotHash]: null })))).toEqual([]);
  });

  it("NO_PROVENANCE: evidence without a retrieval naming its snapshot", () => {
    const outcome = check({ ...run.view, retrieval: null });
    expect(codes(outcome)).toEqual(["NO_PROVENANCE"]);
  });

  it("STORE_OBJECT_MISSING: the pinned snapshot is not in the store", () => {
    const outcome = check(run.view, run.store.with({ [run.snapshotHash]: null }));
    expect(codes(outcome)).toEqual(["STORE_OBJECT_MISSING"]);
    expect(paramsOf(outcome, "STORE_OBJECT_MISSING")).toEqual({
      what: "corpus snapshot",
      hash: run.snapshotHash,
    });
  });

  it("STORE_OBJECT_CORRUPT: the stored snapshot no longer hashes to its name", () => {
    const store = run.store.with({});
    store.putCorrupt(run.snapshotHash, Buffer.from("rotten", "utf8"));
    const outcome = check(run.view, store);
    expect(codes(outcome)).toEqual(["STORE_OBJECT_CORRUPT"]);
    expect(paramsOf(outcome, "STORE_OBJECT_CORRUPT")).toMatchObject({
      what: "corpus snapshot",
      hash: run.snapshotHash,
    });
  });

  it("STORE_OBJECT_CORRUPT: the named object hashes right but is not a snapshot", () => {
    // Any store object can be named: here one whose line for the evidence's document is not JSON.
    const store = run.store.with({});
    const hash = store.put(Buffer.from(`{"doc_id":${JSON.stringify(first?.doc_id)},broken\n`, "utf8"));
    const outcome = check(
      edited(run.view, (v) => {
        if (v.retrieval) v.retrieval.provenance.corpus_snapshot = hash;
      }),
      store,
    );
    expect(codes(outcome)).toEqual(["STORE_OBJECT_CORRUPT"]);
    expect(paramsOf(outcome, "STORE_OBJECT_CORRUPT")).toMatchObject({ what: "corpus snapshot", hash });
  });

  it("DOC_NOT_IN_SNAPSHOT: a snapshot (here the index) that holds none of the documents", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.retrieval) v.retrieval.provenance.corpus_snapshot = run.indexHash;
      }),
    );
    // Each evidence: its uri names the real snapshot, and its document is not in this one.
    expect(codes(outcome)).toEqual([
      "EVIDENCE_URI",
      "DOC_NOT_IN_SNAPSHOT",
      "EVIDENCE_URI",
      "DOC_NOT_IN_SNAPSHOT",
    ]);
  });

  it("DOC_NOT_IN_SNAPSHOT: evidence from a document the snapshot lacks (its uri then differs too)", () => {
    const outcome = check(
      withEvidence((ev) => {
        ev.doc_id = "missing.md";
      }),
    );
    expect(codes(outcome)).toEqual(["EVIDENCE_URI", "DOC_NOT_IN_SNAPSHOT"]);
    expect(paramsOf(outcome, "DOC_NOT_IN_SNAPSHOT")).toEqual({
      evidence: first?.id,
      doc: "missing.md",
      snapshot: run.snapshotHash,
    });
  });

  it("EVIDENCE_NOT_IN_CORPUS: the span does not hold the evidence bytes in the document", () => {
    const outcome = check(
      withEvidence((ev) => {
        ev.span = [ev.span[0] + 1, ev.span[1] + 1];
      }),
    );
    expect(codes(outcome)).toEqual(["EVIDENCE_NOT_IN_CORPUS"]);
    expect(paramsOf(outcome, "EVIDENCE_NOT_IN_CORPUS")).toMatchObject({
      evidence: first?.id,
      doc: first?.doc_id,
    });
  });

  it("EVIDENCE_URI: an evidence uri naming another snapshot or document", () => {
    const outcome = check(
      withEvidence((ev) => {
        ev.uri = "corpus:elsewhere";
      }),
    );
    expect(codes(outcome)).toEqual(["EVIDENCE_URI"]);
    expect(paramsOf(outcome, "EVIDENCE_URI")).toEqual({
      evidence: first?.id,
      uri: "corpus:elsewhere",
      expected: first?.uri,
    });
  });
});
