/**
 * Issue 22, the fault scenarios not covered elsewhere (worker-faults.test.ts: a worker's own disk
 * and model endpoint, Redis restarted empty; queue.test.ts: a worker SIGKILLed; reconnect.test.ts:
 * PostgreSQL and Redis going away): a worker frozen (SIGSTOP) with jobs in hand, and the
 * submitting eval killed mid-way and started again. Real worker processes on the machine's
 * shared PostgreSQL and Redis (a scratch database, a key prefix of this file), never restarted.
 * Each ends with cases.jsonl and summary.json byte-identical to a local eval, every job completed
 * once and none failed.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { parseQueueUrl } from "../../src/queue/connection.js";
import { QUEUE_NAME } from "../../src/queue/queue.js";
import { CLI, REPO, runCliAsync } from "../helpers/cli.js";
import { needPostgres, needRedis, REDIS_URL, scratchDatabase } from "../helpers/services.js";
import { tempDir } from "../helpers/tmp.js";
import { startWorkerProcess, until, type WorkerProcess } from "../helpers/workers.js";

const SUITE = join(REPO, "demo", "suite");
const CASES = 10;
const available = (await needPostgres()) && (await needRedis());
const pgUrl = available ? await scratchDatabase("fleet_faults") : "";

const prefixes: string[] = [];
const running: WorkerProcess[] = [];
afterAll(async () => {
  for (const w of running) {
    w.child.kill("SIGCONT");
    w.child.kill("SIGKILL");
  }
  await Promise.all(running.map((w) => w.exited));
  if (!available) return;
  for (const prefix of prefixes) {
    const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(REDIS_URL), prefix });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
});

const freshPrefix = (label: string) => {
  const prefix = `cr-test-fleet-${label}-${process.pid}-${randomBytes(4).toString("hex")}`;
  prefixes.push(prefix);
  return prefix;
};
const worker = (env: Record<string, string>, stallMs = "5000") => {
  const w = startWorkerProcess(
    ["--queue", REDIS_URL, "--registry", pgUrl, "--artifacts-dir", tempDir(), "--stall-ms", stallMs],
    env,
  );
  running.push(w);
  return w;
};
const ready = (w: WorkerProcess) =>
  until("worker ready", () => w.lines.some((l) => l.msg === "worker ready"));
const count = (w: WorkerProcess, msg: string) => w.lines.filter((l) => l.msg === msg).length;

/**
 * Arguments of a scenario's eval (local or queued). Each scenario has its own --top-k: its own
 * jobs and runs, so none finds another's recorded in the shared registry.
 */
const evalArgs = (topK: number, extra: string[]) => [
  "eval",
  "--suite",
  SUITE,
  "--limit",
  String(CASES),
  "--top-k",
  String(topK),
  ...extra,
];
const queued = (topK: number, out: string) =>
  evalArgs(topK, ["--queue", REDIS_URL, "--registry", pgUrl, "--artifacts-dir", tempDir(), "--out", out]);

/** The local eval's output folder. */
async function local(topK: number): Promise<string> {
  const out = tempDir();
  const r = await runCliAsync(evalArgs(topK, ["--artifacts-dir", tempDir(), "--out", out]), {
    timeoutMs: 180_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return out;
}
const sameOutput = (a: string, b: string) => {
  for (const file of ["cases.jsonl", "summary.json"])
    expect(readFileSync(join(a, file)).equals(readFileSync(join(b, file))), file).toBe(true);
};

/** Every job of the prefix completed, none failed. */
async function allCompleted(prefix: string) {
  const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(REDIS_URL), prefix });
  try {
    expect(await queue.getJobCountByTypes("failed")).toBe(0);
    expect(await queue.getJobCountByTypes("completed")).toBe(CASES);
  } finally {
    await queue.close();
  }
}

describe.skipIf(!available)("a frozen worker and a killed submitter", () => {
  it("a worker SIGSTOPped with jobs in hand: another takes them over after the stall bound, the frozen one resumed changes nothing, byte-identical to a local eval", async () => {
    const prefix = freshPrefix("sigstop");
    const env = { CANON_REASON_QUEUE_PREFIX: prefix };
    const expected = await local(6);
    const frozen = worker(env, "3000");
    await ready(frozen);
    const out = tempDir();
    const submitted = runCliAsync(queued(6, out), { env, timeoutMs: 180_000 });
    // Busy: it has computed a job, and holds the next ones (a worker holds two per --concurrency).
    await until("the worker computed a job", () => count(frozen, "job computed") >= 1);
    frozen.child.kill("SIGSTOP");
    const taker = worker(env, "3000");
    const r = await submitted;
    expect(r.status, r.stderr).toBe(0);
    sameOutput(out, expected);
    frozen.child.kill("SIGCONT");
    // Resumed, it finds its locks gone: whatever it finishes now is not completed twice.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await allCompleted(prefix);
    const doneIds = [...frozen.lines, ...taker.lines]
      .filter((l) => l.msg === "job done")
      .map((l) => l.job_id);
    expect(new Set(doneIds).size).toBe(CASES);
    expect(doneIds).toHaveLength(CASES);
    for (const w of [frozen, taker]) w.child.kill("SIGTERM");
    await Promise.all([frozen.exited, taker.exited]);
  }, 240_000);

  it("the submitter SIGKILLed mid-eval and started again: the same jobs finish, none is computed twice, byte-identical to a local eval", async () => {
    const prefix = freshPrefix("submitter");
    const env = { CANON_REASON_QUEUE_PREFIX: prefix };
    const expected = await local(5);
    const w = worker(env);
    await ready(w);
    const first = spawn(process.execPath, [CLI, ...queued(5, tempDir())], {
      env: { ...process.env, ...env },
      stdio: "ignore",
    });
    const firstExited = new Promise((resolve) => first.once("exit", resolve));
    await until("two jobs done", () => count(w, "job done") >= 2);
    first.kill("SIGKILL");
    await firstExited;
    const out = tempDir();
    const r = await runCliAsync(queued(5, out), { env, timeoutMs: 180_000 });
    expect(r.status, r.stderr).toBe(0);
    sameOutput(out, expected);
    await allCompleted(prefix);
    // Jobs are named by what they compute: the second submission found the first one's jobs.
    expect(count(w, "job computed")).toBe(CASES);
    w.child.kill("SIGTERM");
    await w.exited;
  }, 240_000);
});
