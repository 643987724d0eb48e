// Start-up and `verify` of two builds side by side (issue 25 item 5): each figure is taken from
// both builds' CLIs in alternation, in one loop, so a loaded machine slows both alike. Figures are
// the child's CPU time (user + system) and peak RSS (bench/peak-rss.cjs), medians: `verify` of a
// SciFact run and of the demo run, a warm `run` (index cached), a cold `run` (empty artifacts
// root) and `--help`. Build the other tree first (`git worktree add ../before <commit> && cd
// ../before && cp -al ../main/node_modules . && npm run build`), then:
//   node bench/paired-start.mjs ../before/dist/bin/canon-reason.js [repeats]
// Writes bench/results/paired-start.json. Rebuild records and the code cache go to a scratch
// state folder; one untimed command per build and figure writes its code cache first.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CLI, machine, REPO, requireDataset, summarize, writeResult } from "./lib.mjs";

const before = process.argv[2];
if (before === undefined)
  throw new Error("usage: node bench/paired-start.mjs <other build's canon-reason.js> [repeats]");
const REPEATS = Number(process.argv[3] ?? 7);
const builds = { before: resolve(before), after: CLI };
const scifact = requireDataset("scifact/corpus.jsonl");
const SCIFACT_Q = "ALDH1 expression is associated with poorer prognosis for breast cancer primary tumors.";
const DEMO_Q = "How is a trick won in contract bridge?";
const work = mkdtempSync(join(tmpdir(), "canon-bench-paired-"));
process.env.CANON_REASON_STATE_DIR = join(work, "state");
process.env.CANON_REASON_CACHE_DIR = join(work, "state", "code-cache");
const load = [loadavg()[0]];

/** One child process of `cli`: {cpu (ms), rss (bytes)}; `before` runs first and is not timed. */
function usage(cli, args, before) {
  before?.();
  const file = join(work, "usage");
  const r = spawnSync(process.execPath, ["--require", join(REPO, "bench", "peak-rss.cjs"), cli, ...args], {
    encoding: "utf8",
    env: { ...process.env, CANON_BENCH_USAGE_FILE: file },
  });
  if (r.status !== 0) throw new Error(`${cli} ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  return JSON.parse(readFileSync(file, "utf8"));
}

const runArgs = (q, corpus, artifacts) => [
  "run",
  q,
  "--corpus",
  corpus,
  "--artifacts-dir",
  artifacts,
  "--json",
];
const artifacts = join(work, "artifacts");
const runDir = (q, corpus) =>
  JSON.parse(
    spawnSync(process.execPath, [CLI, ...runArgs(q, corpus, artifacts)], { encoding: "utf8" }).stdout,
  ).run_dir;
const scifactRun = runDir(SCIFACT_Q, scifact);
const demoRun = runDir(DEMO_Q, join(REPO, "demo", "corpus"));
const cold = join(work, "cold");
const figures = {
  verify_scifact: { args: ["verify", scifactRun] },
  verify_demo: { args: ["verify", demoRun] },
  warm_run_scifact: { args: runArgs(SCIFACT_Q, scifact, artifacts) },
  cold_run_scifact: {
    args: runArgs(SCIFACT_Q, scifact, cold),
    before: () => rmSync(cold, { recursive: true, force: true }),
  },
  help: { args: ["--help"] },
};
const results = {};
try {
  for (const [name, { args, before: prepare }] of Object.entries(figures)) {
    const samples = { before: [], after: [] };
    for (const cli of Object.values(builds)) usage(cli, args, prepare);
    for (let i = 0; i < REPEATS; i++)
      for (const [build, cli] of Object.entries(builds)) samples[build].push(usage(cli, args, prepare));
    load.push(loadavg()[0]);
    results[name] = Object.fromEntries(
      Object.entries(samples).map(([build, s]) => [
        build,
        {
          cpu_ms: summarize(s.map((x) => x.cpu)).p50_ms,
          peak_rss_mb: summarize(s.map((x) => x.rss / 1e6)).p50_ms,
        },
      ]),
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const result = {
  benchmark: "paired-start",
  machine: machine(),
  builds,
  repeats: REPEATS,
  load_average_1min: { at_start: load[0], after_each_figure: load.slice(1) },
  seed_system_ms: { verify_scifact: 311, warm_run_scifact: 1572, cold_run_scifact: 3408 },
  results,
};
console.log(JSON.stringify(result, null, 2));
console.error(`wrote ${writeResult("paired-start", result)}`);
