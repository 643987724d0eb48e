// `npm run bench`: runs each benchmark in its own process (so peak memory is its own) and
// collects their JSON into bench/results/summary.json. Not part of CI: it needs the shared
// datasets and minutes of machine time.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { machine, REPO, writeResult } from "./lib.mjs";

const only = process.argv.slice(2);
const all = [
  { name: "retrieval", args: ["--max-old-space-size=16000", "bench/retrieval.mjs"] },
  { name: "index-build", args: ["bench/index-build.mjs"] },
  // Lucene needs Debian's liblucene8-java and a JDK; bm25s a Python with bm25s. Either is skipped when missing.
  { name: "peers", args: ["--max-old-space-size=12000", "bench/peers.mjs"] },
  { name: "index-format-3", args: ["--max-old-space-size=12000", "bench/index-format.mjs"] },
  { name: "e2e", args: ["bench/e2e.mjs"] },
  { name: "verify", args: ["bench/verify.mjs"] },
  { name: "serve", args: ["bench/serve.mjs"] },
  // Needs PostgreSQL and Redis (CANON_BENCH_PG, CANON_BENCH_REDIS; default 127.0.0.1).
  { name: "queue-scale", args: ["bench/queue-scale.mjs"] },
  { name: "publish-cost", args: ["bench/publish-cost.mjs"] },
  { name: "stall-bound", args: ["bench/stall-bound.mjs"] },
];
const unknown = only.filter((name) => !all.some((b) => b.name === name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")} (known: ${all.map((b) => b.name).join(", ")})`);
  process.exit(2);
}
const benches = all.filter((b) => only.length === 0 || only.includes(b.name));

// `npm run bench NAME...` re-runs some benchmarks only: the others' last results are kept, so
// summary.json always holds every benchmark (each result carries its own machine and load).
const summaryFile = join(REPO, "bench", "results", "summary.json");
const kept =
  only.length > 0 && existsSync(summaryFile) ? JSON.parse(readFileSync(summaryFile, "utf8")) : null;
const summary = {
  machine: machine(),
  results: { ...(kept?.results ?? {}) },
  figures: { ...(kept?.figures ?? {}) },
};
let failed = false;
for (const bench of benches) {
  console.error(`== ${bench.name}`);
  const r = spawnSync(process.execPath, bench.args, { cwd: REPO, stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0) {
    failed = true;
    summary.results[bench.name] = { error: `exited ${r.status}` };
    continue;
  }
  summary.results[bench.name] = JSON.parse(
    readFileSync(join(REPO, "bench", "results", `${bench.name}.json`), "utf8"),
  );
}
/** The retrieval figures of issue 11 at a glance: build speed and top-10 queries at ~1M chunks. */
function retrievalFigures(r) {
  const largest = r?.sizes?.at(-1);
  if (largest === undefined) return undefined;
  const ours = largest.canon_reason;
  return {
    chunks: largest.chunks,
    build_mb_per_s: ours.build_mb_per_s,
    build_mb_per_s_2_threads: ours.build_mb_per_s_2_threads,
    queries_per_second: ours.query.queries_per_second,
    p50_ms: ours.query.p50_ms,
    p99_ms: ours.query.p99_ms,
    exhaustive_queries_per_second: ours.query_exhaustive?.queries_per_second,
    targets: r.targets,
    ratio_to_previous: r.ratio_to_previous?.find((x) => x.passages === largest.passages) ?? null,
  };
}
const retrieval = retrievalFigures(summary.results.retrieval);
if (retrieval !== undefined) summary.figures = { ...summary.figures, retrieval };
console.log(`wrote ${writeResult("summary", summary)}`);
process.exit(failed ? 1 : 0);
