/**
 * Index format 1 (before block-max bounds): a store that holds one is not misread or reused for
 * a new run, the index is rebuilt in format 2; and a run pinned to a format-1 index still
 * verifies and replays, frozen and live, with the index it searched. So does a run pinned to a
 * format-3 index, which this build reads but does not write by default.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { canonicalJson, sha256Hex } from "../../src/core/canonical.js";
import { parseCorpusRef, snapshotRef } from "../../src/core/corpus/corpus-ref.js";
import { liveTools, produceRun } from "../../src/core/pipeline/produce.js";
import { resolveParams } from "../../src/core/plan/planner.js";
import { extractiveReasoner } from "../../src/core/reason/extractive.js";
import { getAnalyzer } from "../../src/core/retrieval/analyzer.js";
import { indexFormatVersion, serializeIndex } from "../../src/core/retrieval/bm25/bm25-format.js";
import { type IndexParams, pickIndexParams } from "../../src/core/retrieval/index-params.js";
import { verifyRun } from "../../src/core/verify/verifier.js";
import { prepareRetrieval } from "../../src/io/index-cache/index-cache.js";
import { writeRun } from "../../src/io/runs/run-writer.js";
import { DiskStore } from "../../src/io/store/content-store.js";
import { PRODUCER } from "../../src/version.js";
import { runCli } from "../helpers/cli.js";
import { toFormat1 } from "../helpers/index-format-1.js";
import { SMALL_CORPUS } from "../helpers/produce.js";
import { tempDir, writeFiles } from "../helpers/tmp.js";

const QUESTION = "How is a trick won in contract bridge?";

let root: string;
let corpus: string;
let params: IndexParams;
let snapshotHash: string;
let format1Hash: string;

/** What the format-1 build wrote into a store: the index and its cache pointer. */
beforeAll(async () => {
  root = tempDir();
  corpus = tempDir();
  writeFiles(corpus, SMALL_CORPUS);
  params = pickIndexParams(
    resolveParams({ version: "1", description: "", constraints: { corpus } }, "default"),
  );
  // Build once elsewhere to learn the snapshot and the format-2 bytes to convert.
  const elsewhere = new DiskStore(tempDir());
  const fresh = await prepareRetrieval(elsewhere, parseCorpusRef(corpus), params);
  snapshotHash = fresh.snapshotHash;
  const texts = new Map(Object.entries(SMALL_CORPUS));
  const format1 = toFormat1(elsewhere.get(fresh.indexHash) as Uint8Array, texts);
  const store = new DiskStore(root);
  store.put(elsewhere.get(snapshotHash) as Uint8Array);
  format1Hash = store.put(format1);
  const analyzer = getAnalyzer(params.analyzer);
  const indexOf = {
    snapshot: snapshotHash,
    params,
    analyzer: { id: analyzer.id, version: analyzer.version },
    format: 1,
  };
  store.writeCheckedRef(`index/${sha256Hex(canonicalJson(indexOf))}`, indexOf, format1Hash);
});

describe("a format-1 index in the store", () => {
  it("is rebuilt in format 2 for a new run, never reused", async () => {
    const store = new DiskStore(root);
    const prepared = await prepareRetrieval(store, snapshotRef(snapshotHash), params);
    expect(prepared.built).toBe(true);
    expect(prepared.indexHash).not.toBe(format1Hash);
    expect(indexFormatVersion(store.get(prepared.indexHash) as Uint8Array)).toBe(2);
    expect(prepared.backend.index.arrays.bounds).not.toBeNull();
    const again = await prepareRetrieval(new DiskStore(root), snapshotRef(snapshotHash), params);
    expect([again.built, again.indexHash]).toEqual([false, prepared.indexHash]);
  });

  it("still verifies and replays, frozen and live, in a run pinned to it", async () => {
    const store = new DiskStore(root);
    // The run as the format-1 build made it: its retrieval searched the format-1 index.
    const pinned = await prepareRetrieval(store, snapshotRef(snapshotHash), params, undefined, undefined, {
      pinnedIndex: format1Hash,
    });
    expect(pinned.indexHash).toBe(format1Hash);
    expect(pinned.backend.index.arrays.bounds).toBeNull();
    const produced = produceRun(
      { version: "1", description: QUESTION, constraints: { corpus: `sha256:${snapshotHash}` } },
      {
        preset: "default",
        seed: 0,
        producer: PRODUCER,
        reasoner: extractiveReasoner,
        provenance: pinned.backend.provenance,
        dispatcher: liveTools(pinned.backend),
        verify: (files) => verifyRun({ files, store, policy: "audit", stage: "sealing" }),
      },
    );
    const { runDir } = writeRun(root, produced.runId, produced.files);
    expect(readFileSync(join(runDir, "trace.jsonl"), "utf8")).toContain(format1Hash);
    const verified = runCli(["verify", runDir, "--policy", "strict", "--json"]);
    expect(verified.status).toBe(0);
    const report = JSON.parse(verified.stdout);
    expect(report.verdict).toBe("pass");
    const recompute = report.checks.find((c: { name: string }) => c.name === "retrieval_recompute");
    expect(recompute.details).toMatch(/hit\(s\) recomputed/);
    for (const mode of [[], ["--live"]]) {
      const replayed = runCli(["replay", runDir, ...mode, "--json"]);
      expect(replayed.status).toBe(0);
      expect(JSON.parse(replayed.stdout)).toMatchObject({ identical: true, divergence: null });
    }
  });
});

describe("a run pinned to a format-3 index (compressed postings; issue 25 item 3)", () => {
  it("is searched with that index, and verifies and replays, frozen and live", async () => {
    const store = new DiskStore(root);
    // A format-3 copy of the index this build would write for the snapshot.
    const fresh = await prepareRetrieval(new DiskStore(tempDir()), parseCorpusRef(corpus), params);
    expect(fresh.snapshotHash).toBe(snapshotHash);
    const format3Hash = store.put(serializeIndex(fresh.backend.index, 3));
    expect(indexFormatVersion(store.get(format3Hash) as Uint8Array)).toBe(3);
    const pinned = await prepareRetrieval(store, snapshotRef(snapshotHash), params, undefined, undefined, {
      pinnedIndex: format3Hash,
    });
    expect(pinned.indexHash).toBe(format3Hash);
    const produced = produceRun(
      { version: "1", description: QUESTION, constraints: { corpus: `sha256:${snapshotHash}` } },
      {
        preset: "default",
        seed: 0,
        producer: PRODUCER,
        reasoner: extractiveReasoner,
        provenance: pinned.backend.provenance,
        dispatcher: liveTools(pinned.backend),
        verify: (files) => verifyRun({ files, store, policy: "audit", stage: "sealing" }),
      },
    );
    const { runDir } = writeRun(root, produced.runId, produced.files);
    expect(readFileSync(join(runDir, "trace.jsonl"), "utf8")).toContain(format3Hash);
    const verified = runCli(["verify", runDir, "--policy", "strict", "--json"]);
    expect(verified.status).toBe(0);
    expect(JSON.parse(verified.stdout).verdict).toBe("pass");
    for (const mode of [[], ["--live"]]) {
      const replayed = runCli(["replay", runDir, ...mode, "--json"]);
      expect(replayed.status).toBe(0);
      expect(JSON.parse(replayed.stdout)).toMatchObject({ identical: true, divergence: null });
    }
  });
});
