/**
 * Unit tests of retrieval_provenance (INV-PRV-001): provenance against the store, run.json, spec, plan
 * and files. Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import { RUN_FILES } from "../../../../src/core/artifact/files.js";
import type { RunView } from "../../../../src/core/artifact/view.js";
import { canonicalJson, sha256Hex } from "../../../../src/core/canonical.js";
import { snapshotLine } from "../../../../src/core/corpus/document.js";
import type { RetrievalProvenance } from "../../../../src/core/models/trace.js";
import { buildIndex } from "../../../../src/core/retrieval/bm25/bm25-build.js";
import { serializeIndex } from "../../../../src/core/retrieval/bm25/bm25-format.js";
import { toBm25Params } from "../../../../src/core/retrieval/index-params.js";
import type { StoreReader } from "../../../../src/core/verify/check.js";
import { retrievalProvenanceCheck } from "../../../../src/core/verify/checks/retrieval-provenance.js";
import { REBUILD_INDEX_MAX_BYTES } from "../../../../src/core/verify/pinned-index.js";
import {
  answeredRun,
  CORPUS,
  codes,
  edited,
  insufficientRun,
  nodeIn,
  paramsOf,
  sealing,
  ZEROS,
} from "./fixture.js";

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

  // Issue 19 item 5: one table of released combinations; every other one fails under every policy.
  it("TOOL_VERSION: run.json labels the tool with a version its provenance is not", () => {
    const outcome = check(
      edited(run.view, (v) => {
        const tool = v.run?.inputs.runtime.tools[0];
        if (tool) tool.version = "3";
      }),
    );
    expect(codes(outcome)).toEqual(["TOOL_VERSION", "VERSION_COMBINATION"]);
    expect(paramsOf(outcome, "TOOL_VERSION")).toEqual({ recorded: "3", expected: "2" });
  });

  it("VERSION_COMBINATION: issue 19, retrieve tool 1 with extractive reasoner 2", () => {
    const outcome = check(
      edited(
        withProvenance((p) => {
          delete p.evidence;
        }),
        (v) => {
          const tool = v.run?.inputs.runtime.tools[0];
          if (tool) tool.version = "1";
          if (v.run) v.run.inputs.runtime.reasoner = { id: "extractive", version: "2" };
        },
      ),
    );
    expect(codes(outcome)).toEqual(["VERSION_COMBINATION"]);
    expect(paramsOf(outcome, "VERSION_COMBINATION").combination).toMatch(
      /^retrieve tool 1, reasoner extractive 2, index format 2, analyzer english 1$/,
    );
  });

  it("VERSION_COMBINATION: issue 19, retrieve tool 2 with extractive reasoner 1", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.run) v.run.inputs.runtime.reasoner = { id: "extractive", version: "1" };
      }),
    );
    expect(codes(outcome)).toEqual(["VERSION_COMBINATION"]);
  });

  it("VERSION_COMBINATION: issue 19, an unknown reasoner or analyzer name", () => {
    const reasoner = check(
      edited(run.view, (v) => {
        if (v.run) v.run.inputs.runtime.reasoner = { id: "oracle", version: "1" };
      }),
    );
    expect(codes(reasoner)).toEqual(["VERSION_COMBINATION"]);
    const analyzer = check(
      withProvenance((p) => {
        p.analyzer = { name: "english", version: "7" };
      }),
    );
    expect(codes(analyzer)).toContain("VERSION_COMBINATION");
  });

  it("VERSION_COMBINATION: a run without retrieval by a reasoner no release had", () => {
    const outcome = check(
      edited(run.view, (v) => {
        v.retrieval = null;
        v.provenance = new Map();
        nodeIn(v, "gather").tool_requests = [];
        if (v.run) {
          v.run.inputs.runtime.tools = [];
          v.run.inputs.runtime.reasoner = { id: "extractive", version: "99" };
        }
      }),
    );
    expect(codes(outcome)).toEqual(["VERSION_COMBINATION"]);
  });

  it("CORPUS_LIMIT: issue 19, recorded corpus limits the pinned snapshot and index exceed", () => {
    const outcome = check(
      withProvenance((p) => {
        p.limits = { max_bytes: 10, max_documents: 2, max_chunks: 1 };
      }),
    );
    expect(codes(outcome)).toEqual(["CORPUS_LIMIT", "CORPUS_LIMIT", "CORPUS_LIMIT"]);
    expect(outcome.findings.map((f) => f.params)).toEqual([
      { limit: "max_documents", value: 3, recorded: 2 },
      { limit: "max_chunks", value: run.view.retrieval?.provenance.chunks, recorded: 1 },
      { limit: "max_bytes", value: CORPUS.reduce((n, d) => n + Buffer.byteLength(d.text), 0), recorded: 10 },
    ]);
  });

  // Issue 19 item 4: the index is rebuilt from the snapshot (with the same counts, only the bytes differ).
  it("INDEX_NOT_REBUILDABLE: issue 19, an index built with the bridge document's question words blanked", () => {
    const p = run.view.retrieval?.provenance as RetrievalProvenance;
    const blanked = CORPUS.map((d) =>
      d.doc_id === "bridge.md"
        ? { ...d, text: d.text.replace(/trick|won/g, (w) => "x".repeat(w.length)) }
        : d,
    );
    const forged = buildIndex(
      blanked.map((d) => ({
        docId: d.doc_id,
        text: d.text,
        ...(d.title === undefined ? {} : { title: d.title }),
      })),
      toBm25Params({
        analyzer: "english",
        bm25_k1: p.k1,
        bm25_b: p.b,
        chunk_chars: p.chunk_chars,
        overlap_chars: p.overlap_chars,
        index_titles: p.index_titles,
      }),
    );
    const store = run.store.with({});
    const hash = store.put(serializeIndex(forged));
    const view = withProvenance((q) => {
      q.index_hash = hash;
    });
    const outcome = retrievalProvenanceCheck.run(view, sealing(store));
    expect(codes(outcome)).toEqual(["INDEX_NOT_REBUILDABLE"]);
    expect(paramsOf(outcome, "INDEX_NOT_REBUILDABLE")).toEqual({ hash, snapshot: run.snapshotHash });
  });

  it("INDEX_NOT_REBUILT: over the size the default policy rebuilds, the index is trusted and says so", () => {
    // A snapshot just over the limit; the index's counts are the fixture's (only the size matters here).
    const line = snapshotLine({ doc_id: "big.txt", text: "a".repeat(REBUILD_INDEX_MAX_BYTES + 1) });
    const store = run.store.with({});
    const big = store.put(Buffer.from(line, "utf8"));
    const view = edited(
      withProvenance((p) => {
        p.corpus_snapshot = big;
      }),
      (v) => {
        if (v.spec) v.spec.constraints.corpus = `sha256:${big}`;
      },
    );
    const bySize = retrievalProvenanceCheck.run(view, { ...sealing(store), rebuildIndex: "by-size" });
    expect(codes(bySize)).toEqual(["INDEX_NOT_REBUILT"]);
    expect(paramsOf(bySize, "INDEX_NOT_REBUILT")).toEqual({
      bytes: Buffer.byteLength(line),
      limit: REBUILD_INDEX_MAX_BYTES,
    });
    // --policy strict always rebuilds: this index is not the snapshot's.
    const strict = retrievalProvenanceCheck.run(view, { ...sealing(store), rebuildIndex: "always" });
    expect(codes(strict)).toEqual(["INDEX_NOT_REBUILDABLE"]);
  });
});
