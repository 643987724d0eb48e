/**
 * `canon-reason worker`: takes run and case jobs from the queue and publishes their runs to
 * the shared registry. A worker needs nothing local but an (initially empty) artifacts dir: it
 * fetches each corpus snapshot from the registry (re-hashed) and builds the deterministic index
 * itself, so every machine has the same index hash.
 *
 * A job of the llm reasoner is run only when its base URL (which travels without credentials) is
 * the worker's own endpoint, called with the worker's own key: otherwise it fails at once as bad
 * input naming both, and no other endpoint is ever called.
 *
 * A job is idempotent: a retried job whose run is recorded, exists and verifies returns the
 * recorded result without running again; otherwise it is computed again (deterministically)
 * and published idempotently. Bad input fails at once (no retry); anything else is retried a
 * bounded number of times and then stays in the dead-letter (failed) list with its reason.
 * A worker killed mid-job loses its lock, and after `stallMs` another worker takes the job;
 * delivery is at least once, completion exactly once, and publishing is idempotent.
 * SIGTERM drains: no new jobs, the one in hand finishes, then the process exits.
 */
import { dirname, join } from "node:path";
import { type Span, SpanKind } from "@opentelemetry/api";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import { type CaseResult, type EvalOptions, EvalRetrievals, runCase } from "../app/eval.js";
import type { RunMetrics } from "../app/metrics.js";
import { runJob } from "../app/run-job.js";
import { ATTR, contextOfCarrier, inSpan, traceFields } from "../app/telemetry.js";
import { verifyRunDirectory } from "../app/verify.js";
import { parseCorpusRef } from "../core/corpus/corpus-ref.js";
import { CanonError, InputError } from "../core/errors.js";
import { prepareArtifactsDir } from "../io/artifacts.js";
import type { EvalInput } from "../io/eval-input.js";
import { type EndpointSettings, pacer } from "../io/llm-endpoint.js";
import { runsRoot } from "../io/run-writer.js";
import { DiskStore } from "../io/store.js";
import { registryCacheRoot } from "../registry/open.js";
import type { PgRegistry } from "../registry/postgres.js";
import {
  type CaseJobData,
  JOB_ATTEMPTS,
  type JobData,
  type JobResult,
  QUEUE_NAME,
  type QueueConnection,
  queuePrefix,
  type RunJobData,
} from "./queue.js";

export interface WorkerOptions {
  connection: QueueConnection;
  registry: PgRegistry;
  artifactsRoot: string;
  /** Jobs in hand at once (the work of a model-backed reasoner is mostly waiting). */
  concurrency: number;
  /** How long a job whose worker died stays locked before another worker takes it. */
  stallMs: number;
  /**
   * The llm reasoner's one endpoint (worker --model-base-url; may carry user:password, the key
   * comes from this process's environment), its call settings, and a bound on this worker's
   * model requests per second (0: none).
   */
  model: { endpoint: string; settings: EndpointSettings; maxRps: number };
  /** One JSON object per line; a job's lines carry its trace_id, span_id and run_id. */
  log: (line: Record<string, unknown>) => void;
  /** Counts and times each computed job's run (worker --metrics-port). */
  metrics?: RunMetrics;
}

export interface RunningWorker {
  /** Stops taking jobs, lets the ones in hand finish, and disconnects. */
  drain(): Promise<void>;
}

/** How long a job that lost the registry waits for it before failing this attempt. */
const REGISTRY_WAIT_MS = 60_000;

/** How many prepared snapshots a worker keeps (each holds a parsed corpus and its index). */
const RETRIEVALS_KEPT = 4;

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const root = options.artifactsRoot;
  prepareArtifactsDir(root);
  const store = new DiskStore(root);
  const retrievals = new Map<string, EvalRetrievals>();
  // One pace for all the jobs in hand: --max-rps bounds the worker, not each job.
  const pace = pacer(options.model.maxRps);
  const { endpoint, settings } = options.model;

  /** The snapshot in the local store, fetched (and re-hashed) from the registry when missing. */
  const ensureSnapshot = async (hash: string) => {
    if (store.has(hash)) return;
    const bytes = await options.registry.getObject(hash);
    if (bytes === null)
      throw new InputError("E_STORE_MISSING", `the registry holds no corpus snapshot sha256:${hash}`);
    store.put(bytes);
  };

  const retrievalsFor = (snapshot: string, evalOptions: EvalOptions) => {
    let found = retrievals.get(snapshot);
    if (found === undefined) {
      const input: EvalInput = { kind: "suite", name: "queue", corpus: "", cases: [] };
      found = new EvalRetrievals(input, evalOptions, snapshot);
      retrievals.set(snapshot, found);
      for (const key of retrievals.keys()) {
        if (retrievals.size <= RETRIEVALS_KEPT) break;
        retrievals.delete(key);
      }
    }
    return found;
  };

  const runCaseJob = async (
    data: CaseJobData,
  ): Promise<{ runId: string; result: CaseResult; status: string }> => {
    await ensureSnapshot(data.snapshot);
    const evalOptions: EvalOptions = {
      artifactsRoot: root,
      preset: data.preset,
      overrides: data.overrides,
      workers: 1,
      model: { settings, maxRps: options.model.maxRps, endpoint },
    };
    const result = await runCase(data.case, retrievalsFor(data.snapshot, evalOptions), evalOptions, pace);
    return { runId: result.run_id, result, status: result.status };
  };

  const runRunJob = async (data: RunJobData) => {
    const corpus = data.spec.constraints.corpus;
    if (corpus !== undefined) {
      const ref = parseCorpusRef(corpus);
      if (ref.kind !== "snapshot")
        throw new InputError("E_USAGE", "a queued run's corpus must be a sha256: snapshot", {
          field: "corpus",
        });
      await ensureSnapshot(ref.hash);
    }
    const produced = await runJob({
      spec: data.spec,
      preset: data.preset,
      seed: data.seed,
      artifactsRoot: root,
      model: { settings, pace, endpoint },
    });
    return {
      runId: produced.runId,
      result: { run_id: produced.runId, created: produced.created },
      status: produced.answer.status,
    };
  };

  /** A recorded result whose run still exists in the registry and verifies: nothing to do. */
  const recorded = async (jobId: string): Promise<JobResult | null> => {
    const record = await options.registry.jobRecord(jobId);
    if (record === null) return null;
    const runDir = await options.registry.materializeRun(record.runId, registryCacheRoot(root));
    if (runDir === null) return null;
    const report = verifyRunDirectory(runDir, { policy: "audit", storeRoot: dirname(dirname(runDir)) });
    return report.verdict === "pass" ? (record.result as JobResult) : null;
  };

  const compute = (data: JobData) => {
    const run = (): Promise<{ runId: string; result: JobResult; status: string }> =>
      data.kind === "case" ? runCaseJob(data) : runRunJob(data);
    return options.metrics === undefined ? run() : options.metrics.timeRun(run, (done) => done.status);
  };

  /** The job as a CONSUMER span, a child of the submitter's span when the job carries its context. */
  const processJob = (job: Job<JobData, JobResult>): Promise<JobResult> =>
    inSpan(
      `process ${QUEUE_NAME}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          "messaging.system": "bullmq",
          "messaging.operation.type": "process",
          "messaging.destination.name": QUEUE_NAME,
          "messaging.message.id": job.id ?? "",
          [ATTR.JOB_ID]: job.id ?? "",
          [ATTR.JOB_KIND]: job.data.kind,
          [ATTR.JOB_ATTEMPT]: job.attemptsMade + 1,
        },
      },
      (span) => processInSpan(job, span),
      contextOfCarrier(job.opts.telemetry?.metadata),
    );

  const processInSpan = async (job: Job<JobData, JobResult>, span: Span): Promise<JobResult> => {
    const jobId = job.id as string;
    const started = Date.now();
    const log = (line: Record<string, unknown>) => options.log({ ...line, ...traceFields(span) });
    try {
      const done = await recorded(jobId);
      if (done !== null) {
        if ("run_id" in done && done.run_id !== null) span.setAttribute(ATTR.RUN_ID, done.run_id);
        log({
          level: "info",
          msg: "job already done",
          job_id: jobId,
          run_id: done.run_id,
          attempt: job.attemptsMade + 1,
        });
        return done;
      }
      const data = job.data;
      const { runId, result } = await compute(data);
      span.setAttribute(ATTR.RUN_ID, runId);
      const source =
        data.kind === "run"
          ? { item_id: data.item_id, item_version: data.item_version }
          : { item_id: null, item_version: null };
      const computed = Date.now();
      await options.registry.addRun(
        { run_id: runId, ...source },
        { runDir: join(runsRoot(root), runId), storeRoot: root },
      );
      await options.registry.recordJob(jobId, runId, result);
      log({
        level: "info",
        msg: "job computed",
        job_id: jobId,
        run_id: runId,
        ms: Date.now() - started,
        publish_ms: Date.now() - computed,
      });
      return result;
    } catch (error) {
      // Bad input stays bad: fail at once, as "<code>: <message>" for the submitter.
      if (error instanceof CanonError && error.exitCode === 2)
        throw new UnrecoverableError(`${error.code}: ${error.describe()}`);
      // PostgreSQL away (a restart): the retry waits until it answers, not a backoff's worth.
      if (error instanceof CanonError && error.code === "E_REGISTRY_UNAVAILABLE")
        await options.registry.waitUntilAvailable(REGISTRY_WAIT_MS);
      throw error;
    }
  };

  const worker = new Worker<JobData, JobResult>(QUEUE_NAME, processJob, {
    connection: { ...options.connection, maxRetriesPerRequest: null },
    prefix: queuePrefix(),
    concurrency: options.concurrency,
    lockDuration: options.stallMs,
    stalledInterval: options.stallMs,
    maxStalledCount: JOB_ATTEMPTS,
  });
  // Only the worker that still holds the job's lock completes it: a job computed twice (its
  // lock expired under load) is completed, and logged as done, once.
  worker.on("completed", (job) => options.log({ level: "info", msg: "job done", job_id: job.id }));
  worker.on("error", (error) => options.log({ level: "warn", msg: "queue error", error: error.message }));
  worker.on("failed", (job, error) => {
    const final =
      job !== undefined &&
      (job.attemptsMade >= (job.opts.attempts ?? 1) || error instanceof UnrecoverableError);
    options.log({
      level: final ? "error" : "warn",
      msg: final ? "job failed (dead-letter list)" : "job failed (will retry)",
      job_id: job?.id,
      attempt: job?.attemptsMade,
      reason: error.message,
    });
  });
  try {
    await worker.waitUntilReady();
  } catch (error) {
    // Not ready is not started: nothing may keep reconnecting behind the caller's error.
    await worker.close(true).catch(() => undefined);
    throw error;
  }
  return {
    drain: async () => {
      await worker.close();
      await options.registry.close();
    },
  };
}
