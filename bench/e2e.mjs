// End-to-end `canon-reason run` on BEIR SciFact (5,183 abstracts, 7.7 MB), timed as whole
// processes including Node start-up: cold (empty artifacts root: snapshot + index build)
// and warm (index cached in the store), against a bare `node -e 0` start for reference.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { CLI, machine, requireDataset, summarize, writeResult } from "./lib.mjs";

const corpus = requireDataset("scifact/corpus.jsonl");
const queries = readFileSync(requireDataset("scifact/queries.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .slice(0, 20)
  .map((l) => JSON.parse(l).text);
const COLD_RUNS = 3;

function timed(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const nodeStart = summarize(Array.from({ length: 10 }, () => timed(["-e", "0"])));
const cold = [];
const warm = [];
for (let i = 0; i < COLD_RUNS; i++) {
  const artifacts = mkdtempSync(join(tmpdir(), "canon-bench-e2e-"));
  try {
    cold.push(timed([CLI, "run", queries[0], "--corpus", corpus, "--artifacts-dir", artifacts, "--json"]));
    if (i === 0)
      for (const q of queries)
        warm.push(timed([CLI, "run", q, "--corpus", corpus, "--artifacts-dir", artifacts, "--json"]));
  } finally {
    rmSync(artifacts, { recursive: true, force: true });
  }
}
const result = {
  benchmark: "e2e-run-scifact",
  machine: machine(),
  corpus: { name: "BEIR SciFact", documents: 5183, path: "scifact/corpus.jsonl" },
  queries: queries.length,
  node_start: nodeStart,
  cold_run: summarize(cold),
  warm_run: summarize(warm),
  target: { warm_p50_ms_below: 150, reference_python_system_ms: 1300 },
};
console.log(JSON.stringify(result, null, 2));
console.error(`wrote ${writeResult("e2e", result)}`);
