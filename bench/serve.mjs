// `canon-reason serve` under load (autocannon, loopback only): requests per second and latency
// percentiles for a warm POST /v1/runs on BEIR SciFact (the snapshot and index already in
// memory), GET /v1/runs/{id} and POST /v1/runs/{id}/verify. The server is a separate process.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import autocannon from "autocannon";
import { CLI, machine, requireDataset, writeResult } from "./lib.mjs";

const corpus = requireDataset("scifact/corpus.jsonl");
const questions = readFileSync(requireDataset("scifact/queries.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .slice(0, 50)
  .map((l) => JSON.parse(l).text);
const DURATION_S = Number(process.env.CANON_BENCH_SECONDS ?? 10);
// The server does each request's work synchronously on one thread: more connections only add
// queueing to the latency, so latency is measured with one (CANON_BENCH_CONNECTIONS to change).
const CONNECTIONS = Number(process.env.CANON_BENCH_CONNECTIONS ?? 1);

const artifacts = mkdtempSync(join(tmpdir(), "canon-bench-serve-"));
const child = spawn(
  process.execPath,
  [
    CLI,
    "serve",
    "--port",
    "0",
    "--artifacts-dir",
    artifacts,
    "--corpus-root",
    dirname(corpus),
    "--rate-limit",
    "100000000",
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const url = await new Promise((resolve, reject) => {
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (d) => {
    out += d;
    const found = /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1];
    if (found) resolve(found);
  });
  child.once("exit", (code) => reject(new Error(`serve exited ${code}`)));
});

async function post(path, body) {
  const r = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (r.status >= 300) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

const spec = (question, corpusRef) => ({
  version: "1",
  description: question,
  constraints: { corpus: corpusRef },
});
// Cold: the first request snapshots and indexes SciFact; it pins the snapshot hash we reuse.
const t0 = performance.now();
const first = await post("/v1/runs", { spec: spec(questions[0], "corpus.jsonl") });
const coldMs = performance.now() - t0;
const trace = await (await fetch(`${url}/v1/runs/${first.run_id}/trace`)).text();
const snapshot = /"corpus_snapshot":"([0-9a-f]{64})"/.exec(trace)?.[1];
// Warm the index for the pinned snapshot, and publish one run per question.
for (const q of questions) await post("/v1/runs", { spec: spec(q, `sha256:${snapshot}`) });

function load(title, options) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, ...options }, (error, result) => {
      if (error) return reject(error);
      if (result.non2xx > 0 || result.errors > 0)
        return reject(new Error(`${title}: ${result.non2xx} non-2xx, ${result.errors} errors`));
      resolve({
        requests_per_s: result.requests.average,
        latency_ms: {
          p50: result.latency.p50,
          p90: result.latency.p90,
          p99: result.latency.p99,
          max: result.latency.max,
        },
        requests: result.requests.total,
      });
    });
  });
}

let i = 0;
const results = {
  // Each request answers one of 50 questions (already published: the run is produced,
  // verified and compared with the one on disk, which is what a repeated request costs).
  post_run_warm: await load("POST /v1/runs", {
    requests: [
      {
        method: "POST",
        path: "/v1/runs",
        headers: { "content-type": "application/json" },
        setupRequest: (req) => ({
          ...req,
          body: JSON.stringify({ spec: spec(questions[i++ % questions.length], `sha256:${snapshot}`) }),
        }),
      },
    ],
  }),
  get_run: await load("GET /v1/runs/{id}", {
    requests: [{ method: "GET", path: `/v1/runs/${first.run_id}` }],
  }),
  verify_run: await load("POST /v1/runs/{id}/verify", {
    requests: [{ method: "POST", path: `/v1/runs/${first.run_id}/verify` }],
  }),
};
child.kill("SIGTERM");
await new Promise((resolve) => child.once("exit", resolve));
rmSync(artifacts, { recursive: true, force: true });

const result = {
  benchmark: "serve-scifact",
  machine: machine(),
  tool: "autocannon",
  connections: CONNECTIONS,
  duration_s: DURATION_S,
  cold_first_post_ms: Math.round(coldMs),
  ...results,
  target: { warm_post_run_p50_ms_below: 20 },
};
console.log(JSON.stringify(result, null, 2));
console.error(`wrote ${writeResult("serve", result)}`);
