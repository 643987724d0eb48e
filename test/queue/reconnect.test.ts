/**
 * PostgreSQL restarted -> processes reconnect; Redis away and back -> a worker carries on. The
 * shared servers are never restarted (other sessions use them): a TCP proxy in this process
 * stands between the client and the server and does to the client what a restart does — every
 * connection dropped, new ones refused for a few seconds, then accepted again.
 */
import type { ChildProcess } from "node:child_process";
import { Queue } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { CanonError } from "../../src/core/errors.js";
import type { ProblemSpec } from "../../src/core/models/spec.js";
import { parseQueueUrl } from "../../src/queue/connection.js";
import { JobQueue, QUEUE_NAME } from "../../src/queue/queue.js";
import { PgRegistry } from "../../src/registry/postgres.js";
import { call, demoSpec, startServer } from "../helpers/http.js";
import { needPostgres, needRedis, REDIS_URL, scratchDatabase, testPrefix } from "../helpers/services.js";
import { type TcpProxy, tcpProxy } from "../helpers/tcp-proxy.js";
import { tempDir } from "../helpers/tmp.js";
import { startWorkerProcess } from "../helpers/workers.js";

const available = (await needPostgres()) && (await needRedis());
const pgUrl = available ? await scratchDatabase("reconnect") : "";
const prefix = testPrefix("reconnect");
process.env.CANON_REASON_QUEUE_PREFIX = prefix;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The same URL with its port replaced by the proxy's. */
const through = (url: string, proxy: TcpProxy) => {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(proxy.port);
  return u.toString();
};
const proxyFor = (url: string) => {
  const u = new URL(url);
  return tcpProxy(u.hostname, Number(u.port || (u.protocol === "redis:" ? 6379 : 5432)));
};
const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (error) {
    return error instanceof CanonError ? { code: error.code, exit: error.exitCode } : error;
  }
  return "no error";
};

const proxies: TcpProxy[] = [];
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
});

describe.skipIf(!available)("PostgreSQL restarted (as a client sees it)", () => {
  it("the registry reconnects: an operation in flight fails as unavailable, none crashes the process, the next one succeeds", async () => {
    const proxy = await proxyFor(pgUrl);
    proxies.push(proxy);
    const registry = await PgRegistry.connect(through(pgUrl, proxy));
    const spec = demoSpec() as ProblemSpec;
    try {
      await registry.createItem("before", spec);
      // A transaction whose BEGIN is in flight when the server goes: its connection is checked
      // out of the pool, where the pool does not listen for its "error" event.
      proxy.stall();
      const inFlight = codeOf(registry.createItem("in flight", spec));
      const idle = codeOf(registry.listRuns({ limit: 1 }));
      await sleep(300);
      await proxy.cut();
      expect(await inFlight).toEqual({ code: "E_REGISTRY_UNAVAILABLE", exit: 3 });
      expect(await idle).toEqual({ code: "E_REGISTRY_UNAVAILABLE", exit: 3 });
      // Refused while "restarting": each call says so at once.
      expect(await codeOf(registry.listItems({ limit: 10 }))).toEqual({
        code: "E_REGISTRY_UNAVAILABLE",
        exit: 3,
      });
      expect(await registry.waitUntilAvailable(300)).toBe(false);
      await sleep(1500);
      await proxy.restore();
      expect(await registry.waitUntilAvailable(10_000)).toBe(true);
      const names = (await registry.listItems({ limit: 10 })).entries.map((i) => i.name);
      expect(names).toContain("before");
      expect(names).not.toContain("in flight");
      await registry.createItem("after", spec);
    } finally {
      await registry.close();
    }
  });

  it("serve --registry answers 503 problem documents while PostgreSQL is away, then 200 again", async () => {
    const proxy = await proxyFor(pgUrl);
    proxies.push(proxy);
    const server = await startServer({ registry: await PgRegistry.connect(through(pgUrl, proxy)) });
    try {
      expect((await call(server.url, "GET", "/v1/runs")).status).toBe(200);
      await proxy.cut();
      for (const path of ["/v1/runs", "/v1/items", `/v1/runs/run_v1_${"a".repeat(64)}`]) {
        const away = await call(server.url, "GET", path);
        expect(away.status, path).toBe(503);
        expect(away.type).toMatch(/^application\/problem\+json/);
        expect(away.json()).toMatchObject({ code: "E_REGISTRY_UNAVAILABLE", status: 503 });
      }
      await sleep(2000);
      await proxy.restore();
      expect((await call(server.url, "GET", "/v1/runs")).status).toBe(200);
      const created = await call(server.url, "POST", "/v1/items", { name: "after", spec: demoSpec() });
      expect(created.status).toBe(201);
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(!available)("a worker whose PostgreSQL and Redis go away and come back", () => {
  let worker: ChildProcess | undefined;
  afterAll(async () => {
    worker?.kill("SIGKILL");
    if (worker !== undefined && worker.exitCode === null)
      await new Promise((resolve) => worker?.on("exit", resolve));
    const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(REDIS_URL), prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it("carries on: a job submitted while PostgreSQL is away is retried once it is back, and Redis's return is picked up", async () => {
    const pgProxy = await proxyFor(pgUrl);
    const redisProxy = await proxyFor(REDIS_URL);
    proxies.push(pgProxy, redisProxy);
    const started = startWorkerProcess(
      [
        "--queue",
        through(REDIS_URL, redisProxy),
        "--registry",
        through(pgUrl, pgProxy),
        "--artifacts-dir",
        tempDir(),
        "--stall-ms",
        "5000",
      ],
      { CANON_REASON_QUEUE_PREFIX: prefix },
    );
    worker = started.child;
    const { child, lines } = started;
    // The service submitting the jobs talks to the servers directly.
    const jobs = new JobQueue(parseQueueUrl(REDIS_URL));
    const server = await startServer({
      registry: await PgRegistry.connect(pgUrl),
      queue: { jobs, registry: await PgRegistry.connect(pgUrl) },
    });
    const submitted = async (question: string) => {
      const accepted = await call(
        server.url,
        "POST",
        "/v1/runs",
        { spec: demoSpec(question) },
        { prefer: "respond-async" },
      );
      expect(accepted.status).toBe(202);
      return accepted.headers.get("location") as string;
    };
    const finished = async (location: string) => {
      let status = await call(server.url, "GET", location);
      for (let i = 0; i < 600 && !["completed", "failed"].includes(status.json().state); i++) {
        await sleep(100);
        status = await call(server.url, "GET", location);
      }
      return status.json();
    };
    try {
      expect(await finished(await submitted("What causes tides?"))).toMatchObject({ state: "completed" });

      // PostgreSQL "restarts" with the worker's connections open; a job arrives meanwhile.
      await pgProxy.cut();
      const during = await submitted("Why is the sky blue?");
      await sleep(3000);
      expect(child.exitCode).toBeNull();
      await pgProxy.restore();
      const done = await finished(during);
      expect(done, started.stderr()).toMatchObject({ state: "completed", failed_reason: null });
      expect(lines.some((l) => l.msg === "job failed (will retry)")).toBe(true);
      expect(lines.some((l) => l.msg === "job failed (dead-letter list)")).toBe(false);
      const run = await call(server.url, "GET", `/v1/runs/${done.run_id}`);
      expect(run.status).toBe(200);

      // Redis goes away and comes back: the worker reconnects and takes the next job.
      await redisProxy.cut();
      await sleep(3000);
      expect(child.exitCode).toBeNull();
      await redisProxy.restore();
      expect(await finished(await submitted("How is a trick won in contract bridge?"))).toMatchObject({
        state: "completed",
      });
      expect(child.exitCode).toBeNull();
      expect(started.stderr()).toBe("");
    } finally {
      await server.close();
      await jobs.close();
    }
  }, 120_000);
});
