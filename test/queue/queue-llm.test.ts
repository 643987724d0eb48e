/**
 * The llm reasoner through the queue, over real Redis and PostgreSQL and real worker processes:
 * each worker is started with its own endpoint (`--model-base-url`) and its own key, and a job
 * carries the base URL without credentials, never a key. A queued llm eval equals a local one
 * byte for byte; a job naming another endpoint fails at once, with the reason in the failed list
 * and a clear message to the submitter; no credential is anywhere in Redis or the registry;
 * `serve --queue` queues llm runs under `Prefer: respond-async`; a 5xx is retried by the job and a
 * 401 fails it at once. The flags' hostile values are refused before any service is asked.
 */
import { readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { Queue } from "bullmq";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseQueueUrl } from "../../src/queue/connection.js";
import { JobQueue, QUEUE_NAME } from "../../src/queue/queue.js";
import { PgRegistry } from "../../src/registry/postgres.js";
import { type ChatRequest, chatServer, fail, passage, reply } from "../helpers/chat-server.js";
import { isCleanError, REPO, runCli, runCliAsync } from "../helpers/cli.js";
import { call, demoSpec, startServer } from "../helpers/http.js";
import { needPostgres, needRedis, REDIS_URL, scratchDatabase, testPrefix } from "../helpers/services.js";
import { tempDir } from "../helpers/tmp.js";
import { startWorkerProcess, until, type WorkerProcess } from "../helpers/workers.js";

const SUITE = join(REPO, "demo", "suite");
const available = (await needPostgres()) && (await needRedis());
const pgUrl = available ? await scratchDatabase("queue_llm") : "";
const prefix = testPrefix("llm");
process.env.CANON_REASON_QUEUE_PREFIX = prefix;
// This process (the service under test, the submitter) holds no key: only the workers do.
delete process.env.CANON_REASON_LLM_API_KEY;
delete process.env.OPENAI_API_KEY;
const noKey = { CANON_REASON_LLM_API_KEY: "", OPENAI_API_KEY: "" };

/** Secrets that must never reach Redis or the registry. */
const WORKER_KEY = "sk-worker-key-7f3a9c";
const SUBMITTER_PASSWORD = "alice-pw-51d2";
const SERVICE_PASSWORD = "serve-pw-e08b";

/** A model that quotes the first eight words of the top passage. */
const quoteTop = reply((request) => {
  const quote = passage(request, 1).split(/\s+/).slice(0, 8).join(" ");
  return JSON.stringify({
    claims: [{ statement: `It says: ${quote}`, citations: [{ evidence: 1, quote }] }],
  });
});
/** What the endpoint does next: answer, or fail the next request(s) of a question with a status. */
const failing = new Map<string, number>();
const questionOf = (request: ChatRequest) =>
  /^Question: (.*)$/m.exec(request.body.messages?.find((m) => m.role === "user")?.content ?? "")?.[1] ?? "";
const scripted = (request: ChatRequest, res: ServerResponse) => {
  const status = failing.get(questionOf(request));
  if (status === undefined) return quoteTop(request, res);
  if (status >= 500) failing.delete(questionOf(request));
  return fail(status)(request, res);
};

interface RedisReads {
  scan(cursor: string, ...args: Array<string | number>): Promise<[string, string[]]>;
  type(key: string): Promise<string>;
  hgetall(key: string): Promise<Record<string, string>>;
  lrange(key: string, start: number, stop: number): Promise<string[]>;
  smembers(key: string): Promise<string[]>;
  zrange(key: string, start: number, stop: number): Promise<string[]>;
  xrange(key: string, start: string, end: string): Promise<unknown[]>;
  get(key: string): Promise<string | null>;
}

describe("worker and eval --queue: the llm flags", () => {
  // Nothing listens on port 1: every refusal below comes before either service is asked.
  const services = ["--queue", "redis://127.0.0.1:1", "--registry", "postgres://u@127.0.0.1:1/db"];

  it("worker refuses hostile --model-base-url and --max-rps values (exit 2, naming the flag)", () => {
    for (const [flag, value] of [
      ["--model-base-url", "http://127.0.0.1:8080/v1?api-version=1"],
      ["--model-base-url", "http://127.0.0.1:8080/v1#x"],
      ["--model-base-url", "ftp://127.0.0.1/v1"],
      ["--model-base-url", "file:///etc/passwd"],
      ["--model-base-url", "127.0.0.1:8080/v1"],
      ["--model-base-url", ""],
      ["--model-base-url", "http://127.0.0.1/v1\t"],
      ["--model-base-url", `http://127.0.0.1/${"v".repeat(5000)}`],
      ["--max-rps", "0"],
      ["--max-rps", "-1"],
      ["--max-rps", "NaN"],
      ["--max-rps", "Infinity"],
      ["--max-rps", "fast"],
      ["--max-rps", ""],
      ["--max-rps", "10001"],
      ["--model-timeout", "0"],
      ["--model-retries", "-1"],
    ] as const) {
      const r = runCli(["worker", ...services, "--artifacts-dir", tempDir(), flag, value]);
      expect(r.status, `${flag} ${value.slice(0, 60)}`).toBe(2);
      expect(r.stderr, `${flag} ${value.slice(0, 60)}`).toContain(`field "${flag}"`);
      expect(isCleanError(r)).toBe(true);
      expect(r.stderr.length).toBeLessThan(1000);
    }
  });

  it("worker refuses user:password in --model-base-url beside a key in its environment (exit 2)", () => {
    const r = runCli(
      [
        "worker",
        ...services,
        "--artifacts-dir",
        tempDir(),
        "--model-base-url",
        "http://u:p@127.0.0.1:8080/v1",
      ],
      { env: { CANON_REASON_LLM_API_KEY: "sk-test" } },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('field "--model-base-url": give either an API key');
    expect(isCleanError(r)).toBe(true);
  });

  it("eval --queue refuses --max-rps, --model-timeout, --model-retries and --workers: the workers have their own", () => {
    for (const [flag, value] of [
      ["--max-rps", "5"],
      ["--max-rps", "0"],
      ["--model-timeout", "1000"],
      ["--model-retries", "1"],
    ] as const) {
      const r = runCli([
        "eval",
        "--suite",
        SUITE,
        ...services,
        "--reasoner",
        "llm",
        "--model",
        "m",
        "--artifacts-dir",
        tempDir(),
        flag,
        value,
      ]);
      expect(r.status, flag).toBe(2);
      expect(r.stderr, flag).toContain(`field "${flag}": ${flag} does not apply with --queue`);
      expect(r.stderr, flag).toContain(`(worker ${flag})`);
      expect(isCleanError(r)).toBe(true);
    }
    // The queue's workers decide the parallelism: --workers would be silently ignored.
    const withWorkers = runCli([
      "eval",
      "--suite",
      SUITE,
      ...services,
      "--artifacts-dir",
      tempDir(),
      "--workers",
      "2",
    ]);
    expect(withWorkers.status).toBe(2);
    expect(withWorkers.stderr).toContain('field "--workers": --workers does not apply with --queue');
    expect(isCleanError(withWorkers)).toBe(true);
  });
});

describe.skipIf(!available)("llm runs and evals through the queue", () => {
  const workers: WorkerProcess[] = [];
  let endpoint: Awaited<ReturnType<typeof chatServer>>;
  const withPassword = (base: string, user: string, password: string) =>
    base.replace("http://", `http://${user}:${password}@`);

  beforeAll(async () => {
    endpoint = await chatServer([scripted]);
    for (let n = 0; n < 2; n++)
      workers.push(
        startWorkerProcess(
          [
            "--queue",
            REDIS_URL,
            "--registry",
            pgUrl,
            "--artifacts-dir",
            tempDir(),
            "--stall-ms",
            "5000",
            "--model-base-url",
            endpoint.baseUrl,
            // One attempt per job: a 5xx fails the attempt, and the job's retry asks again.
            "--model-retries",
            "0",
            "--max-rps",
            "1000",
          ],
          { CANON_REASON_QUEUE_PREFIX: prefix, CANON_REASON_LLM_API_KEY: WORKER_KEY },
        ),
      );
    await until("workers ready", () => workers.every((w) => w.lines.some((l) => l.msg === "worker ready")));
  });

  afterAll(async () => {
    for (const w of workers) w.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(REDIS_URL), prefix });
    await queue.obliterate({ force: true });
    await queue.close();
    await endpoint?.close();
  });

  const evalArgs = (baseUrl: string, out: string, extra: string[] = []) => [
    "eval",
    "--suite",
    SUITE,
    "--limit",
    "6",
    "--reasoner",
    "llm",
    "--model",
    "test-model",
    "--base-url",
    baseUrl,
    "--artifacts-dir",
    tempDir(),
    "--out",
    out,
    ...extra,
  ];

  it("a queued llm eval equals a local one byte for byte; workers call with their own key", async () => {
    const local = tempDir();
    const queued = tempDir();
    const alone = await runCliAsync(evalArgs(endpoint.baseUrl, local), {
      env: { CANON_REASON_LLM_API_KEY: "sk-local-eval" },
      timeoutMs: 120_000,
    });
    expect(alone.status, alone.stderr).toBe(0);
    const before = endpoint.requests.length;
    // The submitter names the endpoint with a password it may hold; the job must not carry it.
    const viaQueue = await runCliAsync(
      evalArgs(withPassword(endpoint.baseUrl, "alice", SUBMITTER_PASSWORD), queued, [
        "--queue",
        REDIS_URL,
        "--registry",
        pgUrl,
      ]),
      { env: { ...noKey, CANON_REASON_QUEUE_PREFIX: prefix }, timeoutMs: 120_000 },
    );
    expect(viaQueue.status, viaQueue.stderr).toBe(0);
    expect(readFileSync(join(queued, "cases.jsonl"))).toEqual(readFileSync(join(local, "cases.jsonl")));
    expect(readFileSync(join(queued, "summary.json"))).toEqual(readFileSync(join(local, "summary.json")));
    expect(
      JSON.parse(readFileSync(join(queued, "summary.json"), "utf8")).metrics.verification_pass_rate.mean,
    ).toBe(1);
    const fromWorkers = endpoint.requests.slice(before);
    expect(fromWorkers.length).toBeGreaterThan(0);
    for (const request of fromWorkers) expect(request.headers.authorization).toBe(`Bearer ${WORKER_KEY}`);
  }, 180_000);

  it("issue 21 item 12: a case whose request the endpoint rejects fails alone through the queue too, as in a local eval", async () => {
    // The second case's request is rejected as its own fault (context length); the others answer.
    const rejected = "How is a trick won in contract bridge?";
    failing.set(rejected, 413);
    try {
      const local = tempDir();
      const queued = tempDir();
      const limit = ["--limit", "3"];
      // Another model name: jobs the other tests finished (same ids) are not reused here.
      const args = (out: string, extra: string[]) =>
        evalArgs(endpoint.baseUrl, out, [...limit, ...extra]).map((a) =>
          a === "test-model" ? "rejecting-model" : a,
        );
      const alone = await runCliAsync(args(local, []), {
        env: { CANON_REASON_LLM_API_KEY: "sk-local-eval" },
        timeoutMs: 120_000,
      });
      expect(alone.status, alone.stderr).toBe(0);
      const viaQueue = await runCliAsync(args(queued, ["--queue", REDIS_URL, "--registry", pgUrl]), {
        env: { ...noKey, CANON_REASON_QUEUE_PREFIX: prefix },
        timeoutMs: 120_000,
      });
      expect(viaQueue.status, viaQueue.stderr).toBe(0);
      expect(viaQueue.stderr).toMatch(/case q02 failed: model endpoint .* \(HTTP 413\)/);
      const summary = JSON.parse(readFileSync(join(queued, "summary.json"), "utf8"));
      expect(summary.failed_cases).toBe(1);
      expect(summary.cases).toBe(3);
      expect(readFileSync(join(queued, "cases.jsonl"))).toEqual(readFileSync(join(local, "cases.jsonl")));
      expect(readFileSync(join(queued, "summary.json"))).toEqual(readFileSync(join(local, "summary.json")));
    } finally {
      failing.delete(rejected);
    }
  }, 180_000);

  it("a job naming another endpoint fails at once: the reason in the failed list, a clear message to the submitter", async () => {
    const before = endpoint.requests.length;
    const elsewhere = "http://127.0.0.1:1/v1";
    const r = await runCliAsync(
      evalArgs(elsewhere, tempDir(), ["--limit", "2", "--queue", REDIS_URL, "--registry", pgUrl]),
      { env: { ...noKey, CANON_REASON_QUEUE_PREFIX: prefix }, timeoutMs: 120_000 },
    );
    expect(r.status, r.stderr).toBe(2);
    expect(isCleanError(r)).toBe(true);
    expect(r.stderr).toContain("error[E_MODEL_ENDPOINT]");
    expect(r.stderr).toContain(
      `the run's model endpoint ${elsewhere} is not this worker's (${endpoint.baseUrl}`,
    );
    expect(endpoint.requests.length).toBe(before);
    const queue = new JobQueue(parseQueueUrl(REDIS_URL));
    try {
      const failed = (await queue.queue.getFailed()).filter((job) =>
        job.failedReason?.includes(`model endpoint ${elsewhere} is not this worker's`),
      );
      expect(failed.length).toBeGreaterThan(0);
      for (const job of failed) {
        expect(job.failedReason).toMatch(/^E_MODEL_ENDPOINT: /);
        // Not retried: the mismatch ends the job the first time. (Counted from the workers' log,
        // not attemptsMade: on a loaded machine an attempt may fail before, e.g. a lost lock.)
        const mismatches = () =>
          workers
            .flatMap((w) => w.lines)
            .filter((l) => l.job_id === job.id && String(l.reason).includes("is not this worker's"));
        await until("the worker logged the failure", () => mismatches().length > 0);
        expect(mismatches().map((l) => l.msg)).toEqual(["job failed (dead-letter list)"]);
      }
    } finally {
      await queue.close();
    }
  }, 180_000);

  it("serve --queue: an llm run under Prefer: respond-async is 202 and a job a worker finishes", async () => {
    const jobs = new JobQueue(parseQueueUrl(REDIS_URL));
    const registry = await PgRegistry.connect(pgUrl);
    // The operator's URL carries a password: it authenticates the service's own calls only.
    const server = await startServer({
      registry,
      queue: { jobs, registry },
      modelBaseUrl: withPassword(endpoint.baseUrl, "bob", SERVICE_PASSWORD),
    });
    const poll = async (location: string) => {
      let state: Record<string, unknown> = {};
      await until("the job finished", async () => {
        state = (await call(server.url, "GET", location)).json();
        return state.state === "completed" || state.state === "failed";
      });
      // Read once more: the route reads the job before its state, so the poll that first saw
      // the end may hold the job as it was just before.
      return (await call(server.url, "GET", location)).json();
    };
    const submit = (question: string) =>
      call(
        server.url,
        "POST",
        "/v1/runs",
        { spec: demoSpec(question, { reasoner: "llm", model: "test-model" }) },
        { prefer: "respond-async" },
      );
    const asked = (question: string) => endpoint.requests.filter((r) => questionOf(r) === question).length;
    try {
      const question = "How is a trick won in contract bridge?";
      const accepted = await submit(question);
      expect(accepted.status).toBe(202);
      expect(accepted.headers.get("preference-applied")).toBe("respond-async");
      const done = await poll(accepted.headers.get("location") as string);
      expect(done).toMatchObject({ state: "completed", failed_reason: null });
      const runId = done.run_id as string;
      expect((await call(server.url, "POST", `/v1/runs/${runId}/verify`, {})).json().passed).toBe(true);
      // The service answers the same spec synchronously with the same run: the endpoint's
      // credentials are not part of the run id, wherever the call is made.
      const sync = await call(server.url, "POST", "/v1/runs", {
        spec: demoSpec(question, { reasoner: "llm", model: "test-model" }),
      });
      expect(sync.json().run_id).toBe(runId);
      expect(endpoint.requests.at(-1)?.headers.authorization).toBe(
        `Basic ${Buffer.from(`bob:${SERVICE_PASSWORD}`).toString("base64")}`,
      );

      // A 5xx fails the attempt (the worker has no retries of its own): the job asks again.
      const flaky = "Who coined the word cell after looking at cork under a microscope?";
      failing.set(flaky, 503);
      const flakyBefore = asked(flaky);
      const retried = await poll((await submit(flaky)).headers.get("location") as string);
      expect(retried).toMatchObject({ state: "completed" });
      expect(asked(flaky) - flakyBefore).toBe(2);

      // A 401 is bad input: the job fails at once, with the reason, and is not asked again.
      const refused = "When did the Golden Gate Bridge open?";
      failing.set(refused, 401);
      const askedBefore = asked(refused);
      const failed = await poll((await submit(refused)).headers.get("location") as string);
      expect(failed.state).toBe("failed");
      expect(failed.failed_reason).toMatch(
        /^E_MODEL_ENDPOINT: model endpoint .* refused the credentials \(HTTP 401\)/,
      );
      expect(asked(refused) - askedBefore).toBe(1);
    } finally {
      failing.clear();
      await server.close();
      await jobs.close();
    }
  }, 180_000);

  it("no key or credential is anywhere in Redis or the registry", async () => {
    const secrets = [WORKER_KEY, SUBMITTER_PASSWORD, SERVICE_PASSWORD, "alice:", "bob:"];
    // Every key under this file's prefix, whatever its type.
    const queue = new JobQueue(parseQueueUrl(REDIS_URL));
    let redisText = "";
    try {
      // BullMQ's client is ioredis; these are the reads the scan needs.
      const client = (await queue.queue.client) as unknown as RedisReads;
      let cursor = "0";
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
        cursor = next;
        for (const key of keys) {
          const type = await client.type(key);
          const value =
            type === "hash"
              ? await client.hgetall(key)
              : type === "list"
                ? await client.lrange(key, 0, -1)
                : type === "set"
                  ? await client.smembers(key)
                  : type === "zset"
                    ? await client.zrange(key, 0, -1)
                    : type === "stream"
                      ? await client.xrange(key, "-", "+")
                      : type === "string"
                        ? await client.get(key)
                        : type;
          redisText += `${key} ${JSON.stringify(value)}\n`;
        }
      } while (cursor !== "0");
    } finally {
      await queue.close();
    }
    // Not vacuous: the job data is there, with the base URL as the runs record it.
    expect(redisText).toContain(endpoint.baseUrl);
    expect(redisText).toContain("test-model");

    const db = new pg.Client({ connectionString: pgUrl });
    await db.connect();
    let registryText = "";
    try {
      const tables = await db.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
      for (const { table_name } of tables.rows) {
        const rows = await db.query(`SELECT * FROM "${table_name}"`);
        for (const row of rows.rows)
          for (const value of Object.values(row))
            registryText += Buffer.isBuffer(value) ? value.toString("latin1") : JSON.stringify(value);
      }
    } finally {
      await db.end();
    }
    expect(registryText).toContain(endpoint.baseUrl);
    for (const secret of secrets) {
      expect(redisText, secret).not.toContain(secret);
      expect(registryText, secret).not.toContain(secret);
    }
  });
});
