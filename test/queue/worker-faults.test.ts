/**
 * Issue 22: a worker fleet that degrades gracefully. Real worker processes, real Redis and
 * PostgreSQL; the machine's shared servers are never restarted, flushed or reconfigured:
 * disk faults are injected into one worker's process (test/helpers/fs-fault-preload.mjs, as
 * the kernel reports them), a refusing model endpoint is a TCP proxy that stops listening, and
 * "Redis restarted without its data" is a private redis-server of this file, killed and started
 * again empty. Every scenario ends with cases.jsonl and summary.json byte-identical to a local
 * eval. Case counts are small: the properties are per job.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { parseQueueUrl, persistenceWarnings } from "../../src/queue/connection.js";
import { QUEUE_NAME } from "../../src/queue/queue.js";
import { LOCAL_FAULTS_MAX } from "../../src/queue/queue-worker.js";
import { PgRegistry } from "../../src/registry/postgres.js";
import { chatServer, passage, reply } from "../helpers/chat-server.js";
import { DEMO_CORPUS, REPO, runCliAsync } from "../helpers/cli.js";
import { needPostgres, needRedis, REDIS_URL, scratchDatabase } from "../helpers/services.js";
import { tcpProxy } from "../helpers/tcp-proxy.js";
import { tempDir } from "../helpers/tmp.js";
import { startWorkerProcess, until, type WorkerProcess } from "../helpers/workers.js";

const SUITE = join(REPO, "demo", "suite");
const PRELOAD = fileURLToPath(new URL("../helpers/fs-fault-preload.mjs", import.meta.url));
const available = (await needPostgres()) && (await needRedis());
const pgUrl = available ? await scratchDatabase("worker_faults") : "";
const redisServerBinary = "redis-server";

const prefixes: string[] = [];
const freshPrefix = (label: string) => {
  const prefix = `cr-test-faults-${label}-${process.pid}-${randomBytes(4).toString("hex")}`;
  prefixes.push(prefix);
  return prefix;
};
const running: WorkerProcess[] = [];
const servers: ChildProcess[] = [];
afterAll(async () => {
  for (const w of running) w.child.kill("SIGKILL");
  for (const s of servers) s.kill("SIGKILL");
  await Promise.all(running.map((w) => w.exited));
  if (!available) return;
  for (const prefix of prefixes) {
    const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(REDIS_URL), prefix });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
});

const worker = (args: string[], env: Record<string, string>, redis = REDIS_URL) => {
  const w = startWorkerProcess(
    ["--queue", redis, "--registry", pgUrl, "--artifacts-dir", tempDir(), "--stall-ms", "5000", ...args],
    env,
  );
  running.push(w);
  return w;
};
const ready = (w: WorkerProcess) =>
  until("worker ready", () => w.lines.some((l) => l.msg === "worker ready"));
const faultLines = (w: WorkerProcess) => w.lines.filter((l) => String(l.msg).startsWith("worker fault"));
/**
 * The faults counted towards giving up: a worker holds two jobs per --concurrency (one computing,
 * one waiting for its publish batch), and the second one faulting while paused is not counted.
 */
const countedFaults = (w: WorkerProcess) => faultLines(w).filter((l) => l.faults_in_row !== undefined);

/** A local eval of the same suite: the bytes every scenario must reproduce. */
const localEval = async (args: string[], env: Record<string, string> = {}) => {
  const out = tempDir();
  const r = await runCliAsync(["eval", ...args, "--artifacts-dir", tempDir(), "--out", out], {
    env,
    timeoutMs: 180_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return out;
};
const sameOutput = (a: string, b: string) => {
  for (const file of ["cases.jsonl", "summary.json"])
    expect(readFileSync(join(a, file)).equals(readFileSync(join(b, file))), file).toBe(true);
};

/**
 * Every job of the prefix completed, none failed, and each on its one attempt: BullMQ counts the
 * attempt that completes, so a job handed back by a faulty worker and then completed shows 1.
 */
async function noAttemptSpent(redis: string, prefix: string, count: number) {
  const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(redis), prefix });
  try {
    expect(await queue.getJobCountByTypes("failed")).toBe(0);
    const completed = await queue.getJobs(["completed"]);
    expect(completed).toHaveLength(count);
    for (const job of completed) expect(job.attemptsMade, job.id).toBe(1);
  } finally {
    await queue.close();
  }
}

const CASES = "8";
const suiteArgs = ["--suite", SUITE, "--limit", CASES];

describe("persistence warnings (item 3)", () => {
  it("appendonly other than yes, an evicting policy, or settings that cannot be read each warn; the recommended ones do not", () => {
    expect(persistenceWarnings({ appendonly: "yes", maxmemoryPolicy: "noeviction" })).toEqual([]);
    expect(persistenceWarnings({ appendonly: "no", maxmemoryPolicy: "noeviction" })).toEqual([
      expect.stringContaining("appendonly no: a restart can lose queued jobs"),
    ]);
    expect(persistenceWarnings({ appendonly: "yes", maxmemoryPolicy: "allkeys-lru" })).toEqual([
      expect.stringContaining("maxmemory-policy allkeys-lru"),
    ]);
    expect(persistenceWarnings({})).toEqual([expect.stringContaining("CONFIG GET refused")]);
  });
});

describe.skipIf(!available)("a worker's own faults are its own (items 1 and 2)", () => {
  it("item 1+2: a worker whose artifacts dir turns read-only hands every job back (no attempt spent), reports itself unready, and exits 3 after repeated faults; a healthy worker then does the work, byte-identical to a local eval", async () => {
    const prefix = freshPrefix("erofs");
    const env = { CANON_REASON_QUEUE_PREFIX: prefix };
    const local = await localEval(suiteArgs);
    const switchFile = join(tempDir(), "fault-on");
    const dir = tempDir();
    // The worker's own dir: the --artifacts-dir given last wins.
    const faulty = worker(["--metrics-port", "0", "--artifacts-dir", dir], {
      ...env,
      NODE_OPTIONS: `--import ${PRELOAD}`,
      FS_FAULT_UNDER: dir,
      FS_FAULT_CODE: "EROFS",
      FS_FAULT_SWITCH: switchFile,
    });
    await ready(faulty);
    // The disk goes read-only after the worker started (it checked its dir then).
    writeFileSync(switchFile, "");
    const readyz = String(faulty.lines.find((l) => l.msg === "worker ready")?.metrics_url).replace(
      /\/metrics$/,
      "/readyz",
    );
    expect((await fetch(readyz)).status).toBe(200);
    const out = tempDir();
    const submitted = runCliAsync(
      [
        "eval",
        ...suiteArgs,
        "--queue",
        REDIS_URL,
        "--registry",
        pgUrl,
        "--artifacts-dir",
        tempDir(),
        "--out",
        out,
      ],
      { env, timeoutMs: 180_000 },
    );
    await until("the first fault", () => faultLines(faulty).length > 0);
    const answer = await fetch(readyz);
    expect(answer.status).toBe(503);
    expect(await answer.text()).toContain("read-only file system (EROFS)");
    const metrics = await (await fetch(readyz.replace(/\/readyz$/, "/metrics"))).text();
    expect(metrics).toMatch(/^canon_reason_healthy 0$/m);
    // Alone, it backs off (1, 2, 4, 8 s) and gives up: exit 3, the reason on stderr.
    expect(await faulty.exited).toBe(3);
    expect(faulty.stderr()).toContain("error[E_WORKER_FAULT]");
    const faults = countedFaults(faulty);
    expect(faults).toHaveLength(LOCAL_FAULTS_MAX);
    for (const f of faultLines(faulty).filter((l) => l.faults_in_row === undefined))
      expect(f.msg).toContain("already paused for the same fault");
    for (const f of faults)
      expect(f).toMatchObject({ fault: "disk", reason: expect.stringContaining("EROFS") });
    expect(faults.map((f) => f.pause_ms).slice(0, 4)).toEqual([1000, 2000, 4000, 8000]);
    expect(faulty.lines.some((l) => l.msg === "job computed" || l.msg === "job failed (will retry)")).toBe(
      false,
    );
    // A healthy worker takes the work the broken one handed back.
    const healthy = worker([], env);
    const r = await submitted;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("E_ARTIFACTS_DIR");
    sameOutput(out, local);
    expect(healthy.lines.filter((l) => l.msg === "job done")).toHaveLength(Number(CASES));
    await noAttemptSpent(REDIS_URL, prefix, Number(CASES));
    healthy.child.kill("SIGTERM");
    expect(await healthy.exited).toBe(0);
  }, 240_000);

  // item 1: every errno of a worker's own disk, one table; each beside a healthy worker.
  it.each(["ENOSPC", "EACCES", "EDQUOT", "EROFS"])(
    "item 1: a worker whose disk fails with %s while writing runs hands its jobs back; beside a healthy worker the eval finishes byte-identical, no attempt spent",
    async (code) => {
      const prefix = freshPrefix(code.toLowerCase());
      const env = { CANON_REASON_QUEUE_PREFIX: prefix };
      const local = await localEval(suiteArgs);
      const switchFile = join(tempDir(), "fault-on");
      const dir = tempDir();
      const faulty = worker(["--artifacts-dir", dir], {
        ...env,
        NODE_OPTIONS: `--import ${PRELOAD}`,
        FS_FAULT_UNDER: dir,
        FS_FAULT_CODE: code,
        FS_FAULT_SWITCH: switchFile,
      });
      await ready(faulty);
      writeFileSync(switchFile, "");
      const out = tempDir();
      const submitted = runCliAsync(
        [
          "eval",
          ...suiteArgs,
          "--queue",
          REDIS_URL,
          "--registry",
          pgUrl,
          "--artifacts-dir",
          tempDir(),
          "--out",
          out,
        ],
        { env, timeoutMs: 180_000 },
      );
      await until("the first fault", () => faultLines(faulty).length > 0);
      const healthy = worker([], env);
      const r = await submitted;
      expect(r.status, r.stderr).toBe(0);
      sameOutput(out, local);
      expect(faultLines(faulty)[0]).toMatchObject({
        fault: "disk",
        reason: expect.stringContaining(`(${code})`),
      });
      expect(faulty.lines.some((l) => l.msg === "job computed")).toBe(false);
      expect(healthy.lines.filter((l) => l.msg === "job done")).toHaveLength(Number(CASES));
      await noAttemptSpent(REDIS_URL, prefix, Number(CASES));
      for (const w of [faulty, healthy]) w.child.kill("SIGTERM");
      await Promise.all([faulty.exited, healthy.exited]);
    },
    180_000,
  );

  it("item 1: a worker whose model endpoint refuses connections hands the job back, pauses, and carries on once it answers; byte-identical to a local llm eval", async () => {
    const prefix = freshPrefix("endpoint");
    const env = { CANON_REASON_QUEUE_PREFIX: prefix, CANON_REASON_LLM_API_KEY: "sk-test-worker" };
    const model = await chatServer([
      reply((request) => {
        const quote = passage(request, 1).split(/\s+/).slice(0, 8).join(" ");
        return JSON.stringify({
          claims: [{ statement: `It says: ${quote}`, citations: [{ evidence: 1, quote }] }],
        });
      }),
    ]);
    const proxy = await tcpProxy("127.0.0.1", model.port);
    const baseUrl = `http://127.0.0.1:${proxy.port}/v1`;
    try {
      const llmArgs = [
        ...suiteArgs.slice(0, 2),
        "--limit",
        "4",
        "--reasoner",
        "llm",
        "--model",
        "test-model",
        "--base-url",
        baseUrl,
      ];
      const local = await localEval(llmArgs, { CANON_REASON_LLM_API_KEY: "sk-test-local" });
      await proxy.cut();
      const w = worker(["--model-base-url", baseUrl, "--model-retries", "0"], env);
      await ready(w);
      const out = tempDir();
      const submitted = runCliAsync(
        [
          "eval",
          ...llmArgs,
          "--queue",
          REDIS_URL,
          "--registry",
          pgUrl,
          "--artifacts-dir",
          tempDir(),
          "--out",
          out,
        ],
        { env: { CANON_REASON_QUEUE_PREFIX: prefix }, timeoutMs: 180_000 },
      );
      await until("the first fault", () => faultLines(w).length > 0);
      expect(faultLines(w)[0]).toMatchObject({
        fault: "model_endpoint",
        reason: expect.stringContaining("ECONNREFUSED"),
      });
      await proxy.restore();
      const r = await submitted;
      expect(r.status, r.stderr).toBe(0);
      sameOutput(out, local);
      expect(w.lines.some((l) => l.msg === "worker healthy again")).toBe(true);
      await noAttemptSpent(REDIS_URL, prefix, 4);
      w.child.kill("SIGTERM");
      expect(await w.exited).toBe(0);
    } finally {
      await proxy.close();
      await model.close();
    }
  }, 180_000);
});

/** A tiny tmpfs of this test (root only, where mounting is allowed); null elsewhere. */
function tinyTmpfs(kib: number): string | null {
  if (process.getuid?.() !== 0) return null;
  const dir = tempDir();
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k`, "tmpfs", dir], { stdio: "ignore" });
  return r.status === 0 ? dir : null;
}
const tmpfs = available ? tinyTmpfs(64) : null;
afterAll(() => {
  if (tmpfs !== null) spawnSync("umount", ["-l", tmpfs], { stdio: "ignore" });
});

describe.skipIf(tmpfs === null)("a real full disk (item 2, root with mount only)", () => {
  it("item 2: a worker whose store (a 64 KiB tmpfs) cannot hold the snapshot hands the job back with ENOSPC; a healthy worker does the work, byte-identical, no attempt spent", async () => {
    const prefix = freshPrefix("tmpfs");
    const env = { CANON_REASON_QUEUE_PREFIX: prefix };
    const local = await localEval(suiteArgs);
    const full = worker(["--artifacts-dir", tmpfs as string], env);
    await ready(full);
    const out = tempDir();
    const submitted = runCliAsync(
      [
        "eval",
        ...suiteArgs,
        "--queue",
        REDIS_URL,
        "--registry",
        pgUrl,
        "--artifacts-dir",
        tempDir(),
        "--out",
        out,
      ],
      { env, timeoutMs: 180_000 },
    );
    await until("the first fault", () => faultLines(full).length > 0);
    expect(faultLines(full)[0]).toMatchObject({ fault: "disk", reason: expect.stringContaining("(ENOSPC)") });
    const healthy = worker([], env);
    const r = await submitted;
    expect(r.status, r.stderr).toBe(0);
    sameOutput(out, local);
    await noAttemptSpent(REDIS_URL, prefix, Number(CASES));
    for (const w of [full, healthy]) w.child.kill("SIGTERM");
    await Promise.all([full.exited, healthy.exited]);
  }, 180_000);
});

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as import("node:net").AddressInfo;
      server.close(() => resolve(port));
    });
  });

/** A private redis-server of this file, no persistence: a restart comes back empty. */
function privateRedis(port: number): ChildProcess {
  const child = spawn(
    redisServerBinary,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tempDir()],
    { stdio: "ignore" },
  );
  servers.push(child);
  return child;
}
const redisBinaryFound = await new Promise<boolean>((resolve) => {
  const probe = spawn(redisServerBinary, ["--version"], { stdio: "ignore" });
  probe.on("error", () => resolve(false));
  probe.on("exit", (code) => resolve(code === 0));
});

describe.skipIf(!available || !redisBinaryFound)("Redis restarted without its data (item 3)", () => {
  it("item 3: eval --queue warns that Redis can lose jobs, finds its jobs gone after an empty restart, submits them again, and finishes byte-identical (done jobs come from the registry)", async () => {
    const port = await freePort();
    const redis = `redis://127.0.0.1:${port}`;
    let server = privateRedis(port);
    const prefix = freshPrefix("vanish");
    const env = { CANON_REASON_QUEUE_PREFIX: prefix };
    const local = await localEval(suiteArgs);
    const w = worker([], env, redis);
    await ready(w);
    const out = tempDir();
    const submitted = runCliAsync(
      [
        "eval",
        ...suiteArgs,
        "--queue",
        redis,
        "--registry",
        pgUrl,
        "--artifacts-dir",
        tempDir(),
        "--out",
        out,
      ],
      { env, timeoutMs: 180_000 },
    );
    // Some jobs done, then the worker frozen so the others stay queued, then Redis comes back empty.
    await until("two jobs done", () => w.lines.filter((l) => l.msg === "job done").length >= 2);
    w.child.kill("SIGSTOP");
    server.kill("SIGKILL");
    await new Promise((resolve) => server.once("exit", resolve));
    server = privateRedis(port);
    w.child.kill("SIGCONT");
    const r = await submitted;
    expect(r.status, r.stderr).toBe(0);
    sameOutput(out, local);
    expect(r.stderr).toContain("appendonly no: a restart can lose queued jobs");
    expect(r.stderr).toContain("jobs vanished from the queue");
    // Jobs finished before the restart were not computed again: their record was in the registry.
    expect(w.lines.some((l) => l.msg === "job already done")).toBe(true);
    w.child.kill("SIGTERM");
    await w.exited;
  }, 180_000);
});

describe.skipIf(!available)("a duplicate computation is logged as one (item 4)", () => {
  it("item 4: publishing a job another worker already recorded says so (recorded: false), and publishes nothing twice", async () => {
    const registry = await PgRegistry.connect(pgUrl);
    try {
      const root = tempDir();
      const { runJob } = await import("../../src/app/run/run-job.js");
      const { demoSpec } = await import("../helpers/http.js");
      const produced = await runJob({
        spec: demoSpec("What causes tides?", {
          corpus: DEMO_CORPUS,
        }) as import("../../src/core/models/spec.js").ProblemSpec,
        preset: "default",
        seed: 0,
        artifactsRoot: root,
      });
      const from = { runDir: produced.runDir, storeRoot: root };
      const entry = { run_id: produced.runId, item_id: null, item_version: null };
      const job = { id: `run-${"a".repeat(64)}`, result: { run_id: produced.runId, created: true } };
      expect(await registry.publishJob(entry, from, job)).toEqual({ recorded: true });
      expect(await registry.publishJob(entry, from, job)).toEqual({ recorded: false });
      expect(await registry.jobRecord(job.id)).toEqual({ runId: produced.runId, result: job.result });
      const cache = tempDir();
      expect(await registry.materializeRun(produced.runId, cache)).not.toBeNull();
    } finally {
      await registry.close();
    }
  }, 60_000);

  it("publishing many jobs at once from several processes' registries (runs sharing objects, one job twice each) neither fails nor deadlocks, and records each job once", async () => {
    const { runJob } = await import("../../src/app/run/run-job.js");
    const { demoSpec } = await import("../helpers/http.js");
    const root = tempDir();
    const runs: Array<Awaited<ReturnType<typeof runJob>>> = [];
    for (const question of [
      "What causes tides?",
      "Why is the sky blue?",
      "What is a leap year?",
      "How do plants grow?",
    ])
      runs.push(
        await runJob({
          spec: demoSpec(question, {
            corpus: DEMO_CORPUS,
          }) as import("../../src/core/models/spec.js").ProblemSpec,
          preset: "default",
          seed: 0,
          artifactsRoot: root,
        }),
      );
    // Four "workers", each its own pool and its own memory of present objects.
    const registries = await Promise.all([1, 2, 3, 4].map(() => PgRegistry.connect(pgUrl)));
    try {
      const attempts = registries.flatMap((registry, w) =>
        runs.flatMap((run, r) =>
          [0, 1].map(() =>
            registry.publishJob(
              { run_id: run.runId, item_id: null, item_version: null },
              { runDir: run.runDir, storeRoot: root },
              { id: `case-${String(r).repeat(64)}`, result: { run_id: run.runId, w } },
            ),
          ),
        ),
      );
      const outcomes = await Promise.all(attempts);
      expect(outcomes.filter((o) => o.recorded)).toHaveLength(runs.length);
      for (const run of runs) expect(await registries[0]?.getRun(run.runId)).not.toBeNull();
    } finally {
      await Promise.all(registries.map((r) => r.close()));
    }
  }, 60_000);
});
