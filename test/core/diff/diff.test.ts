/**
 * The diff core on runs produced in process: each variant changes one input, and the diff
 * must name exactly that layer first, attributing by meaning, not by file (docs/design.md §6, issue 4).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { toRunView } from "../../../src/core/artifact/view.js";
import { diffRuns, fieldChanges, type RunDiff } from "../../../src/core/diff/diff.js";
import { LAYERS } from "../../../src/core/diff/layers.js";
import { extractiveReasoner } from "../../../src/core/reason/extractive.js";
import { PRODUCER } from "../../../src/version.js";
import {
  type FixtureOptions,
  type ProducedFixture,
  produceFixture,
  SMALL_CORPUS,
  withFiles,
} from "../../helpers/produce.js";

const QUESTION = "How is a trick won in contract bridge?";
let base: ProducedFixture;

const variant = (options: FixtureOptions, question = QUESTION) => produceFixture(question, options);
const diff = (a: ProducedFixture, b: ProducedFixture): RunDiff =>
  diffRuns(a.view, b.view, { a: a.documents, b: b.documents });
const layer = (d: RunDiff, name: string) => d.layers.find((l) => l.layer === name);

beforeAll(async () => {
  base = await produceFixture(QUESTION);
});

describe("diffRuns", () => {
  it("finds nothing between two runs of the same inputs", async () => {
    const again = await produceFixture(QUESTION);
    expect(again.runId).toBe(base.runId);
    const d = diff(base, again);
    expect(d).toMatchObject({ identical: true, first_layer: null, consequences: [] });
    expect(d.layers.map((l) => l.layer)).toEqual([...LAYERS]);
  });

  it("the producer version -> producer", async () => {
    const d = diff(base, await variant({ producer: { name: "canon-reason", version: "9.9.9" } }));
    expect(d.first_layer).toBe("producer");
    expect(layer(d, "producer")?.changes).toContainEqual({
      field: "run.version",
      before: PRODUCER.version,
      after: "9.9.9",
    });
  });

  it("the question reworded -> spec", async () => {
    const d = diff(base, await variant({}, "How do you win a trick in contract bridge?"));
    expect(d.first_layer).toBe("spec");
    expect(layer(d, "spec")?.changes[0]).toMatchObject({ field: "description" });
  });

  it("the seed -> runtime", async () => {
    const d = diff(base, await variant({ seed: 7 }));
    expect(d.first_layer).toBe("runtime");
    expect(d.consequences).toEqual([]);
  });

  it.each([
    ["bm25_k1", { bm25_k1: 0.9 }],
    ["bm25_b", { bm25_b: 0.3 }],
    ["chunk_chars", { chunk_chars: 60, overlap_chars: 10 }],
    ["analyzer", { analyzer: "simple" as const }],
    ["top_k", { top_k: 1 }],
  ])("a spec that differs only in %s -> index, not spec or plan", async (_name, constraints) => {
    const d = diff(base, await variant({ constraints }));
    expect(d.first_layer).toBe("index");
    expect(layer(d, "spec")?.changed).toBe(false);
    expect(layer(d, "plan")?.changed).toBe(false);
    expect(layer(d, "runtime")?.changed).toBe(false);
  });

  it("k1 changed: retrieval lists score deltas by chunk location", async () => {
    const d = diff(base, await variant({ constraints: { bm25_k1: 0.5 } }));
    expect(d.consequences).toContain("retrieval");
    const moved = layer(d, "retrieval")?.detail?.moved as Array<Record<string, unknown>>;
    expect(moved.length).toBeGreaterThan(0);
    expect(moved[0]).toMatchObject({ chunk: expect.stringMatching(/^[a-z]+\.md@\d+-\d+$/) });
    expect(typeof moved[0]?.score_delta).toBe("number");
  });

  it("the reasoner's version -> reasoner, although run.json's runtime records it", async () => {
    const d = diff(base, await variant({ reasoner: { ...extractiveReasoner, version: "99" } }));
    expect(d.first_layer).toBe("reasoner");
    expect(layer(d, "runtime")?.changed).toBe(false);
    expect(layer(d, "reasoner")?.changes).toContainEqual({
      field: "reasoner.version",
      before: extractiveReasoner.version,
      after: "99",
    });
  });

  it("a document edited, added or removed -> corpus, naming the documents", async () => {
    const edited = {
      ...SMALL_CORPUS,
      "bridge.md": (SMALL_CORPUS["bridge.md"] as string).replace("highest", "top"),
    };
    const { "tea.md": _tea, ...removed } = SMALL_CORPUS;
    const cases: Array<[Record<string, string>, Record<string, string[]>]> = [
      [edited, { changed: ["bridge.md"], added: [], removed: [] }],
      [
        { ...SMALL_CORPUS, "whist.md": "# Whist\n\nWhist is a trick-taking game.\n" },
        { added: ["whist.md"] },
      ],
      [removed, { removed: ["tea.md"], changed: [] }],
    ];
    for (const [corpus, expected] of cases) {
      const d = diff(base, await variant({ corpus }));
      expect(d.first_layer).toBe("corpus");
      expect(layer(d, "corpus")?.detail).toMatchObject(expected);
    }
  });

  it("says so when a corpus snapshot is not in the store, instead of listing nothing", async () => {
    const other = await variant({ corpus: { ...SMALL_CORPUS, "whist.md": "# Whist\n" } });
    const d = diffRuns(base.view, other.view, { a: base.documents, b: null });
    expect(layer(d, "corpus")?.detail).toMatchObject({ documents_compared: false });
  });

  it("a tampered evidence file -> evidence, with the hash of the bytes actually present", () => {
    const [path, bytes] = [...base.files].find(([p]) => p.startsWith("evidence/")) as [string, Uint8Array];
    const tampered = withFiles(base.files, { [path]: Buffer.concat([bytes, Buffer.from("!")]) });
    const d = diffRuns(base.view, toRunView(tampered).view, { a: base.documents, b: base.documents });
    expect(d.first_layer).toBe("evidence");
    const change = layer(d, "evidence")?.changes[0];
    expect(change?.field).toMatch(/\.actual$/);
    expect(change?.before).toBe(path.slice("evidence/".length, -".txt".length));
  });

  it("an insufficient-evidence run against an answered one: the reasoner output changed", async () => {
    const d = diff(base, await variant({ constraints: { min_supports_per_claim: 5, max_citations: 5 } }));
    expect(d.first_layer).toBe("spec");
    expect(d.consequences).toEqual(expect.arrayContaining(["plan", "reasoner", "answer"]));
    expect(layer(d, "reasoner")?.changes.some((c) => c.after === "insufficient_evidence")).toBe(true);
  });
});

describe("fieldChanges", () => {
  it("lists every differing leaf with its path, up to a cap", () => {
    expect(fieldChanges({ a: [1, 2], b: { c: "x" } }, { a: [1, 3], b: { c: "y" } })).toEqual([
      { field: "a[1]", before: 2, after: 3 },
      { field: "b.c", before: "x", after: "y" },
    ]);
    const many = (v: number) => Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, v]));
    expect(fieldChanges(many(0), many(1))).toHaveLength(20);
  });
});
