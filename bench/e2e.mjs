// The command-level figures of issue 11, as whole processes including Node start-up, on BEIR
// SciFact (5,183 abstracts, 7.7 MB): `--help`, a cold `run` (empty artifacts root: snapshot +
// index build), a warm `run` (index cached), its peak memory, `verify` of a SciFact run as a
// command, and `eval` over the first 300 SciFact train claims with 2 workers (the shared
// dataset has no test split). Bare `node -e 0` is timed for reference. The figures of the
// system this project descends from are quoted from issue 11 (measured on this kind of
// machine, not in this run: it is not installed here). Each figure is also given as a ratio to
// the previous results file, so a slowdown shows.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { CLI, machine, REPO, requireDataset, summarize, writeResult } from "./lib.mjs";

const scifact = requireDataset("scifact");
const corpus = join(scifact, "corpus.jsonl");
const queries = readFileSync(join(scifact, "queries.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .slice(0, 20)
  .map((l) => JSON.parse(l).text);
const COLD_RUNS = 3;
const REPEATS = 10;
const EVAL_CASES = 300;
const EVAL_RUNS = 2;
// Rebuild records (docs/design.md §5) go to a scratch state folder, not the user's.
const state = mkdtempSync(join(tmpdir(), "canon-bench-e2e-state-"));
process.env.CANON_REASON_STATE_DIR = state;
// The CLI's V8 code cache (src/cli/launcher.ts) too; the untimed warm-up below writes it, as a
// user's first command of each kind does.
process.env.CANON_REASON_CACHE_DIR = join(state, "code-cache");
process.on("exit", () => rmSync(state, { recursive: true, force: true }));
const loadAtStart = loadavg()[0];

function timed(args, env = {}) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: "utf8", env: { ...process.env, ...env } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

function peakRssMb(args) {
  const dir = mkdtempSync(join(tmpdir(), "canon-bench-rss-"));
  try {
    const file = join(dir, "rss");
    timed(["--require", join(REPO, "bench", "peak-rss.cjs"), ...args], { CANON_BENCH_RSS_FILE: file });
    return Number(readFileSync(file, "utf8")) / 1e6;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const runArgs = (q, artifacts) => [CLI, "run", q, "--corpus", corpus, "--artifacts-dir", artifacts, "--json"];

{
  const warmup = mkdtempSync(join(tmpdir(), "canon-bench-e2e-warmup-"));
  try {
    timed([CLI, "--help"]);
    const first = timed(runArgs(queries[0], warmup));
    timed([CLI, "verify", JSON.parse(first.stdout).run_id, "--artifacts-dir", warmup]);
  } finally {
    rmSync(warmup, { recursive: true, force: true });
  }
}
const nodeStart = summarize(Array.from({ length: REPEATS }, () => timed(["-e", "0"]).ms));
const help = summarize(Array.from({ length: REPEATS }, () => timed([CLI, "--help"]).ms));
const cold = [];
const warm = [];
const verify = [];
const memory = [];
const evalMs = [];
for (let i = 0; i < COLD_RUNS; i++) {
  const artifacts = mkdtempSync(join(tmpdir(), "canon-bench-e2e-"));
  try {
    const first = timed(runArgs(queries[0], artifacts));
    cold.push(first.ms);
    if (i > 0) continue;
    for (const q of queries) warm.push(timed(runArgs(q, artifacts)).ms);
    for (const q of queries.slice(0, 5)) memory.push(peakRssMb(runArgs(q, artifacts)));
    const runId = JSON.parse(first.stdout).run_id;
    for (let r = 0; r < REPEATS; r++)
      verify.push(timed([CLI, "verify", runId, "--artifacts-dir", artifacts]).ms);
    for (let r = 0; r < EVAL_RUNS; r++) {
      const out = join(artifacts, `eval-${r}`);
      const evalArgs = [CLI, "eval", "--beir", scifact, "--split", "train", "--limit", String(EVAL_CASES)];
      evalMs.push(timed([...evalArgs, "--workers", "2", "--artifacts-dir", artifacts, "--out", out]).ms);
    }
  } finally {
    rmSync(artifacts, { recursive: true, force: true });
  }
}

const mem = [...memory].sort((a, b) => a - b);
const figures = {
  help_ms: help.p50_ms,
  warm_run_ms: summarize(warm).p50_ms,
  cold_run_ms: summarize(cold).p50_ms,
  warm_run_peak_rss_mb: Math.round(mem[Math.floor(mem.length / 2)] * 10) / 10,
  verify_command_ms: summarize(verify).p50_ms,
  eval_300_cases_2_workers_s: Math.round(summarize(evalMs).p50_ms) / 1000,
};
const targets = {
  help_ms: 120,
  warm_run_ms: 150,
  cold_run_ms: 500,
  warm_run_peak_rss_mb: 80,
  verify_command_ms: 100,
  eval_300_cases_2_workers_s: 6,
};
const descendedFrom = { warm_run_ms: 1790, cold_run_ms: 3880, warm_run_peak_rss_mb: 222 };
const previousFile = join(REPO, "bench", "results", "e2e.json");
const previous = existsSync(previousFile) ? JSON.parse(readFileSync(previousFile, "utf8")) : null;
const before = previous?.figures ?? {
  // Files written before `figures` existed hold only the run timings.
  warm_run_ms: previous?.warm_run?.p50_ms,
  cold_run_ms: previous?.cold_run?.p50_ms,
};
const ratio = (a, b) =>
  typeof a === "number" && typeof b === "number" && b > 0 ? Math.round((a / b) * 100) / 100 : null;
const result = {
  benchmark: "e2e-scifact",
  machine: machine(),
  load_average_1min: { at_start: loadAtStart, at_end: loadavg()[0] },
  corpus: { name: "BEIR SciFact", documents: 5183, path: "scifact/corpus.jsonl" },
  queries: queries.length,
  eval: { split: "train", cases: EVAL_CASES, workers: 2, runs: EVAL_RUNS },
  figures,
  targets,
  meets_target: Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, v <= targets[k]])),
  ratio_to_previous: Object.fromEntries(Object.keys(figures).map((k) => [k, ratio(figures[k], before[k])])),
  descended_from_system: {
    note: "quoted from issue 11 (same machine kind, same SciFact question, top-k 5); not run here",
    figures: descendedFrom,
  },
  node_start: nodeStart,
  help,
  cold_run: summarize(cold),
  warm_run: summarize(warm),
  verify_command: summarize(verify),
  eval_ms: summarize(evalMs),
  warm_run_peak_rss_mb: mem,
};
console.log(JSON.stringify(result, null, 2));
console.error(`wrote ${writeResult("e2e", result)}`);
