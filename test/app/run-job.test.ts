/**
 * src/app/run/run-job.ts in process, against temporary folders: one job resolves the corpus into
 * the store, produces, seals and writes the run; the same inputs are the same run (not written
 * twice, wherever the corpus lives); the seal hook sees the files before they are written; bad
 * input (seed, corpus, needs_retrieval) is a typed error before anything is written.
 */
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runJob } from "../../src/app/run/run-job.js";
import { jsonFile } from "../../src/core/artifact/files.js";
import { InputError } from "../../src/core/errors.js";
import { rejection } from "../helpers/canon-error.js";
import { JOB_QUESTION, jobRun } from "../helpers/job-run.js";
import { SMALL_CORPUS } from "../helpers/produce.js";
import { tempDir, writeFiles } from "../helpers/tmp.js";

describe("runJob", () => {
  it("writes runs/<run_id> with the files it returns, pinned to the snapshot, and reports the corpus size", async () => {
    const run = await jobRun();
    expect(run.runDir).toBe(join(run.root, "runs", run.runId));
    expect(run.created).toBe(true);
    expect(run.corpusDocuments).toBe(Object.keys(SMALL_CORPUS).length);
    expect(run.answer.status).toBe("answered");
    for (const [path, bytes] of run.files)
      expect(readFileSync(join(run.runDir, path)), path).toEqual(Buffer.from(bytes));
    const spec = JSON.parse(readFileSync(join(run.runDir, "spec.json"), "utf8"));
    expect(spec.constraints.corpus).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(Object.keys(run.timings).sort()).toEqual(["prepare_ms", "produce_ms", "total_ms"]);
    // The timings are volatile: beside the run's files, never in its manifest.
    const manifest = JSON.parse(readFileSync(join(run.runDir, "manifest.json"), "utf8"));
    expect(Object.keys(manifest.files).some((p) => p.startsWith("volatile/"))).toBe(false);
    expect(existsSync(join(run.runDir, "volatile", "timings.json"))).toBe(true);
  });

  it("the same inputs are the same run: not created again, and the same id from a copy of the corpus elsewhere", async () => {
    const first = await jobRun();
    const again = await jobRun({ root: first.root, corpus: first.corpus });
    expect(again.runId).toBe(first.runId);
    expect(again.created).toBe(false);
    expect(readdirSync(join(first.root, "runs")).filter((n) => !n.startsWith("."))).toEqual([first.runId]);
    const moved = tempDir();
    cpSync(first.corpus, moved, { recursive: true });
    expect((await jobRun({ corpus: moved })).runId).toBe(first.runId);
    // By the pinned snapshot, in the root whose store holds it.
    const spec = JSON.parse(readFileSync(join(first.runDir, "spec.json"), "utf8"));
    expect((await jobRun({ root: first.root, corpus: spec.constraints.corpus })).runId).toBe(first.runId);
  });

  it("the seal hook sees the produced files before they are written (a file it adds is written)", async () => {
    const run = await jobRun({
      seal: (produced) => {
        expect(produced.files.has("manifest.json")).toBe(true);
        produced.files.set("signature.json", jsonFile({ sealed: "by the hook" }));
      },
    });
    expect(JSON.parse(readFileSync(join(run.runDir, "signature.json"), "utf8"))).toEqual({
      sealed: "by the hook",
    });
  });

  it("a question the corpus cannot answer is an insufficient-evidence run that still passes", async () => {
    const run = await jobRun({ question: "Who won the 2018 FIFA World Cup final?" });
    expect(run.answer.status).toBe("insufficient_evidence");
    expect(run.answer.claims).toEqual([]);
    expect(run.report.verdict).toBe("pass");
  });

  it("a spec that needs no retrieval makes a run without a corpus (no evidence, never a fallback)", async () => {
    const root = tempDir();
    const run = await runJob({
      spec: { version: "1", description: JOB_QUESTION, constraints: {} },
      preset: "default",
      seed: 0,
      artifactsRoot: root,
    });
    expect(run.corpusDocuments).toBeNull();
    expect(run.answer.status).toBe("insufficient_evidence");
    expect(run.report.verdict).toBe("pass");
    expect(run.trace.events.some((e) => e.type === "evidence_registered")).toBe(false);
  });

  it.each([
    [-1, "seed"],
    [1.5, "seed"],
    [Number.MAX_SAFE_INTEGER + 1, "seed"],
  ])("seed %d is E_USAGE naming the field, before anything is written", async (seed, field) => {
    const root = tempDir();
    const error = await rejection(
      runJob({
        spec: { version: "1", description: JOB_QUESTION, constraints: { corpus: tempDir() } },
        preset: "default",
        seed,
        artifactsRoot: root,
      }),
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.code).toBe("E_USAGE");
    expect(error.where.field).toBe(field);
    expect(readdirSync(root)).toEqual([]);
  });

  it("retrieval with no corpus, a corpus with needs_retrieval false, a missing folder, an empty folder: typed errors, no run", async () => {
    const root = tempDir();
    const job = (constraints: Record<string, unknown>) =>
      runJob({
        spec: { version: "1", description: JOB_QUESTION, constraints },
        preset: "default",
        seed: 0,
        artifactsRoot: root,
      });
    const none = await rejection(job({ needs_retrieval: true }));
    expect(none.code).toBe("E_SPEC_INVALID");
    expect(none.message).toMatch(/needs_retrieval is true but no corpus is given/);
    const corpus = tempDir();
    writeFiles(corpus, SMALL_CORPUS);
    const notNeeded = await rejection(job({ corpus, needs_retrieval: false }));
    expect([notNeeded.code, notNeeded.where.field]).toEqual([
      "E_SPEC_INVALID",
      "constraints.needs_retrieval",
    ]);
    const missing = await rejection(job({ corpus: join(tempDir(), "nope") }));
    expect(missing.exitCode).toBe(2);
    const empty = await rejection(job({ corpus: tempDir() }));
    expect(empty.exitCode).toBe(2);
    expect(empty.message).toMatch(/no \.txt or \.md document|no documents/);
    const absent = await rejection(job({ corpus: `sha256:${"e".repeat(64)}` }));
    expect(absent.code).toBe("E_STORE_MISSING");
    expect(existsSync(join(root, "runs")) ? readdirSync(join(root, "runs")) : []).toEqual([]);
  });
});
