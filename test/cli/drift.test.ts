/**
 * The runbook "When an answer changes", followed on real drift: each scenario changes one
 * thing, and `diff` must name exactly that layer first (issue 4).
 */

import { appendFileSync, cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseCorpusRef } from "../../src/core/corpus/corpus-ref.js";
import { liveTools, produceRun } from "../../src/core/pipeline/produce.js";
import { extractiveReasoner } from "../../src/core/reason/extractive.js";
import { verifyRun } from "../../src/core/verify/verifier.js";
import { prepareRetrieval } from "../../src/io/index-cache/index-cache.js";
import { writeRun } from "../../src/io/runs/run-writer.js";
import { DiskStore } from "../../src/io/store/content-store.js";
import { PRODUCER } from "../../src/version.js";
import { DEMO_CORPUS, isCleanError, runCli } from "../helpers/cli.js";
import { demoRun } from "../helpers/demo-run.js";
import { tempDir } from "../helpers/tmp.js";

const QUESTION = "How is a trick won in contract bridge?";
let root: string;
let corpus: string;
let baseline: string;

function run([question, ...args]: string[], corpusPath = corpus): string {
  return demoRun({ question: question ?? QUESTION, corpus: corpusPath, root, args }).runDir;
}

function diff(a: string, b: string) {
  const r = runCli(["diff", a, b, "--json"]);
  expect(r.status).toBe(1);
  return JSON.parse(r.stdout);
}

beforeAll(() => {
  root = tempDir();
  corpus = join(root, "corpus");
  cpSync(DEMO_CORPUS, corpus, { recursive: true });
  baseline = run([QUESTION]);
});

describe("diff names the layer that changed", () => {
  it("identical runs: first_layer null, exit 0", () => {
    const r = runCli(["diff", baseline, run([QUESTION]), "--json"]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ identical: true, first_layer: null, consequences: [] });
  });

  it("a document edited in the corpus -> corpus, naming the document", () => {
    const edited = join(root, "edited");
    cpSync(corpus, edited, { recursive: true });
    const file = join(edited, "culture/contract-bridge.md");
    writeFileSync(file, readFileSync(file, "utf8").replace("highest card", "highest-ranked card"));
    const d = diff(baseline, run([QUESTION], edited));
    expect(d.first_layer).toBe("corpus");
    const corpusLayer = d.layers.find((l: { layer: string }) => l.layer === "corpus");
    expect(corpusLayer.detail).toMatchObject({
      changed: ["culture/contract-bridge.md"],
      added: [],
      removed: [],
    });
    expect(d.consequences).toEqual(expect.arrayContaining(["retrieval", "answer"]));
  });

  it("a document added -> corpus, naming the document", () => {
    const grown = join(root, "grown");
    cpSync(corpus, grown, { recursive: true });
    writeFileSync(
      join(grown, "culture/whist.md"),
      "# Whist\n\nWhist is a trick-taking card game for four players in two partnerships.\n",
    );
    const d = diff(baseline, run([QUESTION], grown));
    expect(d.first_layer).toBe("corpus");
    expect(d.layers.find((l: { layer: string }) => l.layer === "corpus").detail.added).toEqual([
      "culture/whist.md",
    ]);
  });

  it.each([
    ["k1", ["--k1", "0.9"]],
    ["chunk size", ["--chunk-chars", "400", "--overlap-chars", "100"]],
    ["analyzer", ["--analyzer", "simple"]],
    ["top-k", ["--top-k", "3"]],
  ])("%s changed -> index", (_name, flags) => {
    expect(diff(baseline, run([QUESTION, ...flags])).first_layer).toBe("index");
  });

  it("the question reworded -> spec", () => {
    expect(diff(baseline, run(["How do you win a trick in contract bridge?"])).first_layer).toBe("spec");
  });

  it("the reasoner's version changed -> reasoner", async () => {
    const store = new DiskStore(root);
    const prepared = await prepareRetrieval(store, parseCorpusRef(corpus), {
      analyzer: "english",
      bm25_k1: 1.2,
      bm25_b: 0.75,
      chunk_chars: 800,
      overlap_chars: 200,
      index_titles: true,
    });
    const produced = produceRun(
      { version: "1", description: QUESTION, constraints: { corpus: `sha256:${prepared.snapshotHash}` } },
      {
        preset: "default",
        seed: 0,
        producer: PRODUCER,
        reasoner: { ...extractiveReasoner, version: "99" },
        provenance: prepared.backend.provenance,
        dispatcher: liveTools(prepared.backend),
        verify: (files) => verifyRun({ files, store, policy: "audit", stage: "sealing" }),
      },
    );
    const { runDir } = writeRun(root, produced.runId, produced.files);
    const d = diff(baseline, runDir);
    expect(d.first_layer).toBe("reasoner");
    // This build cannot re-derive with another reasoner version: bad input, and it says what to do.
    const replay = runCli(["replay", runDir]);
    expect(replay.status).toBe(2);
    expect(replay.stderr).toMatch(
      /reasoned by extractive 99; this build has extractive 5, extractive 4, extractive 3, extractive 2, extractive 1.*canon-reason diff/,
    );
    expect(d.layers.find((l: { layer: string }) => l.layer === "reasoner").changes).toContainEqual({
      field: "reasoner.version",
      before: extractiveReasoner.version,
      after: "99",
    });
  });

  it("a tampered evidence file -> evidence, and verify names an evidence check first", () => {
    const tampered = join(root, "runs", "tampered");
    cpSync(baseline, tampered, { recursive: true });
    const chunks = JSON.parse(readFileSync(join(tampered, "provenance/chunks.json"), "utf8"));
    appendFileSync(join(tampered, chunks.chunks[0].content_path), "!");
    expect(diff(baseline, tampered).first_layer).toBe("evidence");
    const report = JSON.parse(runCli(["verify", tampered, "--json"]).stdout);
    const firstFailed = report.checks.find((c: { passed: boolean }) => !c.passed);
    expect(firstFailed.invariant).toMatch(/^INV-EVD-/);
  });
});

describe("diff on bad input", () => {
  it("exits 2 when either side is missing or not a run", () => {
    const missing = runCli(["diff", baseline, join(root, "nope")]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no such run directory/);
    const notARun = runCli(["diff", tempDir(), baseline]);
    expect(notARun.status).toBe(2);
    expect(notARun.stderr).toMatch(/no run files in it/);
    expect(isCleanError(notARun)).toBe(true);
  });

  it("exits 2 on a run whose trace does not parse, and points at verify", () => {
    const broken = join(tempDir(), "broken");
    cpSync(baseline, broken, { recursive: true });
    writeFileSync(join(broken, "trace.jsonl"), "garbage\n");
    const r = runCli(["diff", baseline, broken]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/trace\.jsonl line 1 is not valid JSON: run `canon-reason verify` on it first/);
    expect(isCleanError(r)).toBe(true);
  });
});
