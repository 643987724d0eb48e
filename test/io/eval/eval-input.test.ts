/**
 * The eval input readers (src/io/eval/eval-input.ts) against temporary folders: a suite folder, a
 * BEIR folder, SciFact rationales and a baseline file, each read as hostile input. Every bad
 * file is E_SUITE_INVALID (or E_ENCODING / E_BASELINE_INVALID) naming the file, and the line
 * where there is one; a FIFO, a folder or a device where a file should be is refused without
 * being opened (never a hang, never an endless read).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadBeir, loadSuite, readBaseline, withRationales } from "../../../src/io/eval/eval-input.js";
import { thrown } from "../../helpers/canon-error.js";
import { tempDir, writeFiles } from "../../helpers/tmp.js";

const SUITE = JSON.stringify({ corpus: "corpus", name: "demo", version: "1", constraints: { top_k: 4 } });
const lines = (...values: unknown[]) => values.map((v) => JSON.stringify(v)).join("\n");

function suite(files: Record<string, string | Uint8Array>): string {
  const dir = tempDir();
  writeFiles(dir, { "suite.json": SUITE, ...files });
  return dir;
}

describe("loadSuite", () => {
  it("reads the cases in order, merging the suite's constraints under each case's, the corpus resolved from the suite folder", () => {
    const dir = suite({
      "problems.jsonl": `${lines(
        { case_id: "a", description: "What is a trick?", expected: { relevant: { "bridge.md": 2 } } },
        { case_id: "b", description: "Who won?", constraints: { top_k: 2 }, expected: { answerable: false } },
      )}\n\n`,
    });
    const input = loadSuite(dir);
    expect(input).toMatchObject({ kind: "suite", name: "demo", corpus: join(dir, "corpus") });
    expect(input.cases.map((c) => [c.case_id, c.constraints, c.where?.line])).toEqual([
      ["a", { top_k: 4 }, 1],
      ["b", { top_k: 2 }, 2],
    ]);
    expect(input.cases[1]?.expected).toEqual({ answerable: false });
  });

  it("strips a UTF-8 byte order mark from suite.json and problems.jsonl", () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const dir = suite({
      "suite.json": Buffer.concat([bom, Buffer.from(SUITE)]),
      "problems.jsonl": Buffer.concat([bom, Buffer.from(lines({ case_id: "a", description: "q?" }))]),
    });
    expect(loadSuite(dir).cases).toHaveLength(1);
  });

  it.each([
    ["suite.json not JSON", { "suite.json": "{ nope" }, "suite.json", /not valid JSON/],
    [
      "suite.json with an unknown field",
      { "suite.json": JSON.stringify({ corpus: "c", name: "n", version: "1", extra: 1 }) },
      "suite.json",
      /extra/,
    ],
    [
      "suite.json of another version",
      { "suite.json": JSON.stringify({ corpus: "c", name: "n", version: "2" }) },
      "suite.json",
      /expected "1"/,
    ],
    ["no problems.jsonl", {}, "problems.jsonl", /cannot read: no such file/],
    ["an empty problems.jsonl", { "problems.jsonl": "\n \n" }, "problems.jsonl", /the suite has no problems/],
    [
      "a duplicate case_id",
      { "problems.jsonl": lines({ case_id: "a", description: "q?" }, { case_id: "a", description: "r?" }) },
      "problems.jsonl",
      /duplicate case_id "a"/,
    ],
    [
      "a blank description",
      { "problems.jsonl": lines({ case_id: "a", description: "   " }) },
      "problems.jsonl",
      /field "description"/,
    ],
    ["a line that is not JSON", { "problems.jsonl": '{"case_id":"a"\n' }, "problems.jsonl", /not valid JSON/],
    [
      "a lone surrogate",
      { "problems.jsonl": '{"case_id":"a","description":"q\\ud800?"}\n' },
      "problems.jsonl",
      /surrogate/,
    ],
  ] as Array<[string, Record<string, string>, string, RegExp]>)(
    "%s: exit 2 naming the file",
    (_name, files, file, message) => {
      const dir = suite(files);
      const error = thrown(() => loadSuite(dir));
      // A lone surrogate is the encoding rule's error; everything else the suite's.
      expect(error.code).toBe(
        file === "problems.jsonl" && /surrogate/.test(String(message)) ? "E_ENCODING" : "E_SUITE_INVALID",
      );
      expect(error.exitCode).toBe(2);
      expect(error.describe()).toMatch(message);
      expect(error.where.file).toBe(join(dir, file));
    },
  );

  it("a folder without suite.json (or no folder) is E_SUITE_INVALID naming the file", () => {
    for (const dir of [tempDir(), join(tempDir(), "missing")]) {
      const error = thrown(() => loadSuite(dir));
      expect(error.code).toBe("E_SUITE_INVALID");
      expect(error.message).toMatch(/cannot read: no such file/);
      expect(error.where.file).toBe(join(dir, "suite.json"));
    }
  });

  it("names the line of a bad problem", () => {
    const dir = suite({
      "problems.jsonl": `${lines({ case_id: "a", description: "q?" })}\n\n{"case_id": 7}\n`,
    });
    const error = thrown(() => loadSuite(dir));
    expect(error.where).toMatchObject({ file: join(dir, "problems.jsonl"), line: 3 });
  });

  it("invalid UTF-8 is E_ENCODING naming the line and byte offset", () => {
    const bytes = Buffer.concat([
      Buffer.from(`${lines({ case_id: "a", description: "q?" })}\n{"case_id":"b","description":"`),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}\n'),
    ]);
    const dir = suite({ "problems.jsonl": bytes });
    const error = thrown(() => loadSuite(dir));
    expect(error.code).toBe("E_ENCODING");
    expect(error.where).toMatchObject({ file: join(dir, "problems.jsonl"), line: 2 });
    expect(error.message).toMatch(/byte offset \d+/);
  });

  it("a FIFO, a folder or a device in place of a file is refused without being opened", () => {
    const fifo = suite({});
    execFileSync("mkfifo", [join(fifo, "problems.jsonl")]);
    expect(thrown(() => loadSuite(fifo)).message).toMatch(/a FIFO \(named pipe\), not a regular file/);
    const folder = suite({});
    mkdirSync(join(folder, "problems.jsonl"));
    expect(thrown(() => loadSuite(folder)).message).toMatch(/a folder, not a regular file/);
    const device = tempDir();
    symlinkSync("/dev/zero", join(device, "suite.json"));
    expect(thrown(() => loadSuite(device)).message).toMatch(/a device, not a regular file/);
  });
});

describe("loadBeir", () => {
  const beir = (qrels: string, queries: unknown[]) => {
    const dir = tempDir();
    writeFiles(dir, {
      "corpus.jsonl": lines({ _id: "d1", text: "x" }),
      "queries.jsonl": lines(...queries),
      "qrels/test.tsv": qrels,
    });
    return dir;
  };

  it("reads the judged queries of a split only, the header line skipped, grades by document", () => {
    const dir = beir("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t2\n", [
      { _id: "q1", text: "first?" },
      { _id: "q2", text: "unjudged?" },
    ]);
    const input = loadBeir(dir, "test");
    expect(input).toMatchObject({ kind: "beir", corpus: join(dir, "corpus.jsonl") });
    expect(input.name).toMatch(/-test$/);
    expect(input.cases).toEqual([
      { case_id: "q1", description: "first?", constraints: {}, expected: { relevant: { d1: 1, d2: 2 } } },
    ]);
  });

  it("a malformed qrels line names its line; no judged query, a missing split or a bad query line are refused", () => {
    const bad = beir("h\nq1\td1\tmany\n", [{ _id: "q1", text: "q?" }]);
    expect(thrown(() => loadBeir(bad, "test")).where).toMatchObject({ line: 2 });
    const none = beir("h\nq9\td1\t1\n", [{ _id: "q1", text: "q?" }]);
    expect(thrown(() => loadBeir(none, "test")).message).toMatch(/no query has judgments in split "test"/);
    expect(thrown(() => loadBeir(none, "dev")).where.file).toBe(join(none, "qrels", "dev.tsv"));
    const query = beir("h\nq1\td1\t1\n", [{ _id: "q1" }]);
    expect(thrown(() => loadBeir(query, "test")).where).toMatchObject({
      file: join(query, "queries.jsonl"),
      line: 1,
    });
  });
});

describe("withRationales", () => {
  it("locates each rationale sentence as a UTF-8 byte span of the BEIR document text", () => {
    const dir = tempDir();
    const text = "Café first. Ünïcode second sentence. Third.";
    writeFiles(dir, {
      "corpus.jsonl": lines({ _id: "7", text }),
      "queries.jsonl": lines({ _id: "1", text: "claim?" }),
      "qrels/test.tsv": "h\n1\t7\t1\n",
      "claims_test.jsonl": lines({ id: 1, evidence: { "7": [{ sentences: [1] }] } }),
    });
    const sentencesDir = tempDir();
    writeFiles(sentencesDir, {
      "claims_test.jsonl": lines({ id: 1, evidence: { "7": [{ sentences: [1] }] } }),
      "corpus.jsonl": lines({ doc_id: 7, abstract: ["Café first.", "Ünïcode second sentence.", "Third."] }),
    });
    const input = withRationales(loadBeir(dir, "test"), sentencesDir, "test");
    const spans = input.cases[0]?.rationales?.["7"] ?? [];
    expect(spans).toHaveLength(1);
    const [start, end] = spans[0] as [number, number];
    expect(Buffer.from(text, "utf8").subarray(start, end).toString("utf8")).toBe("Ünïcode second sentence.");
  });
});

describe("readBaseline", () => {
  it("reads a baseline summary and refuses a foreign or hand-broken one as E_BASELINE_INVALID", () => {
    const dir = tempDir();
    writeFiles(dir, {
      "good.json": JSON.stringify({ suite: "demo", metrics: { ndcg_at_10: { mean: 0.5, cases: 3 } } }),
      "bad.json": JSON.stringify({ suite: "demo", metrics: { ndcg_at_10: { mean: "high", cases: -1 } } }),
    });
    expect(readBaseline(join(dir, "good.json")).metrics.ndcg_at_10).toEqual({ mean: 0.5, cases: 3 });
    const error = thrown(() => readBaseline(join(dir, "bad.json")));
    expect(error.code).toBe("E_BASELINE_INVALID");
    expect(error.where.file).toBe(join(dir, "bad.json"));
  });
});
