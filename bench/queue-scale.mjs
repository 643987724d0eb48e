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
// Issue 22 adds (a) steady-state throughput, reported apart from the submitter's fixed start
// (snapshot and index before the first job, a worker's first job building its index): from the
// workers' logs, (jobs - 1) / (last job done - first job done); and (b) an extractive SciFact
// phase: `eval --workers 1` locally against one queue worker (and four, for publishing's p50).
// The local eval's steady state is measured the same way in spirit: two warm evals of 1 and N
// cases on one artifacts dir, (N - 1) / (T(N) - T(1)).
//
// A worker publishes in batches (issue 22): `publish_ms` is a job's wait from computed to
// committed (the batch in flight included), `publish_per_run_ms` its share of its batch's write.
//
// CPU is reported per case and per process, since wall-clock on a shared machine measures the
// machine: the workers' (during the eval only, their start-up left out), the submitter's (the
// whole command, from /usr/bin/time), PostgreSQL's backends for the measurement's database,
// PostgreSQL's background processes and Redis (both shared with whatever else uses the servers).
// Also per case: transactions committed in the database (a worker's check for a finished job
// and its publish batch: the registry's round trips that commit) and commands Redis processed.
// `fixed_s` is the command's time beyond its jobs at the steady rate (start and end together);
// the local eval's is its cold command beyond the warm one's cases.
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
import { CLI, machine, REPO, requireDataset, seededRandom, summarize, writeResult } from "./lib.mjs";

const PG_ADMIN_URL = process.env.CANON_BENCH_PG ?? "postgres://root@127.0.0.1:5432/test";
const REDIS_URL = process.env.CANON_BENCH_REDIS ?? "redis://127.0.0.1:6379";
const CASES = Number(process.env.CANON_BENCH_QUEUE_CASES ?? 160);
const WORKER_COUNTS = [1, 2, 4, 8];
const LATENCY_MS = 200;
const SEED = 14;
const TARGET_SPEEDUP_AT_8 = 6.5;
const SCIFACT_CASES = Number(process.env.CANON_BENCH_SCIFACT_CASES ?? 200);
const SCIFACT_WORKER_COUNTS = [1, 4];
const TARGET_QUEUE_VS_LOCAL = 0.8;
const TARGET_PUBLISH_P50_MS_AT_4 = 5;
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
      ...(baseUrl === undefined ? [] : ["--model-base-url", baseUrl]),
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

/**
 * Runs the CLI to completion; resolves with its CPU seconds (user + system, from /usr/bin/time
 * where there is one, else null).
 */
function runEval(args, env) {
  const timeFile = existsSync("/usr/bin/time")
    ? join(tmpdir(), `canon-bench-time-${randomBytes(4).toString("hex")}`)
    : null;
  const [command, argv] =
    timeFile === null
      ? [process.execPath, [CLI, ...args]]
      : ["/usr/bin/time", ["-f", "%U %S", "-o", timeFile, process.execPath, CLI, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.stdout.resume();
    const timer = setTimeout(() => child.kill("SIGKILL"), EVAL_TIMEOUT_MS);
    child.once("close", (status) => {
      clearTimeout(timer);
      let cpu = null;
      if (timeFile !== null && existsSync(timeFile)) {
        const [user, sys] = readFileSync(timeFile, "utf8").trim().split("\n").pop().split(" ").map(Number);
        rmSync(timeFile, { force: true });
        cpu = user + sys;
      }
      status === 0 ? resolve(cpu) : reject(new Error(`eval exited ${status}: ${stderr}`));
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

/**
 * CPU of the servers while a measurement runs: PostgreSQL's backends connected to `database`
 * (the workers' and the submitter's connections; a backend's CPU counts from its start, so a
 * connection opened during the run counts whole; polled, so the last 100 ms of one that closes
 * are missed), PostgreSQL's own background processes (WAL writer, checkpointer... shared with
 * whatever else uses the server), and Redis (INFO cpu, main thread and children; the server is
 * shared too). Shared figures are only as good as the machine is quiet.
 */
async function serverCpuSampler(registryUrl, redisClient) {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  const backends = new Map();
  const aux = new Map();
  const poll = async () => {
    const { rows } = await client.query(
      "SELECT pid, datname, backend_type FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
    );
    for (const { pid, datname, backend_type: type } of rows) {
      const cpu = cpuSeconds(pid);
      if (cpu === null) continue;
      const into =
        datname === new URL(registryUrl).pathname.slice(1)
          ? backends
          : type === "client backend"
            ? null
            : aux;
      if (into === null) continue;
      const seen = into.get(pid);
      into.set(pid, { first: seen?.first ?? cpu, last: cpu });
    }
  };
  const redisCpu = async () => {
    const info = await redisClient.info("cpu");
    const field = (name) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? Number.NaN);
    return (
      field("used_cpu_user") +
      field("used_cpu_sys") +
      field("used_cpu_user_children") +
      field("used_cpu_sys_children")
    );
  };
  const commits = async () =>
    Number(
      (
        await client.query("SELECT xact_commit FROM pg_stat_database WHERE datname = $1", [
          new URL(registryUrl).pathname.slice(1),
        ])
      ).rows[0]?.xact_commit ?? Number.NaN,
    );
  const redisCommands = async () =>
    Number(/total_commands_processed:([0-9]+)/.exec(await redisClient.info("stats"))?.[1] ?? Number.NaN);
  const commitsBefore = await commits();
  const commandsBefore = await redisCommands();
  await poll();
  // Backends there before the run (the workers' connections) count from here on.
  const before = new Map([...backends].map(([pid, v]) => [pid, v.last]));
  const redisBefore = await redisCpu();
  let polling = Promise.resolve();
  const timer = setInterval(() => {
    polling = polling.then(poll, () => undefined);
  }, 100);
  return async () => {
    clearInterval(timer);
    await polling;
    await poll();
    const redis = (await redisCpu()) - redisBefore;
    // Transactions committed in this measurement's database (each statement outside a
    // transaction is one; a worker's publish batch is one), and commands Redis processed
    // (shared: whatever else uses the server counts too; these two reads included).
    const pgCommits = (await commits()) - commitsBefore;
    const redisCommandCount = (await redisCommands()) - commandsBefore;
    await client.end();
    const sumOf = (map, base) => [...map].reduce((a, [pid, v]) => a + v.last - (base(pid) ?? 0), 0);
    return {
      pg_backends_s: sumOf(backends, (pid) => before.get(pid)),
      pg_background_s: sumOf(aux, (pid) => aux.get(pid).first),
      redis_s: redis,
      pg_commits: pgCommits,
      redis_commands: redisCommandCount,
    };
  };
}

const round = (x, digits = 3) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

/** Steady state from the workers' "job computed" lines: (jobs - 1) / (last done - first done). */
function steadyState(jobs, startedAtMs, endedAtMs, seconds) {
  const done = jobs.map((l) => Date.parse(l.time)).sort((a, b) => a - b);
  if (done.length < 2)
    return { steady_cases_per_s: null, first_job_done_s: null, last_job_to_exit_s: null, fixed_s: null };
  const first = done[0];
  const last = done[done.length - 1];
  const steady = (done.length - 1) / ((last - first) / 1000);
  return {
    steady_cases_per_s: round(steady),
    // The submitter's snapshot, the submission, and the first job (its worker's index).
    first_job_done_s: round((first - startedAtMs) / 1000),
    // The last job's acknowledgement reaching the submitter, its output written, its exit.
    last_job_to_exit_s: round((endedAtMs - last) / 1000),
    // What the whole command took beyond its jobs at the steady rate: the fixed start and end.
    fixed_s: round(seconds - (done.length - 1) / steady),
  };
}

/**
 * One measurement. `mode`: { kind: "llm", suite, endpoint, cases } or { kind: "scifact", cases }.
 */
async function measure(workerCount, mode) {
  const endpoint = mode.kind === "llm" ? mode.endpoint : undefined;
  const CASES = mode.cases;
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
  // The machine is shared: the load when each measurement starts is kept beside its figures.
  const load = loadavg().map((x) => round(x, 2));
  const workers = [];
  let redisInfo;
  const requestsBefore = endpoint?.requests() ?? 0;
  try {
    for (let w = 0; w < workerCount; w++)
      workers.push(startWorker(env, registry, join(scratch, `worker-${w}`), endpoint?.baseUrl));
    await until(
      "workers ready",
      () => workers.every((w) => w.lines.some((l) => l.msg === "worker ready")),
      READY_TIMEOUT_MS,
    );
    const out = join(scratch, "out");
    const { hostname, port } = new URL(REDIS_URL);
    redisInfo = new Queue("canon-reason", {
      connection: { host: hostname, port: Number(port || 6379) },
      prefix,
    });
    const stopSampler = await serverCpuSampler(registry, await redisInfo.client);
    const workerCpuBefore = workers.map((w) => cpuSeconds(w.child.pid));
    const startedAtMs = Date.now();
    const t0 = performance.now();
    // biome-ignore format: one flag and its value per line
    const submitterCpuS = await runEval([
      "eval", ...(mode.kind === "llm"
        ? ["--suite", mode.suite, "--reasoner", "llm", "--model", "bench-model", "--base-url", endpoint.baseUrl]
        : ["--beir", requireDataset("scifact"), "--split", "train", "--limit", String(CASES)]),
      "--queue", REDIS_URL, "--registry", registry,
      "--artifacts-dir", join(scratch, "submitter"), "--out", out, "--json",
    ], env);
    const seconds = (performance.now() - t0) / 1000;
    const endedAtMs = Date.now();
    const workerCpuS = workers.map((w) => cpuSeconds(w.child.pid));
    const server = await stopSampler();
    const jobs = workers.flatMap((w) => w.lines.filter((l) => l.msg === "job computed"));
    const jobMs = jobs.map((l) => l.ms);
    const publishMs = jobs.map((l) => l.publish_ms);
    // A job's share of its batch's write (issue 22: a worker publishes in batches, group commit).
    const publishPerRun = jobs
      .filter((l) => l.publish_batch)
      .map((l) => l.publish_batch.ms / l.publish_batch.runs);
    const batchRuns = jobs.filter((l) => l.publish_batch).map((l) => l.publish_batch.runs);
    const sum = (xs) => xs.reduce((a, b) => a + b, 0);
    const cases = readFileSync(join(out, "cases.jsonl"));
    return {
      workers: workerCount,
      loadavg_at_start: load,
      seconds: round(seconds),
      cases_per_s: round(CASES / seconds),
      ...steadyState(jobs, startedAtMs, endedAtMs, seconds),
      jobs_computed: jobs.length,
      model_requests: endpoint === undefined ? 0 : endpoint.requests() - requestsBefore,
      job_ms: summarize(jobMs),
      publish_ms: summarize(publishMs),
      publish_per_run_ms: publishPerRun.length === 0 ? null : summarize(publishPerRun),
      publish_batch_runs: batchRuns.length === 0 ? null : summarize(batchRuns),
      publish_share_of_job_time: round(sum(publishMs) / sum(jobMs)),
      // Start-up included (about half a second per worker); null where /proc is not there.
      worker_cpu_ms_per_case: workerCpuS.includes(null) ? null : round((sum(workerCpuS) * 1000) / CASES, 1),
      // CPU during the eval only (the workers' start-up left out), per case, by process.
      cpu_ms_per_case:
        workerCpuS.includes(null) || workerCpuBefore.includes(null)
          ? null
          : {
              workers: round(((sum(workerCpuS) - sum(workerCpuBefore)) * 1000) / CASES, 2),
              submitter: submitterCpuS === null ? null : round((submitterCpuS * 1000) / CASES, 2),
              pg_backends: round((server.pg_backends_s * 1000) / CASES, 2),
              pg_background: round((server.pg_background_s * 1000) / CASES, 2),
              redis: round((server.redis_s * 1000) / CASES, 2),
            },
      submitter_cpu_s: round(submitterCpuS, 2),
      // Round trips that commit, per case (the stats collector may lag by up to half a second).
      pg_commits_per_case: round(server.pg_commits / CASES, 2),
      redis_commands_per_case: round(server.redis_commands / CASES, 1),
      cases_jsonl_sha256: createHash("sha256").update(cases).digest("hex"),
    };
  } finally {
    await redisInfo?.close();
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

/** Seconds of a local `eval` of SciFact on `artifacts` (warm after the first call). */
async function localScifact(cases, artifacts, out) {
  const t0 = performance.now();
  // biome-ignore format: one flag and its value per line
  const cpu = await runEval([
    "eval", "--beir", requireDataset("scifact"), "--split", "train", "--limit", String(cases),
    "--workers", "1", "--artifacts-dir", artifacts, "--out", out, "--json",
  ], process.env);
  return { seconds: (performance.now() - t0) / 1000, cpu };
}

const suiteDir = mkdtempSync(join(tmpdir(), "canon-bench-queue-suite-"));
writeSuite(suiteDir);
const endpoint = await startChatServer({ latencyMs: LATENCY_MS });
const startLoad = loadavg();
const only = process.env.CANON_BENCH_QUEUE_PHASES?.split(",") ?? ["scifact", "llm"];
const results = [];
const scifact = { local: null, queue: [] };
try {
  if (only.includes("scifact")) {
    const scratch = mkdtempSync(join(tmpdir(), "canon-bench-queue-local-"));
    try {
      const artifacts = join(scratch, "artifacts");
      console.error(`queue-scale: SciFact local eval --workers 1, ${SCIFACT_CASES} cases`);
      const load = loadavg().map((x) => round(x, 2));
      const cold = await localScifact(1, artifacts, join(scratch, "cold"));
      const one = await localScifact(1, artifacts, join(scratch, "one"));
      const all = await localScifact(SCIFACT_CASES, join(scratch, "artifacts-2"), join(scratch, "all"));
      const warm = await localScifact(SCIFACT_CASES, artifacts, join(scratch, "warm"));
      scifact.local = {
        cases: SCIFACT_CASES,
        loadavg_at_start: load,
        seconds: round(all.seconds),
        cases_per_s: round(SCIFACT_CASES / all.seconds),
        cold_one_case_s: round(cold.seconds),
        steady_cases_per_s: round((SCIFACT_CASES - 1) / (warm.seconds - one.seconds)),
        // CPU of the whole cold command per case, and per case in steady state (warm N - warm 1).
        cpu_ms_per_case: all.cpu === null ? null : round((all.cpu * 1000) / SCIFACT_CASES, 2),
        steady_cpu_ms_per_case:
          warm.cpu === null || one.cpu === null
            ? null
            : round(((warm.cpu - one.cpu) * 1000) / (SCIFACT_CASES - 1), 2),
        // The cold command beyond its cases at the steady rate: start-up, snapshot and index.
        fixed_s: round(all.seconds - (warm.seconds - one.seconds)),
        cases_jsonl_sha256: createHash("sha256")
          .update(readFileSync(join(scratch, "all", "cases.jsonl")))
          .digest("hex"),
      };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    for (const n of SCIFACT_WORKER_COUNTS) {
      console.error(`queue-scale: SciFact, ${n} queue worker(s), ${SCIFACT_CASES} cases`);
      scifact.queue.push(await measure(n, { kind: "scifact", cases: SCIFACT_CASES }));
    }
    for (const q of scifact.queue)
      if (q.cases_jsonl_sha256 !== scifact.local.cases_jsonl_sha256)
        throw new Error("SciFact cases.jsonl differs between the queue and a local eval");
  }
  if (only.includes("llm"))
    for (const n of WORKER_COUNTS) {
      console.error(`queue-scale: ${n} worker(s), ${CASES} cases`);
      results.push(await measure(n, { kind: "llm", suite: suiteDir, endpoint, cases: CASES }));
    }
} finally {
  await endpoint.close();
  rmSync(suiteDir, { recursive: true, force: true });
}

const one = results[0]?.cases_per_s;
for (const r of results) r.speedup_vs_1 = round(r.cases_per_s / one, 2);
for (const r of results)
  r.steady_speedup_vs_1 =
    r.steady_cases_per_s === null ? null : round(r.steady_cases_per_s / results[0].steady_cases_per_s, 2);
if (new Set(results.map((r) => r.cases_jsonl_sha256)).size > 1)
  throw new Error("cases.jsonl differs between worker counts: results depend on the topology");

const resultsFile = join(REPO, "bench", "results", "queue-scale.json");
const previous = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, "utf8")) : null;
const at8 = results.find((r) => r.workers === 8);
const q1 = scifact.queue.find((r) => r.workers === 1);
const q4 = scifact.queue.find((r) => r.workers === 4);
const result = {
  bench: "queue-scale",
  machine: { ...machine(), cpus: cpus().length, loadavg_at_start: startLoad.map((x) => round(x, 2)) },
  sizes: {
    cases: CASES,
    worker_counts: WORKER_COUNTS,
    worker_concurrency: 1,
    model_latency_ms: LATENCY_MS,
    scifact_cases: SCIFACT_CASES,
    scifact_worker_counts: SCIFACT_WORKER_COUNTS,
  },
  seeds: { suite_order: SEED },
  suite: `demo questions in a seeded order, cycled through phrasings: ${JSON.stringify(PHRASINGS)}`,
  results,
  scifact,
  target: {
    speedup_at_8_workers: TARGET_SPEEDUP_AT_8,
    met: at8 === undefined ? null : at8.speedup_vs_1 >= TARGET_SPEEDUP_AT_8,
    steady_met: at8 === undefined ? null : at8.steady_speedup_vs_1 >= TARGET_SPEEDUP_AT_8,
    queue_1_vs_local_1: TARGET_QUEUE_VS_LOCAL,
    queue_1_vs_local_1_met:
      q1 === undefined ? null : q1.cases_per_s / scifact.local.cases_per_s >= TARGET_QUEUE_VS_LOCAL,
    queue_1_vs_local_1_steady_met:
      q1 === undefined
        ? null
        : q1.steady_cases_per_s / scifact.local.steady_cases_per_s >= TARGET_QUEUE_VS_LOCAL,
    publish_p50_ms_at_4: TARGET_PUBLISH_P50_MS_AT_4,
    publish_p50_ms_at_4_met: q4 === undefined ? null : q4.publish_ms.p50_ms <= TARGET_PUBLISH_P50_MS_AT_4,
    publish_per_run_p50_ms_at_4_met:
      q4?.publish_per_run_ms == null ? null : q4.publish_per_run_ms.p50_ms <= TARGET_PUBLISH_P50_MS_AT_4,
  },
  // A lower bound on a job's time at 1 worker is the model latency; what lies above it is ours.
  figures: {
    cases_per_s_1: one ?? null,
    cases_per_s_8: at8?.cases_per_s ?? null,
    speedup_at_8: at8?.speedup_vs_1 ?? null,
    steady_speedup_at_8: at8?.steady_speedup_vs_1 ?? null,
    publish_p50_ms_1: results[0]?.publish_ms.p50_ms ?? null,
    publish_p50_ms_8: at8?.publish_ms.p50_ms ?? null,
    job_p50_ms_1: results[0]?.job_ms.p50_ms ?? null,
    job_p50_ms_8: at8?.job_ms.p50_ms ?? null,
    worker_cpu_ms_per_case_1: results[0]?.worker_cpu_ms_per_case ?? null,
    worker_cpu_ms_per_case_8: at8?.worker_cpu_ms_per_case ?? null,
    scifact_queue_1_vs_local_1:
      q1 === undefined ? null : round(q1.cases_per_s / scifact.local.cases_per_s, 2),
    scifact_queue_1_vs_local_1_steady:
      q1 === undefined ? null : round(q1.steady_cases_per_s / scifact.local.steady_cases_per_s, 2),
    scifact_publish_p50_ms_1: q1?.publish_ms.p50_ms ?? null,
    scifact_publish_p50_ms_4: q4?.publish_ms.p50_ms ?? null,
    scifact_publish_per_run_p50_ms_4: q4?.publish_per_run_ms?.p50_ms ?? null,
    publish_per_run_p50_ms_8: at8?.publish_per_run_ms?.p50_ms ?? null,
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
