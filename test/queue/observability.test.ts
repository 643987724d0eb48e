/**
 * Observability through the queue, over real Redis and PostgreSQL: a queued run's spans are
 * children of the submitting request's span (its context travels in BullMQ's own telemetry
 * carrier, never in the payload the job id hashes); the worker's job log lines carry trace_id,
 * span_id and run_id; `worker --metrics-port` serves Prometheus text that counts the runs and
 * reads the queue's depth; bad or taken ports are exit 2 naming the flag.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:net";
import { Queue } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { RunMetrics } from "../../src/app/ops/prometheus-metrics.js";
import { RUN_SPAN } from "../../src/app/ops/telemetry.js";
import { DEFAULT_BASE_URL } from "../../src/core/reason/llm.js";
import { DEFAULT_ENDPOINT_SETTINGS } from "../../src/io/model/llm-endpoint.js";
import { parseQueueUrl } from "../../src/queue/connection.js";
import { JobQueue, jobIdOf, QUEUE_NAME, type RunJobData } from "../../src/queue/queue.js";
import { startWorker } from "../../src/queue/queue-worker.js";
import { PgRegistry } from "../../src/registry/postgres.js";
import { isCleanError, runCli } from "../helpers/cli.js";
import { call, demoSpec, startServer } from "../helpers/http.js";
import { idOf, parentOf, parsePrometheus, sampleValue, startTracing } from "../helpers/otel.js";
import { needPostgres, needRedis, REDIS_URL, scratchDatabase, testPrefix } from "../helpers/services.js";
import { tempDir } from "../helpers/tmp.js";
import { startWorkerProcess, until } from "../helpers/workers.js";

const TOKEN = "worker-metrics-token-0123456789";

describe("worker --metrics-port and --metrics-host refuse bad values (exit 2, naming the flag)", () => {
  it.each(["abc", "-1", "65536", "", " 80", "1e3", "8080x", "٣"])("--metrics-port %j", (value) => {
    const r = runCli([
      "worker",
      "--queue",
      "redis://127.0.0.1:1",
      "--registry",
      "postgres://root@127.0.0.1:1/none",
      "--metrics-port",
      value,
    ]);
    expect(r.status).toBe(2);
    expect(isCleanError(r)).toBe(true);
    expect(r.stderr).toContain("--metrics-port");
  });
});

const available = (await needPostgres()) && (await needRedis());
const pgUrl = available ? await scratchDatabase("otel") : "";
// Every key this file makes in Redis starts with one of its own prefixes, removed afterwards.
const base = testPrefix("otel");
const prefixes: string[] = [];
const usePrefix = (name: string) => {
  const prefix = `${base}-${name}`;
  prefixes.push(prefix);
  process.env.CANON_REASON_QUEUE_PREFIX = prefix;
  return prefix;
};
afterAll(async () => {
  for (const prefix of prefixes) {
    const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(REDIS_URL), prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }
});

describe.skipIf(!available)("traces, logs and metrics through the queue", () => {
  it("a queued run's spans are children of the submitting request's span; the job log names the trace and the run", async () => {
    usePrefix("traced");
    const tracing = startTracing();
    const lines: Array<Record<string, unknown>> = [];
    const jobs = new JobQueue(parseQueueUrl(REDIS_URL));
    const serviceRegistry = await PgRegistry.connect(pgUrl);
    const server = await startServer({
      registry: serviceRegistry,
      queue: { jobs, registry: serviceRegistry },
    });
    const worker = await startWorker({
      connection: parseQueueUrl(REDIS_URL),
      registry: await PgRegistry.connect(pgUrl),
      artifactsRoot: tempDir(),
      concurrency: 1,
      stallMs: 5000,
      model: { endpoint: DEFAULT_BASE_URL, settings: DEFAULT_ENDPOINT_SETTINGS, maxRps: 0 },
      log: (line) => lines.push(line),
      metrics: new RunMetrics(),
    });
    try {
      const traceId = randomBytes(16).toString("hex");
      const accepted = await call(
        server.url,
        "POST",
        "/v1/runs",
        { spec: demoSpec("Why is the sky blue?") },
        { prefer: "respond-async", traceparent: `00-${traceId}-${"1".repeat(16)}-01` },
      );
      expect(accepted.status).toBe(202);
      const jobId = accepted.json().job_id as string;
      await until("the job is computed", () => lines.some((l) => l.msg === "job computed"));
      await until("the job span ends", () => tracing.spans().some((s) => s.name === `process ${QUEUE_NAME}`));

      // The carrier is in the job's options, not its data: the id is still the payload's hash.
      const job = await jobs.queue.getJob(jobId);
      expect(JSON.parse(job?.opts.telemetry?.metadata ?? "{}").traceparent).toMatch(
        new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`),
      );
      expect(JSON.stringify(job?.data)).not.toContain(traceId);
      expect(jobIdOf(job?.data as RunJobData)).toBe(jobId);

      const spans = tracing.spans();
      const request = spans.find((s) => s.name === "POST /v1/runs");
      const processed = spans.find((s) => s.name === `process ${QUEUE_NAME}`);
      const run = spans.find((s) => s.name === RUN_SPAN);
      expect(request?.spanContext().traceId).toBe(traceId);
      expect(processed?.spanContext().traceId).toBe(traceId);
      expect(processed && parentOf(processed)).toBe(request && idOf(request));
      expect(processed?.attributes).toMatchObject({
        "messaging.system": "bullmq",
        "messaging.operation.type": "process",
        "canon_reason.job.id": jobId,
        "canon_reason.job.kind": "run",
      });
      expect(run && parentOf(run)).toBe(processed && idOf(processed));
      const runId = run?.attributes["canon_reason.run.id"];
      expect(runId).toMatch(/^run_v1_[0-9a-f]+$/);
      expect(processed?.attributes["canon_reason.run.id"]).toBe(runId);
      const computed = lines.find((l) => l.msg === "job computed");
      expect(computed).toMatchObject({
        job_id: jobId,
        run_id: runId,
        trace_id: traceId,
        span_id: processed && idOf(processed),
      });

      // The service's queue gauge reads BullMQ's counts.
      const samples = parsePrometheus((await call(server.url, "GET", "/metrics")).text);
      expect(sampleValue(samples, "canon_reason_queue_jobs", { state: "completed" })).toBeGreaterThanOrEqual(
        1,
      );
      expect(sampleValue(samples, "canon_reason_queue_jobs", { state: "waiting" })).toBe(0);
    } finally {
      await worker.drain();
      await server.close();
      await jobs.close();
      await tracing.stop();
    }
  }, 120_000);

  it("worker --metrics-port: Prometheus text counting the runs, the queue's depth; the token guards it; other requests refused", async () => {
    const prefix = usePrefix("listener");
    const { child, lines, exited } = startWorkerProcess(
      ["--queue", REDIS_URL, "--registry", pgUrl, "--artifacts-dir", tempDir(), "--metrics-port", "0"],
      { CANON_REASON_QUEUE_PREFIX: prefix, CANON_REASON_TOKEN: TOKEN },
    );
    const jobs = new JobQueue(parseQueueUrl(REDIS_URL));
    try {
      await until("the worker is ready", () => lines.some((l) => l.msg === "worker ready"));
      const url = String(lines.find((l) => l.msg === "worker ready")?.metrics_url);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const auth = { authorization: `Bearer ${TOKEN}` };
      const scrape = async () => {
        const r = await fetch(url, { headers: auth });
        expect(r.status).toBe(200);
        expect(r.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
        return parsePrometheus(await r.text());
      };
      expect(sampleValue(await scrape(), "canon_reason_runs_total", { outcome: "answered" }) ?? 0).toBe(0);

      const registry = await PgRegistry.connect(pgUrl);
      const server = await startServer({ registry, queue: { jobs, registry } });
      try {
        const accepted = await call(
          server.url,
          "POST",
          "/v1/runs",
          { spec: demoSpec("What causes tides?") },
          { prefer: "respond-async" },
        );
        expect(accepted.status).toBe(202);
        await jobs.result(accepted.json().job_id);
      } finally {
        await server.close();
      }
      const samples = await scrape();
      const answered = sampleValue(samples, "canon_reason_runs_total", { outcome: "answered" }) ?? 0;
      const insufficient =
        sampleValue(samples, "canon_reason_runs_total", { outcome: "insufficient_evidence" }) ?? 0;
      expect(answered + insufficient).toBe(1);
      expect(sampleValue(samples, "canon_reason_queue_jobs", { state: "completed" })).toBe(1);
      expect(sampleValue(samples, "canon_reason_queue_jobs", { state: "active" })).toBe(0);
      const line = lines.find((l) => l.msg === "job computed");
      expect(line?.run_id).toMatch(/^run_v1_/);
      // No SDK in that process: no trace ids to log, and none invented.
      expect(line?.trace_id).toBeUndefined();

      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: "Bearer not-the-token-000000" } })).status).toBe(
        401,
      );
      expect((await fetch(`${url}?x=1&%ff`, { headers: auth })).status).toBe(200);
      const post = await fetch(url, { method: "POST", headers: auth, body: "x" });
      expect(post.status).toBe(405);
      expect(post.headers.get("allow")).toBe("GET, HEAD");
      expect((await fetch(url.replace("/metrics", "/other"), { headers: auth })).status).toBe(404);
      expect((await fetch(url.replace("/metrics", "/metrics/"), { headers: auth })).status).toBe(404);
      // Readiness (issue 22): no token needed, nothing but ready/not ready; the same refusals.
      const readyz = url.replace("/metrics", "/readyz");
      const ready = await fetch(`${readyz}?probe=%ff`);
      expect(ready.status).toBe(200);
      expect(await ready.text()).toBe("ready\n");
      expect((await fetch(readyz, { method: "HEAD" })).status).toBe(200);
      expect((await fetch(readyz, { method: "DELETE" })).status).toBe(405);
      expect((await fetch(`${readyz}/`)).status).toBe(404);
      expect((await fetch(url.replace("/metrics", "/readyz/../metrics"))).status).toBe(401);
      expect(await (await fetch(url, { headers: auth })).text()).toMatch(/^canon_reason_healthy 1$/m);
    } finally {
      await jobs.close();
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  }, 120_000);

  it("a taken --metrics-port, or a --metrics-host that is not this machine's: exit 2 naming the flag", async () => {
    usePrefix("taken");
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      for (const [flags, flag] of [
        [["--metrics-port", String(port)], "--metrics-port"],
        [["--metrics-port", "0", "--metrics-host", "192.0.2.1"], "--metrics-host"],
      ] as const) {
        const r = runCli([
          "worker",
          "--queue",
          REDIS_URL,
          "--registry",
          pgUrl,
          "--artifacts-dir",
          tempDir(),
          ...flags,
        ]);
        expect(r.status, flags.join(" ")).toBe(2);
        expect(isCleanError(r)).toBe(true);
        expect(r.stderr).toContain(flag);
      }
    } finally {
      taken.close();
    }
  }, 60_000);
});
