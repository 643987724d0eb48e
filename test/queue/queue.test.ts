/**
 * The queue over real Redis and PostgreSQL, with real worker processes that share nothing but
 * the two services (each its own empty artifacts dir): a distributed eval equals a local one
 * byte for byte, a fourth process with an empty dir verifies and replays every run from the
 * registry, a SIGKILLed worker's job runs again elsewhere and every case completes exactly
 * once, bad input lands in the dead-letter list at once, and a service whose Redis is away
 * answers async submissions 503 while synchronous runs still work.
 *
 * The distributed eval answers the 200 cases: a suite generated here, deterministically,
 * from the bundled demo corpus (so CI always has it). The chaos test uses the bundled demo suite
 * cut to its first 20 cases: the property is per case, and the file must stay near two minutes.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replayRunDirectory } from "../../src/app/verify/replay.js";
import { verifyRunDirectory } from "../../src/app/verify/verify.js";
import { CanonError } from "../../src/core/errors.js";
import { parseQueueUrl } from "../../src/queue/connection.js";
import { JobQueue, QUEUE_NAME } from "../../src/queue/queue.js";
import { PgRegistry } from "../../src/registry/postgres.js";
import { CLI, DEMO_CORPUS, isCleanError, REPO, runCli } from "../helpers/cli.js";
import { call, demoSpec, startServer } from "../helpers/http.js";
import { needPostgres, needRedis, REDIS_URL, scratchDatabase, testPrefix } from "../helpers/services.js";
import { tempDir, writeFiles } from "../helpers/tmp.js";
import { startWorkerProcess as spawnWorker, until, type WorkerProcess } from "../helpers/workers.js";

const SUITE = join(REPO, "demo", "suite");
const LIMIT = "20";
const GENERATED_CASES = 200;

/**
 * A suite of `count` cases over the demo corpus: each a sentence of one document (documents in
 * path order, their sentences taken round by round), judged relevant to that document. The same
 * files every time: nothing random, no clock.
 */
function generatedSuite(count: number): string {
  const docs = (
    readdirSync(DEMO_CORPUS, { recursive: true, withFileTypes: true }) as import("node:fs").Dirent[]
  )
    .filter((d) => d.isFile())
    .map((d) => relative(DEMO_CORPUS, join(d.parentPath, d.name)).split("\\").join("/"))
    .sort();
  const sentences = docs.map((doc) =>
    readFileSync(join(DEMO_CORPUS, doc), "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.startsWith("#"))
      .join(" ")
      .split(/(?<=[.!?])\s+/)
      .filter((sentence) => sentence.split(" ").length >= 5),
  );
  const cases: string[] = [];
  for (let round = 0; cases.length < count; round++) {
    if (sentences.every((list) => round >= list.length))
      throw new Error("the demo corpus has too few sentences");
    for (const [d, list] of sentences.entries()) {
      const sentence = list[round];
      if (sentence === undefined || cases.length >= count) continue;
      cases.push(
        JSON.stringify({
          case_id: `g${String(cases.length + 1).padStart(3, "0")}`,
          description: sentence,
          expected: { relevant: { [docs[d] as string]: 2 } },
        }),
      );
    }
  }
  const dir = tempDir();
  writeFiles(dir, {
    "suite.json": JSON.stringify({ corpus: DEMO_CORPUS, name: "generated", version: "1" }),
    "problems.jsonl": `${cases.join("\n")}\n`,
  });
  return dir;
}
const available = (await needPostgres()) && (await needRedis());
const pgUrl = available ? await scratchDatabase("queue") : "";
// Every key this file makes in Redis starts with its own prefix, removed afterwards.
const prefix = testPrefix("queue");
const env = { CANON_REASON_QUEUE_PREFIX: prefix };
process.env.CANON_REASON_QUEUE_PREFIX = prefix;

/** A worker sharing nothing but the two services: its own (empty) artifacts dir. */
const startWorkerProcess = (dir = tempDir()): WorkerProcess =>
  spawnWorker(["--queue", REDIS_URL, "--registry", pgUrl, "--artifacts-dir", dir, "--stall-ms", "5000"], env);

function runCliAsync(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

const doneJobs = (workers: WorkerProcess[]) =>
  workers.flatMap((w) => w.lines.filter((l) => l.msg === "job done").map((l) => String(l.job_id)));

describe("the worker command", () => {
  it("refuses to start without a queue, with a bad queue URL, or without a shared registry (exit 2)", () => {
    const dir = tempDir();
    for (const args of [
      ["worker", "--registry", "postgres://root@127.0.0.1/test"],
      ["worker", "--queue", "http://127.0.0.1:6379", "--registry", "postgres://root@127.0.0.1/test"],
      [
        "worker",
        "--queue",
        "redis://127.0.0.1:6379/notanumber",
        "--registry",
        "postgres://root@127.0.0.1/test",
      ],
      ["worker", "--queue", "redis://127.0.0.1:6379"],
    ]) {
      const r = runCli([...args, "--artifacts-dir", dir], { env: { CANON_REASON_DATABASE_URL: "" } });
      expect(r.status, args.join(" ")).toBe(2);
      expect(isCleanError(r)).toBe(true);
    }
  });
});

describe.skipIf(!available)("runs and evals through the queue", () => {
  const workers: WorkerProcess[] = [];
  beforeAll(() => {
    for (let n = 0; n < 3; n++) workers.push(startWorkerProcess());
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill("SIGKILL");
    // Gone before the keys are removed, so no worker writes one back.
    await Promise.all(workers.map((w) => w.exited));
    const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(REDIS_URL), prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it("a worker that cannot reach Redis says so in one line (exit 3)", async () => {
    const r = await runCliAsync([
      "worker",
      "--queue",
      "redis://127.0.0.1:1",
      "--registry",
      pgUrl,
      "--artifacts-dir",
      tempDir(),
    ]);
    expect(r.status).toBe(3);
    expect(isCleanError(r)).toBe(true);
    expect(r.stderr).toContain("E_QUEUE_UNAVAILABLE");
  });

  it("three workers answer a 200-case suite: both files equal a local eval's byte for byte, every run verifies and replays from the registry", async () => {
    await until("workers ready", () => workers.every((w) => w.lines.some((l) => l.msg === "worker ready")));
    const suite = generatedSuite(GENERATED_CASES);
    const before = doneJobs(workers).length;
    const local = tempDir();
    const distributed = tempDir();
    const [viaQueue, alone] = await Promise.all([
      runCliAsync([
        "eval",
        "--suite",
        suite,
        "--queue",
        REDIS_URL,
        "--registry",
        pgUrl,
        "--artifacts-dir",
        tempDir(),
        "--out",
        distributed,
      ]),
      // Worker threads here, queue workers there: neither may show in the two files.
      runCliAsync(["eval", "--suite", suite, "--workers", "2", "--artifacts-dir", tempDir(), "--out", local]),
    ]);
    expect(viaQueue.status, viaQueue.stderr).toBe(0);
    expect(alone.status, alone.stderr).toBe(0);
    for (const file of ["cases.jsonl", "summary.json"])
      expect(readFileSync(join(distributed, file)), file).toEqual(readFileSync(join(local, file)));
    const lines = readFileSync(join(distributed, "cases.jsonl"), "utf8").trim().split("\n");
    expect(lines).toHaveLength(GENERATED_CASES);
    // Only timings.json tells the two apart.
    const timings = (dir: string) => JSON.parse(readFileSync(join(dir, "timings.json"), "utf8"));
    expect(timings(distributed)).toMatchObject({ queue: true, workers: null });
    expect(timings(local)).toMatchObject({ queue: false, workers: 2 });
    // Each case was computed by exactly one worker, and the work was shared.
    const done = doneJobs(workers).slice(before);
    expect(done).toHaveLength(GENERATED_CASES);
    expect(new Set(done).size).toBe(GENERATED_CASES);
    for (const w of workers) expect(w.lines.filter((l) => l.msg === "job done").length).toBeGreaterThan(0);

    // This test process is the fourth machine: an empty directory, PostgreSQL only.
    const registry = await PgRegistry.connect(pgUrl);
    const empty = tempDir();
    try {
      const runIds = lines.map((line) => JSON.parse(line).run_id as string);
      expect(new Set(runIds).size).toBe(GENERATED_CASES);
      for (const runId of runIds) {
        const runDir = await registry.materializeRun(runId, empty);
        expect(runDir, runId).not.toBeNull();
        expect(
          verifyRunDirectory(runDir as string, { policy: "strict", storeRoot: empty }).verdict,
          runId,
        ).toBe("pass");
        expect((await replayRunDirectory(runDir as string, empty, "frozen")).identical, runId).toBe(true);
      }
    } finally {
      await registry.close();
    }

    // The demo suite's first cases again, twice: the second time every job exists and is done,
    // so no worker computes anything.
    const demoEval = () =>
      runCliAsync([
        "eval",
        "--suite",
        SUITE,
        "--limit",
        LIMIT,
        "--queue",
        REDIS_URL,
        "--registry",
        pgUrl,
        "--artifacts-dir",
        tempDir(),
        "--out",
        tempDir(),
      ]);
    expect((await demoEval()).status).toBe(0);
    const afterFirst = doneJobs(workers).length;
    expect(afterFirst - before).toBe(GENERATED_CASES + Number(LIMIT));
    expect((await demoEval()).status).toBe(0);
    expect(doneJobs(workers)).toHaveLength(afterFirst);
  }, 300_000);

  it("a worker SIGKILLed mid-eval: its job runs again elsewhere, every case completes exactly once, every run verifies", async () => {
    const out = tempDir();
    // Other overrides than the test above: new jobs, new runs.
    const evaluation = runCliAsync([
      "eval",
      "--suite",
      SUITE,
      "--limit",
      LIMIT,
      "--top-k",
      "7",
      "--queue",
      REDIS_URL,
      "--registry",
      pgUrl,
      "--artifacts-dir",
      tempDir(),
      "--out",
      out,
    ]);
    const before = doneJobs(workers).length;
    const victim = workers[0] as WorkerProcess;
    const victimDone = () => victim.lines.filter((l) => l.msg === "job done").length;
    const victimBefore = victimDone();
    await until("the victim finished a job of this eval", () => victimDone() > victimBefore);
    victim.child.kill("SIGKILL");
    await victim.exited;
    workers.push(startWorkerProcess());
    const result = await evaluation;
    expect(result.status, result.stderr).toBe(0);
    const local = tempDir();
    expect(
      (
        await runCliAsync([
          "eval",
          "--suite",
          SUITE,
          "--limit",
          LIMIT,
          "--top-k",
          "7",
          "--artifacts-dir",
          tempDir(),
          "--out",
          local,
        ])
      ).status,
    ).toBe(0);
    expect(readFileSync(join(out, "cases.jsonl"))).toEqual(readFileSync(join(local, "cases.jsonl")));
    // No job done twice. The victim may have completed a job in Redis just before it died, with
    // no time left to log it (its batch commits two jobs at once), so Redis is asked for the count.
    const done = doneJobs(workers).slice(before);
    expect(new Set(done).size).toBe(done.length);
    expect(done.length).toBeGreaterThanOrEqual(Number(LIMIT) - 2);
    const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(REDIS_URL), prefix });
    try {
      const ofThisEval = (await queue.getJobs(["completed"])).filter(
        (job) => job.data.kind === "case" && job.data.overrides.top_k === 7,
      );
      expect(ofThisEval).toHaveLength(Number(LIMIT));
      expect(await queue.getJobCountByTypes("failed")).toBe(0);
    } finally {
      await queue.close();
    }
    const registry = await PgRegistry.connect(pgUrl);
    const empty = tempDir();
    try {
      for (const line of readFileSync(join(out, "cases.jsonl"), "utf8").trim().split("\n")) {
        const runId = JSON.parse(line).run_id as string;
        const runDir = (await registry.materializeRun(runId, empty)) as string;
        expect(verifyRunDirectory(runDir, { policy: "strict", storeRoot: empty }).verdict, runId).toBe(
          "pass",
        );
      }
    } finally {
      await registry.close();
    }
  }, 300_000);

  it("bad input is not retried: it lands in the dead-letter list with its reason", async () => {
    const queue = new JobQueue(parseQueueUrl(REDIS_URL));
    try {
      const spec = {
        version: "1",
        description: "What causes tides?",
        constraints: { corpus: `sha256:${"e".repeat(64)}` },
      };
      const id = await queue.submit({
        kind: "run",
        spec: spec as never,
        preset: "default",
        seed: 0,
        item_id: null,
        item_version: null,
      });
      const failure = await queue.result(id).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(CanonError);
      expect(failure).toMatchObject({ code: "E_STORE_MISSING", exitCode: 2 });
      const job = await queue.queue.getJob(id);
      expect(await job?.getState()).toBe("failed");
      expect(job?.attemptsMade).toBe(1);
      expect(job?.failedReason).toContain("E_STORE_MISSING");
    } finally {
      await queue.close();
    }
  });

  it("POST /v1/runs with Prefer: respond-async: 202, a status URL, and the run a worker made", async () => {
    const jobs = new JobQueue(parseQueueUrl(REDIS_URL));
    const registry = await PgRegistry.connect(pgUrl);
    const server = await startServer({ registry, queue: { jobs, registry } });
    try {
      const accepted = await call(
        server.url,
        "POST",
        "/v1/runs",
        { spec: demoSpec("Why is the sky blue?") },
        { prefer: "respond-async" },
      );
      expect(accepted.status).toBe(202);
      const location = accepted.headers.get("location") as string;
      expect(location).toMatch(/^\/v1\/jobs\/run-[0-9a-f]{64}$/);
      let status = await call(server.url, "GET", location);
      for (let i = 0; i < 600 && !["completed", "failed"].includes(status.json().state); i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = await call(server.url, "GET", location);
      }
      expect(status.json()).toMatchObject({ state: "completed", failed_reason: null });
      const runId = status.json().run_id as string;
      // The run was made by a worker; this service reads it from the registry.
      const run = await call(server.url, "GET", `/v1/runs/${runId}`);
      expect(run.status).toBe(200);
      expect((await call(server.url, "POST", `/v1/runs/${runId}/verify`, {})).json().passed).toBe(true);
      // Without the preference, the same spec is answered synchronously: the same run.
      const sync = await call(server.url, "POST", "/v1/runs", { spec: demoSpec("Why is the sky blue?") });
      expect(sync.json().run_id).toBe(runId);
      expect((await call(server.url, "GET", `/v1/jobs/run-${"0".repeat(64)}`)).status).toBe(404);
      expect((await call(server.url, "GET", "/v1/jobs/..%2Fx")).status).toBe(400);
    } finally {
      await server.close();
      await jobs.close();
    }
  });

  it("with Redis away, async submissions get 503 problem documents and synchronous runs still work", async () => {
    const jobs = new JobQueue(parseQueueUrl("redis://127.0.0.1:1"));
    const registry = await PgRegistry.connect(pgUrl);
    const server = await startServer({ registry, queue: { jobs, registry } });
    try {
      const refused = await call(
        server.url,
        "POST",
        "/v1/runs",
        { spec: demoSpec() },
        { prefer: "respond-async" },
      );
      expect(refused.status).toBe(503);
      expect(refused.type).toMatch(/^application\/problem\+json/);
      expect(refused.json()).toMatchObject({ code: "E_QUEUE_UNAVAILABLE", status: 503 });
      const status = await call(server.url, "GET", `/v1/jobs/run-${"0".repeat(64)}`);
      expect(status.status).toBe(503);
      const sync = await call(server.url, "POST", "/v1/runs", { spec: demoSpec() });
      expect([200, 201]).toContain(sync.status);
      expect(sync.json().verification.verdict).toBe("pass");
    } finally {
      await server.close();
      await jobs.close();
    }
  });
});
