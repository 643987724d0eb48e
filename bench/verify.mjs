// `verify` on a typical run: the demo question over the bundled demo corpus and over BEIR
// SciFact (5,183 abstracts). Times the in-process verifier (median of 50 after a warm-up)
// and the whole `canon-reason verify` command including Node start-up.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { verifyRunDirectory } from "../dist/app/verify.js";
import { CLI, machine, REPO, requireDataset, summarize, writeResult } from "./lib.mjs";

const ITERATIONS = 50;
const corpora = [
  { name: "demo", path: join(REPO, "demo", "corpus"), question: "How is a trick won in contract bridge?" },
  {
    name: "scifact",
    path: requireDataset("scifact/corpus.jsonl"),
    question: "ALDH1 expression is associated with poorer prognosis for breast cancer primary tumors.",
  },
];

const results = [];
for (const corpus of corpora) {
  const artifacts = mkdtempSync(join(tmpdir(), "canon-bench-verify-"));
  try {
    const run = spawnSync(
      process.execPath,
      [CLI, "run", corpus.question, "--corpus", corpus.path, "--artifacts-dir", artifacts, "--json"],
      { encoding: "utf8" },
    );
    if (run.status !== 0) throw new Error(run.stderr);
    const { run_dir: runDir } = JSON.parse(run.stdout);
    // Each iteration verifies from disk with a fresh store, as the command does.
    verifyRunDirectory(runDir, { policy: "audit", storeRoot: artifacts });
    const inProcess = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const t = performance.now();
      const report = verifyRunDirectory(runDir, { policy: "audit", storeRoot: artifacts });
      inProcess.push(performance.now() - t);
      if (report.verdict !== "pass") throw new Error("an untouched run failed verification");
    }
    const command = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      const r = spawnSync(process.execPath, [CLI, "verify", runDir], { encoding: "utf8" });
      command.push(performance.now() - t);
      if (r.status !== 0) throw new Error(r.stdout);
    }
    results.push({
      corpus: corpus.name,
      in_process: summarize(inProcess),
      command_with_node_start: summarize(command),
    });
  } finally {
    rmSync(artifacts, { recursive: true, force: true });
  }
}
const result = { benchmark: "verify", machine: machine(), iterations: ITERATIONS, results };
console.log(JSON.stringify(result, null, 2));
console.error(`wrote ${writeResult("verify", result)}`);
