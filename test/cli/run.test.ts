import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { DEMO_CORPUS, isCleanError, runCli } from "../helpers/cli.js";
import { demoRun, demoRunArgs } from "../helpers/demo-run.js";
import { tempDir, writeFiles } from "../helpers/tmp.js";

const QUESTION = "Why did the Tacoma Narrows Bridge collapse?";

function filesOutsideVolatile(runDir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const rel = relative(runDir, full);
      if (rel === "volatile") continue;
      if (statSync(full).isDirectory()) walk(full);
      else out.set(rel, readFileSync(full));
    }
  };
  walk(runDir);
  return out;
}

describe("canon-reason run", () => {
  it("answers from the demo corpus with quoted citations and a run directory", () => {
    const artifacts = tempDir();
    const result = runCli(["run", QUESTION, "--corpus", DEMO_CORPUS, "--artifacts-dir", artifacts]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Question: ${QUESTION}`);
    expect(result.stdout).toMatch(/Answer:\n {2}\S/);
    expect(result.stdout).toMatch(/\[1\] +"[^"]+"/);
    expect(result.stdout).toContain("technology/suspension-bridges.md, bytes ");
    expect(result.stdout).toMatch(/Verification: PASS/);
    expect(result.stdout).toContain(join(artifacts, "runs", "run_v1_"));
  });

  it("prints one JSON object with --json, whose citations quote the exact document bytes", () => {
    const { root: artifacts, json: out } = demoRun({ question: QUESTION });
    expect(Object.keys(out)).toEqual(
      expect.arrayContaining(["run_id", "run_dir", "answer", "claims", "verification"]),
    );
    expect(out.run_dir).toBe(join(artifacts, "runs", out.run_id));
    expect(out.claims.length).toBeGreaterThan(0);
    for (const citation of out.claims[0].citations) {
      const doc = readFileSync(join(DEMO_CORPUS, citation.doc_id));
      expect(doc.subarray(citation.doc_span[0], citation.doc_span[1]).toString("utf8")).toBe(citation.quote);
    }
  });

  it("gives the same run id and byte-identical files from another directory, TZ and LANG", () => {
    const artifactsA = tempDir();
    const artifactsB = tempDir();
    const elsewhere = tempDir();
    const runA = demoRun({ question: QUESTION, root: artifactsA, env: { TZ: "UTC", LANG: "C" } });
    const runB = demoRun({
      question: QUESTION,
      corpus: relative(elsewhere, DEMO_CORPUS),
      root: artifactsB,
      cwd: elsewhere,
      env: { TZ: "Pacific/Chatham", LANG: "tr_TR.UTF-8", LC_ALL: "tr_TR.UTF-8" },
    });
    expect(runB.runId).toBe(runA.runId);
    const filesA = filesOutsideVolatile(runA.runDir);
    const filesB = filesOutsideVolatile(runB.runDir);
    expect([...filesB.keys()].sort()).toEqual([...filesA.keys()].sort());
    for (const [path, bytes] of filesA)
      expect(Buffer.compare(bytes, filesB.get(path) as Buffer), path).toBe(0);
  });

  it("is idempotent: the same inputs into the same artifacts root keep one identical run", () => {
    const first = demoRun({ question: QUESTION });
    const artifacts = first.root;
    const before = filesOutsideVolatile(first.runDir);
    const second = demoRun({ question: QUESTION, root: artifacts });
    expect(second.runId).toBe(first.runId);
    expect(readdirSync(join(artifacts, "runs")).filter((n) => !n.startsWith("."))).toEqual([first.runId]);
    for (const [path, bytes] of filesOutsideVolatile(second.runDir))
      expect(Buffer.compare(bytes, before.get(path) as Buffer)).toBe(0);
  });

  it("accepts a pinned snapshot (--corpus sha256:...) and gives the same run as the path", () => {
    const byPath = demoRun({ question: QUESTION });
    const spec = JSON.parse(readFileSync(join(byPath.runDir, "spec.json"), "utf8"));
    expect(spec.constraints.corpus).toMatch(/^sha256:[0-9a-f]{64}$/);
    const pinned = runCli(
      demoRunArgs({ question: QUESTION, corpus: spec.constraints.corpus, root: byPath.root }),
    );
    expect(pinned.stderr).toBe("");
    expect(JSON.parse(pinned.stdout).run_id).toBe(byPath.runId);
    const missing = runCli(
      demoRunArgs({ question: QUESTION, corpus: spec.constraints.corpus, root: tempDir() }),
    );
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/E_STORE_MISSING.*is not in the store/);
  });

  it("answers 'insufficient evidence' instead of citing a stop-word match", () => {
    const { json: out } = demoRun({ question: "Who is the one that was there?" });
    expect(out.status).toBe("insufficient_evidence");
    expect(out.answer).toBeNull();
    expect(out.claims).toEqual([]);
    expect(out.uncertainty).toMatch(/Insufficient evidence/);
  });

  it("runs from a spec file written by init, resolving its corpus path relative to the file", () => {
    const dir = tempDir();
    const init = runCli(["init", "--target", dir]);
    expect(init.status).toBe(0);
    const again = runCli(["init", "--target", dir]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
    const result = runCli(
      ["run", "--spec", join(dir, "canon-spec.json"), "--artifacts-dir", join(dir, "art"), "--json"],
      { cwd: tempDir() },
    );
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout).status).toBe("answered");
  });
});

describe("canon-reason run: bad input exits 2 with a message naming file, line and field", () => {
  const cases: Array<[string, () => string[], RegExp]> = [
    ["no corpus", () => ["run", QUESTION], /a corpus is required/],
    ["no question", () => ["run", "--corpus", DEMO_CORPUS], /give a question/],
    [
      "a missing corpus path",
      () => ["run", QUESTION, "--corpus", "/nonexistent/corpus.jsonl"],
      /\/nonexistent\/corpus\.jsonl: cannot read corpus/,
    ],
    [
      "a non-integer flag",
      () => ["run", QUESTION, "--corpus", DEMO_CORPUS, "--top-k", "many"],
      /--top-k must be an integer/,
    ],
    [
      "an out-of-range flag",
      () => ["run", QUESTION, "--corpus", DEMO_CORPUS, "--top-k", "0"],
      /field "constraints\.top_k"/,
    ],
    [
      "an unknown analyzer",
      () => ["run", QUESTION, "--corpus", DEMO_CORPUS, "--analyzer", "klingon"],
      /field "constraints\.analyzer"/,
    ],
    [
      "an unknown preset",
      () => ["run", QUESTION, "--corpus", DEMO_CORPUS, "--preset", "turbo"],
      /unknown preset "turbo"/,
    ],
    [
      "overlap >= chunk",
      () => ["run", QUESTION, "--corpus", DEMO_CORPUS, "--chunk-chars", "100", "--overlap-chars", "100"],
      /overlap_chars must be smaller/,
    ],
    [
      "an unknown option",
      () => ["run", QUESTION, "--corpus", DEMO_CORPUS, "--frobnicate"],
      /unknown option '--frobnicate'/,
    ],
  ];
  it.each(cases)("%s", (_name, args, message) => {
    const result = runCli([...args(), "--artifacts-dir", tempDir()]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("an invalid spec file field, and an unknown constraint", () => {
    const dir = tempDir();
    writeFiles(dir, {
      "bad.json": JSON.stringify({
        version: "1",
        description: "q?",
        constraints: { corpus: DEMO_CORPUS, top_k: "five" },
      }),
      "unknown.json": JSON.stringify({
        version: "1",
        description: "q?",
        constraints: { corpus: DEMO_CORPUS, temperature: 1 },
      }),
      "broken.json": '{\n  "version": "1",\n  "description": "q?",\n}\n',
      "version.json": JSON.stringify({
        version: "9",
        description: "q?",
        constraints: { corpus: DEMO_CORPUS },
      }),
    });
    const bad = runCli(["run", "--spec", join(dir, "bad.json"), "--artifacts-dir", dir]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`${join(dir, "bad.json")}: field "constraints.top_k"`);
    const unknown = runCli(["run", "--spec", join(dir, "unknown.json"), "--artifacts-dir", dir]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/temperature/);
    const broken = runCli(["run", "--spec", join(dir, "broken.json"), "--artifacts-dir", dir]);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/broken\.json:4: not valid JSON/);
    const version = runCli(["run", "--spec", join(dir, "version.json"), "--artifacts-dir", dir]);
    expect(version.status).toBe(2);
    expect(version.stderr).toMatch(/field "version"/);
    for (const r of [bad, unknown, broken, version]) expect(isCleanError(r)).toBe(true);
  });

  it("a malformed corpus line, a duplicate doc_id and an empty corpus", () => {
    const dir = tempDir();
    writeFiles(dir, {
      "bad.jsonl": '{"doc_id":"a","text":"fine text"}\n{"doc_id":"b","text":\n',
      "dup.jsonl": '{"doc_id":"a","text":"x y z"}\n{"doc_id":"a","text":"x"}\n',
      "empty.jsonl": "",
    });
    const bad = runCli(
      demoRunArgs({ question: QUESTION, corpus: join(dir, "bad.jsonl"), root: join(dir, "art") }),
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`${join(dir, "bad.jsonl")}:2: not valid JSON`);
    const dup = runCli(
      demoRunArgs({ question: QUESTION, corpus: join(dir, "dup.jsonl"), root: join(dir, "art") }),
    );
    expect(dup.status).toBe(2);
    expect(dup.stderr).toContain(`${join(dir, "dup.jsonl")}:2: field "doc_id": duplicate doc_id "a"`);
    const empty = runCli(
      demoRunArgs({ question: QUESTION, corpus: join(dir, "empty.jsonl"), root: join(dir, "art") }),
    );
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/no documents/);
  });
});
