/** `canon-reason worker`: answer run and eval-case jobs from a Redis queue (BullMQ loads only here). */
import type { Command } from "commander";
import { checkServiceToken, openServerWarning } from "../../app/ops/bearer-token.js";
import type { RunMetrics } from "../../app/ops/prometheus-metrics.js";
import { DATABASE_URL_ENV, openSharedRegistry, registryUrlOf } from "../../app/registry.js";
import { apiKeyFrom, DEFAULT_BASE_URL, withoutCredentials } from "../../app/run/model-call.js";
import { CanonError, InputError } from "../../core/errors.js";
import { exitWithParent } from "../parent-watch.js";
import {
  action,
  artifactsRoot,
  endpointSettings,
  parseBaseUrlOption,
  parseIntOption,
  parseNumberOption,
  withEndpointFlags,
  withRegistry,
} from "../shared.js";

interface WorkerCliOptions {
  queue?: string;
  registry?: string;
  artifactsDir?: string;
  concurrency: number;
  stallMs: number;
  metricsPort?: number;
  metricsHost: string;
  modelBaseUrl: string;
  maxRps?: number;
  modelTimeout: number;
  modelRetries: number;
}

/** The most model requests per second a worker may be allowed. */
const MAX_RPS = 10_000;

export function registerWorker(program: Command): void {
  withRegistry(
    withEndpointFlags(
      program
        .command("worker")
        .description(
          "take run and eval-case jobs from a Redis queue and publish their runs to the shared registry",
        )
        .option("--queue <url>", "the Redis queue, redis://HOST:PORT[/DB] (default: $CANON_REASON_QUEUE_URL)")
        .option("--artifacts-dir <dir>", "local artifacts root (may start empty)", ".canon-reason")
        .option(
          "--concurrency <n>",
          "jobs computed at once (up to twice as many are held: the others wait for their publish batch to commit)",
          parseIntOption("--concurrency", { min: 1, max: 256 }),
          1,
        )
        .option(
          "--stall-ms <n>",
          "how long a job whose worker died waits before another worker takes it",
          parseIntOption("--stall-ms", { min: 1000, max: 3_600_000 }),
          30_000,
        )
        .option(
          "--model-base-url <url>",
          "the one llm endpoint (OpenAI-style base URL ending in /v1) this worker calls; an llm job naming another fails at once",
          parseBaseUrlOption("--model-base-url"),
          DEFAULT_BASE_URL,
        )
        .option(
          "--max-rps <x>",
          `llm: at most this many model requests per second from this worker, over all its jobs (above 0, at most ${MAX_RPS}; default: no bound)`,
          parseNumberOption("--max-rps"),
        )
        .option(
          "--metrics-port <n>",
          "serve Prometheus metrics on GET /metrics at this port (0: any free port; default: none)",
          parseIntOption("--metrics-port", { min: 0, max: 65535 }),
        )
        .option("--metrics-host <host>", "address the metrics listener binds", "127.0.0.1"),
    ),
  )
    .addHelpText(
      "after",
      `\nNeeds a shared registry (--registry or $${DATABASE_URL_ENV}): snapshots come from it and runs go to it.\nSIGTERM or SIGINT drains: no new jobs, the ones in hand finish, then exit 0. Started through npx, it drains when npx is gone. Logs are JSON lines on stdout.\nA fault of the worker's own (its artifacts dir read-only or full, its model endpoint refusing connections)\nhands the job back to the queue (no attempt spent) and pauses the worker (1 s, doubling); after 5 in a row\nit exits 3. While paused, GET /readyz on the metrics port answers 503 and canon_reason_healthy is 0.\nSet CANON_REASON_QUEUE_PREFIX to share one Redis between deployments.\nllm jobs: the key comes from this worker's CANON_REASON_LLM_API_KEY or OPENAI_API_KEY (user:password in\n--model-base-url also work); jobs carry the base URL without credentials, never a key.\nWith CANON_REASON_TOKEN set, GET /metrics needs \`Authorization: Bearer <token>\`, as on serve.\nTraces: register an OpenTelemetry SDK (node --import ./otel.mjs); see README "Scaling out".`,
    )
    .action(
      action(async (o: WorkerCliOptions) => {
        // Started through npx: drain and stop when npx does (a SIGTERM to npx does not reach us).
        exitWithParent();
        checkModelFlags(o);
        const { parseQueueUrl, queueUrlOf } = await import("../../queue/connection.js");
        const queueUrl = queueUrlOf(o.queue);
        if (queueUrl === undefined)
          throw new InputError("E_QUEUE_URL", "a worker needs a queue: --queue redis://HOST:PORT", {
            field: "--queue",
          });
        const connection = parseQueueUrl(queueUrl);
        const registryUrl = registryUrlOf(o.registry);
        if (registryUrl === undefined)
          throw new InputError(
            "E_REGISTRY_URL",
            `a worker needs a shared registry: --registry postgres://… or $${DATABASE_URL_ENV}`,
            { field: "--registry" },
          );
        const token = process.env.CANON_REASON_TOKEN;
        if (o.metricsPort !== undefined) checkServiceToken(token === "" ? undefined : token);
        const registry = await openSharedRegistry(registryUrl);
        const { startWorker, LOCAL_FAULTS_MAX } = await import("../../queue/queue-worker.js");
        const { JobQueue } = await import("../../queue/queue.js");
        // Redis must answer at start; later outages are waited out by the worker's reconnects.
        const probe = new JobQueue(connection);
        try {
          await probe.ready();
        } finally {
          await probe.close();
        }
        const log = (line: Record<string, unknown>) =>
          process.stdout.write(
            `${JSON.stringify({ time: new Date().toISOString(), pid: process.pid, ...line })}\n`,
          );
        // The listener binds before any job is taken: a taken port is exit 2, not a half-started worker.
        let served: ServedMetrics | undefined;
        if (o.metricsPort !== undefined) {
          try {
            served = await serveMetrics(
              o.metricsHost,
              o.metricsPort,
              token === "" ? undefined : token,
              () => new JobQueue(connection),
            );
          } catch (error) {
            await registry.close();
            throw error;
          }
        }
        const { listener, metrics, metricsQueue } = served ?? {};
        // Whatever happens from here on, the metrics listener and its queue connection are
        // closed: an open server would keep the process alive past its exit code.
        let started = false;
        try {
          const worker = await startWorker({
            connection,
            registry,
            artifactsRoot: artifactsRoot(o.artifactsDir),
            concurrency: o.concurrency,
            stallMs: o.stallMs,
            model: {
              endpoint: o.modelBaseUrl,
              settings: endpointSettings(o.modelTimeout, o.modelRetries),
              maxRps: o.maxRps ?? 0,
            },
            log,
            ...(metrics === undefined ? {} : { metrics }),
          });
          started = true;
          log({
            level: "info",
            msg: "worker ready",
            concurrency: o.concurrency,
            model_base_url: withoutCredentials(o.modelBaseUrl),
            ...(listener === undefined ? {} : { metrics_url: listener.url }),
          });
          const fault = await untilStopped(worker, log);
          if (fault !== null) {
            log({ level: "error", msg: "worker stopped: repeated faults of its own", reason: fault });
            throw new CanonError(
              "E_WORKER_FAULT",
              `the worker stopped after ${LOCAL_FAULTS_MAX} faults of its own in a row (${fault}); its jobs went back to the queue`,
              { exitCode: 3 },
            );
          }
        } finally {
          // startWorker hands the registry to the worker, whose drain closes it.
          if (!started) await registry.close().catch(() => undefined);
          await listener?.close().catch(() => undefined);
          await metricsQueue?.close().catch(() => undefined);
        }
        log({ level: "info", msg: "worker stopped" });
        return 0;
      }),
    );
}

/** Refuses, once at start, model flags that every call would refuse: a rate out of range, two credentials. */
function checkModelFlags(o: WorkerCliOptions): void {
  if (o.maxRps !== undefined && !(o.maxRps > 0 && o.maxRps <= MAX_RPS))
    throw new InputError(
      "E_USAGE",
      `--max-rps must be above 0 and at most ${MAX_RPS} (leave it out for no bound), got ${o.maxRps}`,
      { field: "--max-rps" },
    );
  // callModel refuses both at each call; a worker says so once, at start, not per job.
  const url = new URL(o.modelBaseUrl);
  if ((url.username !== "" || url.password !== "") && apiKeyFrom(process.env) !== undefined)
    throw new InputError(
      "E_USAGE",
      "give either an API key (CANON_REASON_LLM_API_KEY or OPENAI_API_KEY) or user:password in the base URL, not both",
      { field: "--model-base-url" },
    );
}

type JobQueueOf = InstanceType<typeof import("../../queue/queue.js").JobQueue>;

interface ServedMetrics {
  listener: { url: string; close(): Promise<void> };
  metrics: RunMetrics;
  /** The queue connection the gauge reads job counts through, opened once the port is bound. */
  metricsQueue: JobQueueOf;
}

/** GET /metrics and /readyz on their own port; the gauge reads the queue through its own connection. */
async function serveMetrics(
  host: string,
  port: number,
  token: string | undefined,
  openQueue: () => JobQueueOf,
): Promise<ServedMetrics> {
  const { listenMetrics, RunMetrics } = await import("../../app/ops/prometheus-metrics.js");
  let counts: JobQueueOf | undefined;
  const metrics = new RunMetrics((states) =>
    counts === undefined ? Promise.resolve({}) : counts.queue.getJobCounts(...states),
  );
  const listener = await listenMetrics(metrics, { host, port, token });
  const warning = openServerWarning(host, token);
  if (warning !== null) process.stderr.write(`${warning}\n`);
  counts = openQueue();
  return { listener, metrics, metricsQueue: counts };
}

/**
 * Waits for SIGTERM or SIGINT, or for the worker to give up on repeated faults of its own (disk,
 * model endpoint), and drains it: the jobs in hand finish. Resolves with the fault, if any.
 */
function untilStopped(
  worker: { drain(): Promise<void>; gaveUp: Promise<{ what: string }> },
  log: (line: Record<string, unknown>) => void,
): Promise<string | null> {
  return new Promise<string | null>((resolve) => {
    let stopping = false;
    const stop = (signal: string, reason: string | null) => {
      if (stopping) return;
      stopping = true;
      log({ level: "info", msg: "draining", signal });
      // A drain that fails (PostgreSQL away while closing) still ends the process.
      worker.drain().then(
        () => resolve(reason),
        (error: unknown) => {
          log({ level: "warn", msg: "drain failed", error: (error as Error).message });
          resolve(reason);
        },
      );
    };
    process.once("SIGTERM", () => stop("SIGTERM", null));
    process.once("SIGINT", () => stop("SIGINT", null));
    // Repeated faults of its own (disk, model endpoint): it stops, so healthy workers take the work.
    void worker.gaveUp.then((f) => stop("local faults", f.what));
  });
}
