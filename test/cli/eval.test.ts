import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { DEMO_CORPUS, isCleanError, REPO, runCli } from "../helpers/cli.js";
import { tempDir, writeFiles } from "../helpers/tmp.js";

const SUITE = join(REPO, "demo", "suite");
const BASELINE = join(SUITE, "baseline.json");
const SCIFACT = join(REPO, "..", "shared", "datasets", "scifact");
const SCIFACT_CLAIMS = join(REPO, "..", "shared", "datasets", "scifact-claims");

describe("canon-reason eval --suite", () => {
  it("the bundled suite meets its checked-in baseline (the CI gate)", () => {
    const artifacts = tempDir();
    const r = runCli([
      "eval",
      "--suite",
      SUITE,
      "--artifacts-dir",
      artifacts,
      "--baseline",
      BASELINE,
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.regressions).toEqual([]);
    expect(out.cases).toBe(46);
    // Unanswerable questions have no judgments: excluded from nDCG, not counted as perfect.
    expect(out.metrics.ndcg_at_10.cases).toBe(39);
    // ... and are answered "insufficient evidence", with confidence separating them.
    expect(out.metrics.unanswerable_insufficient_rate).toEqual({ mean: 1, cases: 7 });
    expect(out.metrics.confidence_auroc.mean).toBeGreaterThan(0.9);
    expect(existsSync(join(out.out, "cases.jsonl"))).toBe(true);
    // Every case is a real run that verifies.
    const first = JSON.parse(readFileSync(join(out.out, "cases.jsonl"), "utf8").split("\n")[0] as string);
    expect(runCli(["verify", first.run_id, "--artifacts-dir", artifacts]).status).toBe(0);
  });

  it("--workers 1 and --workers 2 give byte-identical cases.jsonl and summary.json; time and workers go to timings.json", () => {
    const artifacts = tempDir();
    const one = join(artifacts, "one");
    const two = join(artifacts, "two");
    const first = runCli([
      "eval",
      "--suite",
      SUITE,
      "--artifacts-dir",
      artifacts,
      "--out",
      one,
      "--workers",
      "1",
    ]);
    expect(first.status, first.stderr).toBe(0);
    // The wall time is still printed, from timings.json's numbers.
    expect(first.stdout).toMatch(/^demo: 46 case\(s\) in [0-9.]+ s$/m);
    const second = runCli([
      "eval",
      "--suite",
      SUITE,
      "--artifacts-dir",
      artifacts,
      "--out",
      two,
      "--workers",
      "2",
      "--json",
    ]);
    expect(second.status, second.stderr).toBe(0);
    for (const file of ["cases.jsonl", "summary.json"])
      expect(readFileSync(join(two, file)), file).toEqual(readFileSync(join(one, file)));
    const summary = JSON.parse(readFileSync(join(two, "summary.json"), "utf8"));
    expect(Object.keys(summary)).toEqual([
      "suite",
      "kind",
      "cases",
      "failed_cases",
      "config",
      "metrics",
      "calibration",
    ]);
    expect(summary.failed_cases).toBe(0);
    expect(summary.config).toEqual({ preset: "default", overrides: {} });
    const timings = (dir: string) => JSON.parse(readFileSync(join(dir, "timings.json"), "utf8"));
    expect(timings(one)).toMatchObject({ workers: 1, queue: false });
    expect(timings(two)).toMatchObject({ workers: 2, queue: false });
    expect(timings(two).seconds).toBeGreaterThan(0);
    expect(timings(two).run_time_ms_per_case).toBeGreaterThan(0);
    expect(JSON.parse(second.stdout).timings).toEqual(timings(two));
  });

  it("a deliberately worse configuration fails the baseline gate with exit 1", () => {
    const r = runCli([
      "eval",
      "--suite",
      SUITE,
      "--artifacts-dir",
      tempDir(),
      "--baseline",
      BASELINE,
      // Whole-sentence evidence makes the answer robust to chunking down to tiny chunks.
      "--chunk-chars",
      "40",
      "--overlap-chars",
      "0",
    ]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/REGRESSION against the baseline/);
    expect(r.stdout).toMatch(/answer_hit_rate: 0\.\d+ -> 0\.\d+/);
  });

  it("a case with its own index parameters gets its own index (recorded, verified), for any worker count", () => {
    const dir = tempDir();
    writeFiles(dir, {
      "mixed/suite.json": JSON.stringify({
        corpus: relative(join(dir, "mixed"), DEMO_CORPUS),
        name: "mixed",
        version: "1",
      }),
      "mixed/problems.jsonl": [
        { case_id: "shared", description: "When did the Golden Gate Bridge open?" },
        {
          case_id: "own",
          description: "How is a trick won in contract bridge?",
          constraints: { chunk_chars: 300, overlap_chars: 0 },
          expected: { relevant: { "culture/contract-bridge.md": 1 } },
        },
      ]
        .map((c) => JSON.stringify(c))
        .join("\n"),
    });
    const suite = join(dir, "mixed");
    const artifacts = tempDir();
    const outs = ["1", "2"].map((workers) => {
      const out = join(artifacts, `w${workers}`);
      const r = runCli([
        "eval",
        "--suite",
        suite,
        "--artifacts-dir",
        artifacts,
        "--out",
        out,
        "--workers",
        workers,
      ]);
      expect(r.status).toBe(0);
      return readFileSync(join(out, "cases.jsonl"), "utf8");
    });
    expect(outs[1]).toBe(outs[0]);
    const own = JSON.parse((outs[0] as string).split("\n")[1] as string);
    expect(own.metrics.ndcg_at_10).toBe(1);
    const spec = JSON.parse(readFileSync(join(artifacts, "runs", own.run_id, "spec.json"), "utf8"));
    expect(spec.constraints.chunk_chars).toBe(300);
    expect(runCli(["verify", own.run_id, "--artifacts-dir", artifacts]).status).toBe(0);
  });

  it("rejects bad suites, flags and baselines with exit 2, naming file, line and field", () => {
    const dir = tempDir();
    writeFiles(dir, {
      "bad/suite.json": JSON.stringify({ corpus: "../corpus", name: "bad", version: "1" }),
      "bad/problems.jsonl": '{"case_id":"a","description":"ok?"}\n{"case_id":"b"}\n',
      "dup/suite.json": JSON.stringify({ corpus: "../corpus", name: "dup", version: "1" }),
      "dup/problems.jsonl": '{"case_id":"a","description":"x?"}\n{"case_id":"a","description":"y?"}\n',
      "baseline.json": '{"nothing": true}',
      "clash/suite.json": JSON.stringify({ corpus: "../corpus", name: "clash", version: "1" }),
      "clash/problems.jsonl":
        '{"case_id":"a","description":"x?"}\n{"case_id":"b","description":"y?","constraints":{"overlap_chars":300}}\n',
    });
    const bad = runCli(["eval", "--suite", join(dir, "bad")]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`${join(dir, "bad", "problems.jsonl")}:2: field "description"`);
    const dup = runCli(["eval", "--suite", join(dir, "dup")]);
    expect(dup.stderr).toMatch(/problems\.jsonl:2: field "case_id": duplicate case_id "a"/);
    expect(runCli(["eval", "--suite", SUITE, "--baseline", join(dir, "baseline.json")]).stderr).toMatch(
      /E_BASELINE_INVALID/,
    );
    writeFiles(dir, {
      "other.json": JSON.stringify({ ...JSON.parse(readFileSync(BASELINE, "utf8")), suite: "other" }),
    });
    const other = runCli(["eval", "--suite", SUITE, "--baseline", join(dir, "other.json")]);
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/field "suite": the baseline is for "other", this eval is "demo"/);
    expect(runCli(["eval", "--suite", SUITE, "--limit", "0"]).stderr).toMatch(/--limit must be at least 1/);
    // Constraints that only clash with a flag are found before any run, in any worker count.
    const clash = runCli(["eval", "--suite", join(dir, "clash"), "--chunk-chars", "250", "--workers", "2"]);
    expect(clash.status).toBe(2);
    expect(clash.stderr).toMatch(/problems\.jsonl:2: field "constraints\.overlap_chars": case "b"/);
    expect(runCli(["eval"]).stderr).toMatch(/exactly one of --suite DIR or --beir DIR/);
    expect(runCli(["eval", "--suite", join(dir, "missing")]).status).toBe(2);
    for (const r of [bad, dup, other, clash]) expect(isCleanError(r)).toBe(true);
  });
});

describe("canon-reason eval --beir", () => {
  it("reads the BEIR layout directly; queries without judgments in the split are not evaluated", () => {
    const dir = tempDir();
    writeFiles(dir, {
      "corpus.jsonl": [
        { _id: "d1", title: "Tides", text: "Ocean tides are caused by the gravity of the Moon and the Sun." },
        { _id: "d2", title: "Bread", text: "Sourdough bread rises because of wild yeast and bacteria." },
      ]
        .map((d) => JSON.stringify(d))
        .join("\n"),
      "queries.jsonl":
        '{"_id":"q1","text":"What causes ocean tides?"}\n{"_id":"q2","text":"Why does sourdough rise?"}\n{"_id":"q3","text":"unjudged"}\n',
      "qrels/test.tsv": "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n",
    });
    const r = runCli(["eval", "--beir", dir, "--artifacts-dir", tempDir(), "--json"]);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.cases).toBe(2);
    expect(out.metrics.ndcg_at_10).toEqual({ mean: 1, cases: 2 });
    expect(out.metrics.mrr_at_10).toEqual({ mean: 1, cases: 2 });
  });

  it.runIf(existsSync(SCIFACT))("runs on BEIR SciFact (first 20 train queries)", () => {
    const r = runCli([
      "eval",
      "--beir",
      SCIFACT,
      "--split",
      "train",
      "--limit",
      "20",
      "--artifacts-dir",
      tempDir(),
      "--json",
    ]);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.cases).toBe(20);
    expect(out.metrics.ndcg_at_10.mean).toBeGreaterThan(0.4);
    expect(out.metrics.verification_pass_rate.mean).toBe(1);
  });

  it.runIf(existsSync(SCIFACT_CLAIMS))(
    "scores citations against SciFact rationale sentences with --rationales",
    () => {
      const r = runCli([
        "eval",
        "--beir",
        SCIFACT,
        "--split",
        "train",
        "--rationales",
        SCIFACT_CLAIMS,
        "--limit",
        "30",
        "--artifacts-dir",
        tempDir(),
        "--json",
      ]);
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout);
      // Only claims with rationale sentences count; the rest are excluded, not scored as perfect.
      expect(out.metrics.rationale_precision.cases).toBeGreaterThan(0);
      expect(out.metrics.rationale_precision.cases).toBeLessThan(30);
      expect(out.metrics.rationale_precision.mean).toBeGreaterThan(0);
      expect(runCli(["eval", "--suite", SUITE, "--rationales", SCIFACT_CLAIMS]).stderr).toMatch(
        /--rationales needs --beir/,
      );
    },
  );
});
