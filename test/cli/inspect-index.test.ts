import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEMO_CORPUS, isCleanError, runCli } from "../helpers/cli.js";
import { demoRun } from "../helpers/demo-run.js";
import { tempDir } from "../helpers/tmp.js";

describe("canon-reason index", () => {
  it("builds once, then reuses the cached index, printing corpus and index hashes", () => {
    const artifacts = tempDir();
    const first = runCli(["index", DEMO_CORPUS, "--artifacts-dir", artifacts, "--json"]);
    expect(first.status).toBe(0);
    const built = JSON.parse(first.stdout);
    expect(built.corpus_snapshot).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(built.index_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(built).toMatchObject({ cached: false, documents: 40 });
    expect(built.chunks).toBeGreaterThan(40);
    const second = JSON.parse(runCli(["index", DEMO_CORPUS, "--artifacts-dir", artifacts, "--json"]).stdout);
    expect(second).toEqual({ ...built, cached: true });
    const plain = runCli(["index", DEMO_CORPUS, "--artifacts-dir", artifacts]);
    expect(plain.stdout).toContain(`corpus snapshot  ${built.corpus_snapshot}`);
    expect(plain.stdout).toContain(`index            ${built.index_hash} (cached)`);
  });

  it("gives another index hash for other parameters, the same corpus hash", () => {
    const artifacts = tempDir();
    const a = JSON.parse(runCli(["index", DEMO_CORPUS, "--artifacts-dir", artifacts, "--json"]).stdout);
    const b = JSON.parse(
      runCli(["index", DEMO_CORPUS, "--artifacts-dir", artifacts, "--json", "--k1", "0.9"]).stdout,
    );
    expect(b.corpus_snapshot).toBe(a.corpus_snapshot);
    expect(b.index_hash).not.toBe(a.index_hash);
  });

  it("rejects bad parameters and paths with exit 2", () => {
    const artifacts = tempDir();
    for (const args of [
      ["index", DEMO_CORPUS, "--analyzer", "nope"],
      ["index", DEMO_CORPUS, "--chunk-chars", "10", "--overlap-chars", "10"],
      ["index", "/nonexistent/path"],
      ["index", DEMO_CORPUS, "--max-chunks", "5"],
    ]) {
      const r = runCli([...args, "--artifacts-dir", artifacts]);
      expect(r.status, args.join(" ")).toBe(2);
      expect(isCleanError(r)).toBe(true);
    }
  });
});

describe("canon-reason inspect", () => {
  it("summarizes question, answer, quoted evidence, ranking and checks, by directory or run id", () => {
    const { root: artifacts, json: run } = demoRun();
    for (const ref of [run.run_dir, run.run_id]) {
      const r = runCli(["inspect", ref, "--artifacts-dir", artifacts]);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain("Question  When did the Golden Gate Bridge open?");
      expect(r.stdout).toMatch(/Answer {4}.*1937/);
      expect(r.stdout).toContain("technology/suspension-bridges.md bytes");
      expect(r.stdout).toMatch(/Retrieval {2}query "When did the Golden Gate Bridge open\?"/);
      expect(r.stdout).toMatch(/ {2}1\. [\d.]+ +technology\/suspension-bridges\.md/);
      expect(r.stdout).toMatch(/Checks \(verified now, policy audit\): verdict PASS/);
      // Issue 19: the labels, which no check can establish, are shown as such.
      expect(r.stdout).toContain("Recorded, not verified (labels no check can establish):");
      expect(r.stdout).toMatch(/run\.json inputs\.seed +0/);
      expect(r.stdout).toMatch(/run\.json inputs\.producer\.name +canon-reason/);
    }
    const json = JSON.parse(runCli(["inspect", run.run_id, "--artifacts-dir", artifacts, "--json"]).stdout);
    expect(json.answer.run_id).toBe(run.run_id);
    expect(json.recorded_not_verified.map((l: { field: string }) => l.field)).toEqual(
      expect.arrayContaining([
        "run.json inputs.seed",
        "run.json inputs.runtime.tools.0.config.limits.max_bytes",
      ]),
    );
  });

  it("exits 2 on something that is not a run", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "file.txt"), "x");
    for (const ref of [join(dir, "missing"), join(dir, "file.txt"), dir, `run_v1_${"0".repeat(64)}`]) {
      const r = runCli(["inspect", ref, "--artifacts-dir", dir]);
      expect(r.status, ref).toBe(2);
      expect(isCleanError(r)).toBe(true);
    }
  });
});
