// `verify` on a typical run: the demo question over the bundled demo corpus and over BEIR
// SciFact (5,183 abstracts). Times the in-process verifier (median of 50 after a warm-up) and
// the whole `canon-reason verify` command including Node start-up: wall time, the child's CPU
// time (user + system, which a loaded machine inflates less than wall time) and its peak
// resident memory. The command is timed as it runs after `run` (the index rebuild recorded:
// docs/design.md §5, "Rebuild records") and under `--policy strict` (always rebuilt). Rebuild
// records and the CLI's code cache go to a scratch state folder (one untimed command writes the
// cache first); the load average is recorded with the figures.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { verifyRunDirectory } from "../dist/app/verify/verify.js";
import { CLI, machine, REPO, requireDataset, summarize, writeResult } from "./lib.mjs";

const ITERATIONS = 50;
const COMMANDS = 10;
const STRICT = 3;
const corpora = [
  { name: "demo", path: join(REPO, "demo", "corpus"), question: "How is a trick won in contract bridge?" },
  {
    name: "scifact",
    path: requireDataset("scifact/corpus.jsonl"),
    question: "ALDH1 expression is associated with poorer prognosis for breast cancer primary tumors.",
  },
];

const state = mkdtempSync(join(tmpdir(), "canon-bench-verify-state-"));
process.env.CANON_REASON_STATE_DIR = state;
// The CLI's V8 code cache (src/cli/launcher.ts) too: written by the first command of each kind.
process.env.CANON_REASON_CACHE_DIR = join(state, "code-cache");
const load = [loadavg()[0]];

/** One child process: wall ms, CPU ms (user + system) and peak RSS in MB. */
function command(args) {
  const dir = mkdtempSync(join(tmpdir(), "canon-bench-rss-"));
  try {
    const file = join(dir, "usage");
    const t = performance.now();
    const r = spawnSync(process.execPath, ["--require", join(REPO, "bench", "peak-rss.cjs"), CLI, ...args], {
      encoding: "utf8",
      env: { ...process.env, CANON_BENCH_USAGE_FILE: file },
    });
    const wall = performance.now() - t;
    if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.stdout}${r.stderr}`);
    return { wall, ...JSON.parse(readFileSync(file, "utf8")) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function figures(samples) {
  return {
    wall: summarize(samples.map((s) => s.wall)),
    cpu: summarize(samples.map((s) => s.cpu)),
    // Per process; the median and the largest (a loaded machine's GC timing moves the largest).
    peak_rss_mb: {
      p50: summarize(samples.map((s) => s.rss / 1e6)).p50_ms,
      max: Math.max(...samples.map((s) => s.rss)) / 1e6,
    },
  };
}

const results = [];
try {
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
      // Untimed: writes the code cache a user's second `verify` finds.
      command(["verify", runDir]);
      const audit = Array.from({ length: COMMANDS }, () => command(["verify", runDir]));
      const strict = Array.from({ length: STRICT }, () => command(["verify", runDir, "--policy", "strict"]));
      load.push(loadavg()[0]);
      results.push({
        corpus: corpus.name,
        in_process: summarize(inProcess),
        command_with_node_start: figures(audit),
        command_strict_rebuilds: figures(strict),
      });
    } finally {
      rmSync(artifacts, { recursive: true, force: true });
    }
  }
} finally {
  rmSync(state, { recursive: true, force: true });
}
const result = {
  benchmark: "verify",
  machine: machine(),
  load_average_1min: { at_start: load[0], after_each_corpus: load.slice(1) },
  iterations: ITERATIONS,
  results,
};
console.log(JSON.stringify(result, null, 2));
console.error(`wrote ${writeResult("verify", result)}`);
