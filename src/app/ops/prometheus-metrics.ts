/**
 * Prometheus metrics of a long-running process (`serve`, `worker`), through prom-client: runs
 * by outcome, failures by error code, run durations, and the queue's depth read from BullMQ's
 * job counts when the process has a queue. Loaded only by serve and worker (never by `run`).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { errorCodeOf, InputError } from "../../core/errors.js";
import { errnoInWords } from "../../io/fs/fs-errors.js";
import { bearerOf, tokenDigest, tokenMatches } from "./bearer-token.js";

/** What the queue gauge reads: BullMQ's `getJobCounts` for these states. */
export const QUEUE_STATES = ["waiting", "active", "delayed", "failed", "completed"] as const;
export type QueueState = (typeof QUEUE_STATES)[number];
export type QueueCounts = (states: QueueState[]) => Promise<Record<string, number>>;

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export class RunMetrics {
  readonly registry = new Registry();
  private readonly runs: Counter<"outcome">;
  private readonly failures: Counter<"code">;
  private readonly durations: Histogram<"outcome">;

  /** Why this process cannot take work now (a worker's own disk or endpoint), or null when it can. */
  private unhealthy: string | null = null;

  constructor(queueCounts?: QueueCounts) {
    collectDefaultMetrics({ register: this.registry });
    const health = this;
    new Gauge({
      name: "canon_reason_healthy",
      help: "1 while this process can take work; 0 while a fault of its own (its disk, its model endpoint) holds it back.",
      registers: [this.registry],
      collect() {
        this.set(health.unhealthy === null ? 1 : 0);
      },
    });
    this.runs = new Counter({
      name: "canon_reason_runs_total",
      help: "Runs finished, by outcome (answered, insufficient_evidence, failed; rejected: refused as the client's error, 4xx).",
      labelNames: ["outcome"],
      registers: [this.registry],
    });
    this.failures = new Counter({
      name: "canon_reason_run_failures_total",
      help: "Runs that failed or were rejected, by error code (internal: an error without a code, a bug).",
      labelNames: ["code"],
      registers: [this.registry],
    });
    this.durations = new Histogram({
      name: "canon_reason_run_duration_seconds",
      help: "Wall-clock time of a run (or a queued job), by outcome.",
      labelNames: ["outcome"],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [this.registry],
    });
    if (queueCounts !== undefined)
      new Gauge({
        name: "canon_reason_queue_jobs",
        help: "Jobs in the queue by state, read from BullMQ at each scrape (absent while Redis does not answer).",
        labelNames: ["state"],
        registers: [this.registry],
        async collect() {
          this.reset();
          const counts = await queueCounts([...QUEUE_STATES]).catch(() => null);
          if (counts === null) return;
          for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
        },
      });
  }

  /** Times `fn` as one run: its outcome is the status it returns, or `failed` with the error's code. */
  async timeRun<T>(fn: () => Promise<T>, outcomeOf: (value: T) => string): Promise<T> {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const value = await fn();
      this.record(outcomeOf(value), seconds());
      return value;
    } catch (error) {
      this.recordFailure(errorCodeOf(error), seconds());
      throw error;
    }
  }

  record(outcome: string, seconds: number): void {
    this.runs.inc({ outcome });
    this.durations.observe({ outcome }, seconds);
  }

  /** A run that did not happen: `failed` (the server's error) or `rejected` (the client's, a 4xx). */
  recordFailure(code: string, seconds: number, outcome: "failed" | "rejected" = "failed"): void {
    this.record(outcome, seconds);
    this.failures.inc({ code });
  }

  /** Marks the process unhealthy (with the reason, for the readiness answer) or healthy again (null). */
  setUnhealthy(reason: string | null): void {
    this.unhealthy = reason;
  }

  /** Null when the process can take work; otherwise why not. */
  get notReady(): string | null {
    return this.unhealthy;
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/**
 * `worker --metrics-port`: a small HTTP listener that answers `GET /metrics` (a query string is
 * ignored, as Prometheus sends none) and `GET /readyz` (200 ready, 503 while a fault of the
 * worker's own holds it back; no token needed) and nothing else: another method on it is 405, another
 * path 404. With a token set (CANON_REASON_TOKEN), the scrape must carry it as a bearer token,
 * as on `serve`. A port that cannot be bound is bad input naming the flag.
 */
export function listenMetrics(
  metrics: RunMetrics,
  options: { host: string; port: number; token?: string | undefined },
): Promise<MetricsListener> {
  const expected = options.token === undefined ? null : tokenDigest(options.token);
  const server = createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0];
    const plain = (status: number, text: string, headers: Record<string, string> = {}) => {
      response
        .writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers })
        .end(`${text}\n`);
    };
    if (path !== "/metrics" && path !== "/readyz")
      return plain(404, "not found: this listener serves GET /metrics and GET /readyz only");
    if (request.method !== "GET" && request.method !== "HEAD")
      return plain(405, "method not allowed", { allow: "GET, HEAD" });
    // Readiness carries no data worth a token: a probe (Kubernetes, a load balancer) sends none.
    if (path === "/readyz") {
      const why = metrics.notReady;
      return why === null ? plain(200, "ready") : plain(503, `not ready: ${why}`);
    }
    if (expected !== null) {
      const bearer = bearerOf(request.headers.authorization);
      if (bearer === null || !tokenMatches(bearer, expected))
        return plain(401, "an Authorization: Bearer token is required", { "www-authenticate": "Bearer" });
    }
    void metrics.text().then(
      (text) => {
        response.writeHead(200, { "content-type": METRICS_CONTENT_TYPE });
        response.end(request.method === "HEAD" ? undefined : text);
      },
      () => plain(500, "the metrics could not be collected"),
    );
  });
  // A scrape is small: a slow or idle client is not held for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  return new Promise((resolvePromise, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const onHost =
        error.code === "ENOTFOUND" || error.code === "EAI_AGAIN" || error.code === "EADDRNOTAVAIL";
      reject(
        new InputError(
          "E_USAGE",
          `cannot listen on ${options.host}:${options.port} (${errnoInWords(error)})`,
          { field: onHost ? "--metrics-host" : "--metrics-port" },
          error,
        ),
      );
    });
    server.listen(options.port, options.host, () => {
      const address = server.address() as AddressInfo;
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolvePromise({
        url: `http://${host}:${address.port}/metrics`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
