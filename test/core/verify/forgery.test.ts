/**
 * Forgeries a recomputing verifier catches without a signature (issue 8): each edits a real run,
 * then recomputes every id, every derived file, the report and the manifest, as a forger with
 * the producer's code would. `verify` must fail every one, and name the check that recomputes
 * what was forged.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runJob } from "../../../src/app/run/run-job.js";
import { jsonFile, RUN_FILES, type RunFiles } from "../../../src/core/artifact/files.js";
import { buildManifest } from "../../../src/core/artifact/manifest.js";
import { withId } from "../../../src/core/canonical.js";
import type { VerificationReport } from "../../../src/core/models/verification-report.js";
import { verifyRun } from "../../../src/core/verify/verifier.js";
import { readRunDirectory } from "../../../src/io/runs/run-reader.js";
import { DiskStore } from "../../../src/io/store/content-store.js";
import { DEMO_CORPUS, runCli } from "../../helpers/cli.js";
import { demoRun } from "../../helpers/demo-run.js";
import { forgeRun } from "../../helpers/forge.js";
import { tempDir } from "../../helpers/tmp.js";

const QUESTION = "How is a trick won in contract bridge?";

let artifacts: string;
let runDir: string;
let store: DiskStore;
let files: Map<string, Uint8Array>;

beforeAll(async () => {
  artifacts = tempDir();
  const result = await runJob({
    spec: { version: "1", description: QUESTION, constraints: { corpus: DEMO_CORPUS } },
    preset: "default",
    seed: 0,
    artifactsRoot: artifacts,
  });
  runDir = result.runDir;
  store = new DiskStore(artifacts);
  files = readRunDirectory(runDir).files;
});

const verify = (f: ReadonlyMap<string, Uint8Array>) =>
  verifyRun({ files: f, store, policy: "audit", stage: "sealed" });
const failed = (r: VerificationReport) => r.checks.filter((c) => !c.passed).map((c) => c.name);
const codes = (r: VerificationReport) => r.failures.map((f) => f.code);

/** Replaces report.json after sealing (as a forger who edits the verdict would), then re-seals the manifest. */
function editReport(edit: (report: VerificationReport) => void): RunFiles {
  const out: RunFiles = new Map(files);
  const report = JSON.parse(Buffer.from(files.get(RUN_FILES.report) as Uint8Array).toString("utf8"));
  edit(report);
  const { id: _stale, ...body } = report;
  out.set(RUN_FILES.report, jsonFile(withId("report", body)));
  const runId = JSON.parse(Buffer.from(files.get(RUN_FILES.run) as Uint8Array).toString("utf8")).run_id;
  out.set(RUN_FILES.manifest, jsonFile(buildManifest(runId, out)));
  return out;
}

describe("forgeries that recompute every id, derived file and the manifest", () => {
  it("the untouched run and a re-sealed copy pass (the forger's tools are sound)", () => {
    expect(failed(verify(files))).toEqual([]);
    expect(failed(verify(forgeRun(files, { store })))).toEqual([]);
  });

  it("a changed confidence is caught by re-deriving the answer", () => {
    const report = verify(
      forgeRun(files, {
        store,
        trace: (trace) => {
          for (const e of trace.events) if (e.type === "claim_emitted") e.claim.confidence = 0.99;
        },
      }),
    );
    expect(failed(report)).toContain("rederive");
    expect(codes(report)).toContain("REDERIVED_DIFFERS");
  });

  it("changed matched_terms or query_terms are caught", () => {
    const matched = verify(
      forgeRun(files, {
        store,
        trace: (trace) => {
          for (const e of trace.events)
            if (e.type === "claim_emitted") e.claim.structured.matched_terms = ["forged"];
        },
      }),
    );
    expect(failed(matched)).toContain("rederive");
    const query = verify(
      forgeRun(files, {
        store,
        trace: (trace) => {
          for (const e of trace.events)
            if (e.type === "step_finished" && e.output.type === "understand")
              e.output.query_terms = ["forged"];
        },
      }),
    );
    expect(failed(query)).toContain("rederive");
    expect(codes(query)).toContain("UNDERSTAND_RECOMPUTED");
  });

  it("a changed BM25 score and swapped ranks are caught by a fresh search", () => {
    for (const edit of [
      (hits: Array<{ score: number; rank: number }>) => {
        (hits[1] as { score: number }).score *= 1.5;
      },
      (hits: Array<{ score: number; rank: number }>) => {
        const [a, b] = hits;
        if (a === undefined || b === undefined) throw new Error("need two hits");
        [hits[0], hits[1]] = [b, a];
        a.rank = 2;
        b.rank = 1;
      },
    ]) {
      const report = verify(
        forgeRun(files, {
          store,
          trace: (trace) => {
            for (const e of trace.events)
              if (e.type === "tool_returned")
                edit((e.result.payload as { hits: Array<{ score: number; rank: number }> }).hits);
          },
        }),
      );
      expect(failed(report)).toContain("retrieval_recompute");
    }
  });

  it("report.json with a check dropped, a flipped verdict or changed details is caught", () => {
    const dropped = verify(
      editReport((r) => {
        r.checks = r.checks.filter((c) => c.name !== "rederive");
        r.summary.checks -= 1;
        r.summary.passed -= 1;
      }),
    );
    expect(failed(dropped)).toEqual(["report_recompute"]);
    expect(codes(dropped)).toEqual(["REPORT_CHECK_MISSING"]);

    const flipped = verify(
      editReport((r) => {
        r.verdict = "fail";
      }),
    );
    expect(failed(flipped)).toEqual(["report_recompute"]);
    expect(codes(flipped)).toEqual(["REPORT_DIFFERS"]);

    const details = verify(
      editReport((r) => {
        const check = r.checks.find((c) => c.name === "grounding");
        if (check === undefined) throw new Error("no grounding check");
        check.details = "all claims grounded beyond doubt";
      }),
    );
    expect(failed(details)).toEqual(["report_recompute"]);
    expect(codes(details)).toEqual(["REPORT_CHECK_DIFFERS"]);

    const invented = verify(
      editReport((r) => {
        r.checks.push({ name: "extra", invariant: "INV-X", passed: true, details: "", metrics: {} });
      }),
    );
    expect(codes(invented)).toContain("REPORT_CHECK_INVENTED");
  });

  it("a run directory renamed to another run id is caught by `verify`", () => {
    const other = join(artifacts, "runs", `run_v1_${"a".repeat(64)}`);
    cpSync(runDir, other, { recursive: true });
    const r = runCli(["verify", other, "--artifacts-dir", artifacts, "--json"]);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).failures.map((f: { code: string }) => f.code)).toEqual(["RUN_DIR_NAME"]);
  });

  it("a corpus-input ref retargeted at another corpus is checked and not followed", () => {
    const root = tempDir();
    const corpusA = join(root, "a.jsonl");
    const corpusB = join(root, "b.jsonl");
    writeFileSync(
      corpusA,
      `${JSON.stringify({ doc_id: "a", text: "Otters hold hands while they sleep." })}\n`,
    );
    writeFileSync(corpusB, `${JSON.stringify({ doc_id: "b", text: "Otters hold hands in the water." })}\n`);
    const art = join(root, "art");
    const run = (corpus: string) =>
      demoRun({ question: "Do otters hold hands while they sleep?", corpus, root: art }).json;
    const a = run(corpusA);
    const refs = join(art, "store", "refs", "corpus-input");
    const [refA] = readdirSync(refs);
    const b = run(corpusB);
    const refB = readdirSync(refs).find((name) => name !== refA);
    if (refA === undefined || refB === undefined) throw new Error("expected one ref per corpus");
    const snapshotOf = (id: string) =>
      JSON.parse(readFileSync(join(art, "runs", id, "spec.json"), "utf8")).constraints.corpus;
    // Retarget A's ref at B's record, then straight at B's snapshot: neither is followed.
    for (const target of [
      readFileSync(join(refs, refB), "utf8"),
      `${snapshotOf(b.run_id).replace("sha256:", "")}\n`,
    ]) {
      writeFileSync(join(refs, refA), target);
      const again = run(corpusA);
      expect(again.run_id).toBe(a.run_id);
      expect(snapshotOf(again.run_id)).not.toBe(snapshotOf(b.run_id));
    }
    // The same for an index ref retargeted at the other corpus's index record.
    const indexRefs = join(art, "store", "refs", "index");
    const names = readdirSync(indexRefs);
    expect(names).toHaveLength(2);
    const [first, second] = names as [string, string];
    writeFileSync(join(indexRefs, first), readFileSync(join(indexRefs, second)));
    writeFileSync(join(indexRefs, second), readFileSync(join(indexRefs, first)));
    for (const [corpus, expected] of [
      [corpusA, a],
      [corpusB, b],
    ] as const) {
      const again = runCli(["verify", run(corpus).run_id, "--artifacts-dir", art]);
      expect(again.status).toBe(0);
      expect(run(corpus).run_id).toBe(expected.run_id);
    }
  });
});
