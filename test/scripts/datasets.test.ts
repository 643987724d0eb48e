// Fetched data is never committed (issue 20 follow-up): the benchmarks and scripts find datasets
// in $CANON_REASON_DATASETS, then ../shared/datasets, check their sha256 (docs/datasets.md), and
// say in one line why one is absent or altered. The real files are not in the repository, so
// these tests build tiny stand-ins: the checks must reject them, and the converter must produce
// the documented layout from SMART-format input.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const MAKE = join(REPO, "scripts", "make-unanswerable-demo-corpus.mjs");
const CONVERT = join(REPO, "scripts", "convert-classic-collections.mjs");

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cr-datasets-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(script: string, args: string[], datasets: string) {
  const r = spawnSync(process.execPath, [script, ...args], {
    cwd: REPO,
    env: { ...process.env, CANON_REASON_DATASETS: datasets, CANON_BENCH_DATASETS: "" },
    encoding: "utf8",
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("make-unanswerable-demo-corpus: datasets looked up and checked, never read from the repo", () => {
  it("an absent scifact-test/ is named in one line, exit 2, nothing written", () => {
    const out = join(dir, "out");
    const r = run(MAKE, [out], join(dir, "empty"));
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/scifact(-test)?\/ not found in .*empty/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("an altered scifact-test/test.tsv is refused, naming the file and both sha256", () => {
    const root = join(dir, "datasets");
    mkdirSync(join(root, "scifact-test"), { recursive: true });
    writeFileSync(join(root, "scifact-test", "test.tsv"), "query-id\tcorpus-id\tscore\n1\t2\t1\n");
    // scifact/ comes from ../shared/datasets when present there; make it local and altered too,
    // so the test does not depend on the shared folder.
    mkdirSync(join(root, "scifact", "qrels"), { recursive: true });
    for (const f of ["corpus.jsonl", "queries.jsonl", "qrels/train.tsv"])
      writeFileSync(join(root, "scifact", f), "{}\n");
    const r = run(MAKE, [join(dir, "out")], root);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/sha256 [0-9a-f]{64}, expected [0-9a-f]{64}/);
  });

  it("a directory where a dataset file should be is not a regular file", () => {
    const root = join(dir, "datasets");
    mkdirSync(join(root, "scifact", "corpus.jsonl"), { recursive: true });
    const r = run(MAKE, [join(dir, "out")], root);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/corpus\.jsonl is not a regular file/);
  });
});

describe("convert-classic-collections: SMART to the BEIR layout, outside the repository", () => {
  const smartDocs = [
    ".I 1",
    ".T",
    "notes on the flight",
    "of paper kites",
    ".A",
    "doe,j.",
    ".W",
    "kites with long tails",
    "fly steadier in gusts .",
    ".I 2",
    ".T",
    "garden hoses",
    ".W",
    "water pressure in a hose",
    "",
  ].join("\n");
  const smartQueries = [
    ".I 001",
    ".W",
    "why do kite tails",
    "help ?",
    ".I 004",
    ".W",
    "hose pressure ?",
    "",
  ].join("\n");

  it("cranfield: queries renumbered in file order, grades 1..4 become 4..1, -1 becomes 0, corpus gzip", () => {
    const src = join(dir, "src");
    mkdirSync(src);
    writeFileSync(join(src, "cran.all.1400"), smartDocs);
    writeFileSync(join(src, "cran.qry"), smartQueries);
    writeFileSync(join(src, "cranqrel"), "1 1 1\n1 2 4\n2 2 -1\n");
    const out = join(dir, "out", "cranfield");
    execFileSync(process.execPath, [CONVERT, "cranfield", src, out], { cwd: REPO });
    const corpus = gunzipSync(readFileSync(join(out, "corpus.jsonl.gz")))
      .toString("utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(corpus).toEqual([
      {
        _id: "1",
        title: "notes on the flight of paper kites",
        text: "kites with long tails fly steadier in gusts .",
      },
      { _id: "2", title: "garden hoses", text: "water pressure in a hose" },
    ]);
    expect(readFileSync(join(out, "queries.jsonl"), "utf8")).toBe(
      `${JSON.stringify({ _id: "1", text: "why do kite tails help ?" })}\n${JSON.stringify({ _id: "2", text: "hose pressure ?" })}\n`,
    );
    expect(readFileSync(join(out, "qrels", "test.tsv"), "utf8")).toBe(
      "query-id\tcorpus-id\tscore\n1\t1\t4\n1\t2\t1\n2\t2\t0\n",
    );
    // Deterministic: converting again gives the same bytes (gzip without a timestamp).
    const first = readFileSync(join(out, "corpus.jsonl.gz"));
    execFileSync(process.execPath, [CONVERT, "cranfield", src, out], { cwd: REPO });
    expect(readFileSync(join(out, "corpus.jsonl.gz")).equals(first)).toBe(true);
  });

  it("refuses an output folder inside the repository (fetched data is never committed), exit 2", () => {
    const src = join(dir, "src");
    mkdirSync(src);
    for (const f of ["CISI.ALL", "CISI.QRY", "CISI.REL"]) writeFileSync(join(src, f), "");
    const r = run(CONVERT, ["cisi", src, join(REPO, "datasets", "cisi")], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/OUT must be outside the repository/);
    const r2 = run(CONVERT, ["cisi", src], dir);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/usage: /);
  });
});
