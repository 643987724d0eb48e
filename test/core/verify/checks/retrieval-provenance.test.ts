/**
 * Unit tests of retrieval_provenance (INV-PRV-001): provenance against the store, run.json, spec, plan
 * and files. Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import { RUN_FILES } from "../../../../src/core/artifact/files.js";
import type { RunView } from "../../../../src/core/artifact/view.js";
import { canonicalJson, sha256Hex } from "../../../../src/core/canonical.js";
import type { RetrievalProvenance } from "../../../../src/core/models/trace.js";
import type { StoreReader } from "../../../../src/core/verify/check.js";
import { retrievalProvenanceCheck } from "../../../../src/core/verify/checks/retrieval-provenance.js";
import { answeredRun, codes, edited, insufficientRun, nodeIn, paramsOf, sealing, ZEROS } from "./fixture.js";

const run = answeredRun();
const check = (view: RunView = run.view, store: StoreReader = run.store) =>
  retrievalProvenanceCheck.run(view, sealing(store));

/** Edits the retrieval's provenance and run.json's tool descriptor alike, so only the store can disagree. */
function withProvenance(edit: (p: RetrievalProvenance) => void): RunView {
  return edited(run.view, (v) => {
    if (!v.retrieval) throw new Error("no retrieval");
    edit(v.retrieval.provenance);
    const tool = v.run?.inputs.runtime.tools[0];
    if (tool) {
      tool.config = structuredClone(v.retrieval.provenance) as typeof tool.config;
      tool.fingerprint = sha256Hex(canonicalJson(tool.config));
    }
  });
}

describe("retrieval_provenance", () => {
  it("passes the untouched runs", () => {
    expect(codes(check())).toEqual([]);
    expect(codes(check(insufficientRun().view, insufficientRun().store))).toEqual([]);
  });

  it("passes a consistent edit of view and descriptor (the helper itself changes nothing)", () => {
    expect(codes(check(withProvenance(() => {})))).toEqual([]);
  });

  it("NO_RETRIEVAL_RESULT: the plan retrieves but no result parses", () => {
    const outcome = check({ ...run.view, retrieval: null, provenance: new Map() });
    expect(codes(outcome)).toEqual(["NO_RETRIEVAL_RESULT"]);
  });

  it("STRAY_PROVENANCE: provenance files in a run without retrieval", () => {
    const outcome = check(
      edited(run.view, (v) => {
        v.retrieval = null;
        nodeIn(v, "gather").tool_requests = [];
        if (v.run) v.run.inputs.runtime.tools = [];
      }),
    );
    expect(codes(outcome)).toEqual(["STRAY_PROVENANCE", "STRAY_PROVENANCE"]);
    expect(outcome.findings.map((f) => f.params)).toEqual([
      { path: RUN_FILES.retrieval },
      { path: RUN_FILES.chunks },
    ]);
  });

  it("TOOL_NOT_DESCRIBED: run.json describes no retrieve tool", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.run) v.run.inputs.runtime.tools = [];
      }),
    );
    expect(codes(outcome)).toEqual(["TOOL_NOT_DESCRIBED"]);
  });

  it("CONFIG_MISMATCH: the descriptor's config is not the recorded provenance", () => {
    const outcome = check(
      edited(run.view, (v) => {
        const tool = v.run?.inputs.runtime.tools[0];
        if (tool) {
          tool.config = { ...tool.config, k1: 9 };
          tool.fingerprint = sha256Hex(canonicalJson(tool.config));
        }
      }),
    );
    expect(codes(outcome)).toEqual(["CONFIG_MISMATCH"]);
  });

  it("FINGERPRINT: the descriptor's fingerprint does not hash its config", () => {
    const outcome = check(
      edited(run.view, (v) => {
        const tool = v.run?.inputs.runtime.tools[0];
        if (tool) tool.fingerprint = ZEROS;
      }),
    );
    expect(codes(outcome)).toEqual(["FINGERPRINT"]);
  });

  it("SPEC_CORPUS: the spec pins another corpus than the retrieval used", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.spec) v.spec.constraints.corpus = "./docs";
      }),
    );
    expect(codes(outcome)).toEqual(["SPEC_CORPUS"]);
    expect(paramsOf(outcome, "SPEC_CORPUS")).toEqual({ recorded: "./docs", snapshot: run.snapshotHash });
  });

  it("PLAN_PARAMS: the plan's gather parameters differ from the recorded ones", () => {
    const outcome = check(
      edited(run.view, (v) => {
        nodeIn(v, "gather").params.top_k = 9;
      }),
    );
    expect(codes(outcome)).toEqual(["PLAN_PARAMS"]);
    expect(paramsOf(outcome, "PLAN_PARAMS")).toEqual({ param: "top_k", planned: "9", recorded: "5" });
  });

  it("STORE_OBJECT_MISSING: neither snapshot nor index is in the store", () => {
    const outcome = check(run.view, run.store.with({ [run.snapshotHash]: null, [run.indexHash]: null }));
    expect(codes(outcome)).toEqual(["STORE_OBJECT_MISSING", "STORE_OBJECT_MISSING"]);
    expect(outcome.findings.map((f) => f.params)).toEqual([
      { what: "corpus snapshot", hash: run.snapshotHash },
      { what: "index", hash: run.indexHash },
    ]);
  });

  it("STORE_OBJECT_CORRUPT: the stored index no longer hashes to its name", () => {
    const store = run.store.with({});
    store.putCorrupt(run.indexHash, Buffer.from("rotten", "utf8"));
    const outcome = check(run.view, store);
    expect(codes(outcome)).toEqual(["STORE_OBJECT_CORRUPT"]);
    expect(paramsOf(outcome, "STORE_OBJECT_CORRUPT")).toMatchObject({ what: "index", hash: run.indexHash });
  });

  it("INDEX_CORRUPT: the named index is a sound store object that is not an index", () => {
    const outcome = check(
      withProvenance((p) => {
        p.index_hash = run.snapshotHash;
      }),
    );
    expect(codes(outcome)).toEqual(["INDEX_CORRUPT"]);
    expect(paramsOf(outcome, "INDEX_CORRUPT")).toMatchObject({ hash: run.snapshotHash });
  });

  it("INDEX_PARAMS: the index was built over another corpus size than recorded", () => {
    const outcome = check(
      withProvenance((p) => {
        p.chunks += 1;
      }),
    );
    expect(codes(outcome)).toEqual(["INDEX_PARAMS"]);
    expect(paramsOf(outcome, "INDEX_PARAMS")).toEqual({ hash: run.indexHash });
  });

  it("PROVENANCE_FILE: a provenance file is not the trace's projection", () => {
    const files = new Map(run.view.files);
    files.set(RUN_FILES.chunks, Buffer.from("{}\n", "utf8"));
    const outcome = check({ ...run.view, files });
    expect(codes(outcome)).toEqual(["PROVENANCE_FILE"]);
    expect(paramsOf(outcome, "PROVENANCE_FILE")).toEqual({ path: RUN_FILES.chunks });
  });
});
