// Queue scale-out (issue 14): `eval --queue` throughput in cases per second with 1, 2, 4 and 8
// `canon-reason worker` processes (concurrency 1 each) answering the llm reasoner against a
// scripted chat-completions endpoint on 127.0.0.1 that takes 200 ms per call. The work is mostly
// waiting, so it should scale on two cores; the target is 6x at 8 workers.
//
// The suite is generated deterministically from the demo suite (its questions in a seeded order,
// cycled through a few phrasings, so every case is its own run). Each worker count gets a
// scratch PostgreSQL database and a Redis key prefix of its own (both removed afterwards), so no
// job or run of one measurement is found done by the next. Workers are started and ready before
// the clock starts; the time is the whole `eval --queue` command (snapshot and index of the
// submitter included, the same for every count). Each worker logs a job's total and publishing
// time ("job computed": ms, publish_ms), so the share of publishing to PostgreSQL is reported.
// cases.jsonl must be byte-identical for every count (results do not depend on the topology).
//
// Needs PostgreSQL and Redis (CANON_BENCH_PG, CANON_BENCH_REDIS; defaults 127.0.0.1). Timings on a
// shared machine are noisy: the load average at start is recorded beside them.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Queue } from "bullmq";
import pg from "pg";
import { startChatServer } from "./chat-server.mjs";
import { CLI, machine, REPO, seededRandom, summarize, writeResult } from "./lib.mjs";

const PG_ADMIN_URL = process.env.CANON_BENCH_PG ?? "postgres://root@127.0.0.1:5432/test";
const REDIS_URL = process.env.CANON_BENCH_REDIS ?? "redis://127.0.0.1:6379";
const CASES = Number(process.env.CANON_BENCH_QUEUE_CASES ?? 160);
const WORKER_COUNTS = [1, 2, 4, 8];
const LATENCY_MS = 200;
const SEED = 14;
const TARGET_SPEEDUP_AT_8 = 6;
/** Bounds: a measurement that takes longer than this is stopped and reported as failed. */
const EVAL_TIMEOUT_MS = 20 * 60_000;
const READY_TIMEOUT_MS = 60_000;
const PHRASINGS = ["", "In short, ", "Briefly: ", "Tell me, "];

/** The generated suite: demo questions in a seeded order, cycled through the phrasings. */
function writeSuite(dir) {
  const problems = readFileSync(join(REPO, "demo", "suite", "problems.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  const random = seededRandom(SEED);
  for (let i = problems.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [problems[i], problems[j]] = [problems[j], problems[i]];
  }
  const lines = Array.from({ length: CASES }, (_, i) => {
    const p = problems[i % problems.length];
    const phrasing = PHRASINGS[Math.floor(i / problems.length) % PHRASINGS.length];
    const rest = phrasing === "" ? p.description : p.description[0].toLowerCase() + p.description.slice(1);
    return JSON.stringify({
      case_id: `c${String(i).padStart(4, "0")}`,
      description: `${phrasing}${rest}`,
      expected: p.expected,
    });
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "suite.json"),
    JSON.stringify({ corpus: join(REPO, "demo", "corpus"), name: "queue-scale", version: "1" }),
  );
  writeFileSync(join(dir, "problems.jsonl"), `${lines.join("\n")}\n`);
}

async function admin(sql) {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function startWorker(env, registry, dir, baseUrl) {
  const child = spawn(
    process.execPath,
    [
      CLI,
      "worker",
      "--queue",
      REDIS_URL,
      "--registry",
      registry,
      "--artifacts-dir",
      dir,
      "--model-base-url",
      baseUrl,
    ],
    { env, stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = [];
  let buffered = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (data) => {
    buffered += data;
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    for (const part of parts) if (part.trim() !== "") lines.push(JSON.parse(part));
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return { child, lines, exited };
}

async function until(what, ready, ms) {
  const end = performance.now() + ms;
  while (!ready()) {
    if (performance.now() > end) throw new Error(`never happened within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function runEval(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.stdout.resume();
    const timer = setTimeout(() => child.kill("SIGKILL"), EVAL_TIMEOUT_MS);
    child.once("close", (status) => {
      clearTimeout(timer);
      status === 0 ? resolve() : reject(new Error(`eval exited ${status}: ${stderr}`));
    });
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); null elsewhere. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

const round = (x, digits = 3) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

async function measure(workerCount, suite, endpoint) {
  const tag = `${process.pid}_${randomBytes(3).toString("hex")}_${workerCount}`;
  const database = `cr_bench_queue_${tag}`;
  const prefix = `cr-bench-queue-${tag}`;
  const scratch = mkdtempSync(join(tmpdir(), "canon-bench-queue-"));
  const registry = Object.assign(new URL(PG_ADMIN_URL), { pathname: `/${database}` }).toString();
  // No key: the scripted endpoint needs none, and none must be needed to submit.
  const env = {
    ...process.env,
    CANON_REASON_QUEUE_PREFIX: prefix,
    CANON_REASON_LLM_API_KEY: "",
    OPENAI_API_KEY: "",
  };
  await admin(`CREATE DATABASE ${database}`);
  const workers = [];
  const requestsBefore = endpoint.requests();
  try {
    for (let w = 0; w < workerCount; w++)
      workers.push(startWorker(env, registry, join(scratch, `worker-${w}`), endpoint.baseUrl));
    await until(
      "workers ready",
      () => workers.every((w) => w.lines.some((l) => l.msg === "worker ready")),
      READY_TIMEOUT_MS,
    );
    const out = join(scratch, "out");
    const t0 = performance.now();
    // biome-ignore format: one flag and its value per line
    await runEval([
      "eval", "--suite", suite, "--queue", REDIS_URL, "--registry", registry,
      "--reasoner", "llm", "--model", "bench-model", "--base-url", endpoint.baseUrl,
      "--artifacts-dir", join(scratch, "submitter"), "--out", out, "--json",
    ], env);
    const seconds = (performance.now() - t0) / 1000;
    const workerCpuS = workers.map((w) => cpuSeconds(w.child.pid));
    const jobs = workers.flatMap((w) => w.lines.filter((l) => l.msg === "job computed"));
    const jobMs = jobs.map((l) => l.ms);
    const publishMs = jobs.map((l) => l.publish_ms);
    const sum = (xs) => xs.reduce((a, b) => a + b, 0);
    const cases = readFileSync(join(out, "cases.jsonl"));
    return {
      workers: workerCount,
      seconds: round(seconds),
      cases_per_s: round(CASES / seconds),
      jobs_computed: jobs.length,
      model_requests: endpoint.requests() - requestsBefore,
      job_ms: summarize(jobMs),
      publish_ms: summarize(publishMs),
      publish_share_of_job_time: round(sum(publishMs) / sum(jobMs)),
      // Start-up included (about half a second per worker); null where /proc is not there.
      worker_cpu_ms_per_case: workerCpuS.includes(null) ? null : round((sum(workerCpuS) * 1000) / CASES, 1),
      cases_jsonl_sha256: createHash("sha256").update(cases).digest("hex"),
    };
  } finally {
    for (const w of workers) w.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.exited));
    // Every key of this measurement, and only those: its own prefix.
    const { hostname, port } = new URL(REDIS_URL);
    const cleanup = new Queue("canon-reason", {
      connection: { host: hostname, port: Number(port || 6379) },
      prefix,
    });
    await cleanup.obliterate({ force: true });
    await cleanup.close();
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    rmSync(scratch, { recursive: true, force: true });
  }
}

const suiteDir = mkdtempSync(join(tmpdir(), "canon-bench-queue-suite-"));
writeSuite(suiteDir);
const endpoint = await startChatServer({ latencyMs: LATENCY_MS });
const startLoad = loadavg();
const results = [];
try {
  for (const n of WORKER_COUNTS) {
    console.error(`queue-scale: ${n} worker(s), ${CASES} cases`);
    results.push(await measure(n, suiteDir, endpoint));
  }
} finally {
  await endpoint.close();
  rmSync(suiteDir, { recursive: true, force: true });
}

const one = results[0].cases_per_s;
for (const r of results) r.speedup_vs_1 = round(r.cases_per_s / one, 2);
if (new Set(results.map((r) => r.cases_jsonl_sha256)).size !== 1)
  throw new Error("cases.jsonl differs between worker counts: results depend on the topology");

const resultsFile = join(REPO, "bench", "results", "queue-scale.json");
const previous = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, "utf8")) : null;
const at8 = results.find((r) => r.workers === 8);
const result = {
  bench: "queue-scale",
  machine: { ...machine(), cpus: cpus().length, loadavg_at_start: startLoad.map((x) => round(x, 2)) },
  sizes: { cases: CASES, worker_counts: WORKER_COUNTS, worker_concurrency: 1, model_latency_ms: LATENCY_MS },
  seeds: { suite_order: SEED },
  suite: `demo questions in a seeded order, cycled through phrasings: ${JSON.stringify(PHRASINGS)}`,
  results,
  target: { speedup_at_8_workers: TARGET_SPEEDUP_AT_8, met: at8.speedup_vs_1 >= TARGET_SPEEDUP_AT_8 },
  // A lower bound on a job's time at 1 worker is the model latency; what lies above it is ours.
  figures: {
    cases_per_s_1: one,
    cases_per_s_8: at8.cases_per_s,
    speedup_at_8: at8.speedup_vs_1,
    publish_p50_ms_1: results[0].publish_ms.p50_ms,
    publish_p50_ms_8: at8.publish_ms.p50_ms,
    job_p50_ms_1: results[0].job_ms.p50_ms,
    job_p50_ms_8: at8.job_ms.p50_ms,
    worker_cpu_ms_per_case_1: results[0].worker_cpu_ms_per_case,
    worker_cpu_ms_per_case_8: at8.worker_cpu_ms_per_case,
  },
  ratio_to_previous:
    previous === null
      ? null
      : results.map((r) => {
          const before = previous.results?.find((p) => p.workers === r.workers)?.cases_per_s;
          return {
            workers: r.workers,
            cases_per_s: before === undefined ? null : round(r.cases_per_s / before),
          };
        }),
};
console.log(`wrote ${writeResult("queue-scale", result)}`);
