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
 * Finished jobs' runs are published in batches (publish-batch.ts), and a job is acknowledged
 * only once its batch committed; what each kind of job computes is job-handlers.ts.
 * SIGTERM drains: no new jobs, the ones in hand finish, then the process exits.
 */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { type Span, SpanKind } from "@opentelemetry/api";
import { type Job, UnrecoverableError, WaitingError, Worker } from "bullmq";
import type { RunMetrics } from "../app/ops/prometheus-metrics.js";
import { ATTR, contextOfCarrier, inSpan, traceFields } from "../app/ops/telemetry.js";
import type { PgRegistry } from "../app/registry.js";
import { type EndpointSettings, pacer } from "../app/run/model-call.js";
import { prepareArtifactsDir, readRunDirectory, runsRoot } from "../app/store/artifacts.js";
import { CanonError } from "../core/errors.js";
import { type QueueConnection, queuePrefix } from "./connection.js";
import { type ComputedJob, jobHandlers } from "./job-handlers.js";
import { type LocalFault, localFaultOf } from "./local-fault.js";
import { PublishBatcher } from "./publish-batch.js";
import { JOB_ATTEMPTS, type JobData, type JobResult, QUEUE_NAME } from "./queue.js";
import { Slots } from "./slots.js";

export interface WorkerOptions {
  connection: QueueConnection;
  registry: PgRegistry;
  artifactsRoot: string;
  /**
   * Jobs computed at once (the work of a model-backed reasoner is mostly waiting). The worker
   * holds up to twice as many: the others wait for their publish batch to commit, so that
   * publishing one job overlaps computing the next.
   */
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
  /** How this worker backs off its own faults (defaults: LOCAL_FAULT_PAUSE_MS, LOCAL_FAULTS_MAX). */
  localFaults?: { pauseMs: number; max: number };
}

export interface RunningWorker {
  /** Stops taking jobs, lets the ones in hand finish, and disconnects. */
  drain(): Promise<void>;
  /**
   * Settles when the worker gives up on its own: after `max` local faults in a row (its disk,
   * its model endpoint) it takes no more jobs, and this resolves with the last fault. Never
   * settles otherwise.
   */
  gaveUp: Promise<LocalFault>;
}

/**
 * A fault of the worker's own (local-fault.ts) hands the job back and pauses the worker: first
 * for this long, doubling with each fault in a row (at most 60 s). A job that succeeds resets it.
 */
export const LOCAL_FAULT_PAUSE_MS = 1000;
/** Local faults in a row after which the worker stops taking jobs (and the CLI exits 3). */
export const LOCAL_FAULTS_MAX = 5;
const LOCAL_FAULT_PAUSE_MAX_MS = 60_000;

/** How long a job that lost the registry waits for it before failing this attempt. */
const REGISTRY_WAIT_MS = 60_000;

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const root = options.artifactsRoot;
  prepareArtifactsDir(root);
  const faults = options.localFaults ?? { pauseMs: LOCAL_FAULT_PAUSE_MS, max: LOCAL_FAULTS_MAX };
  // One pace for all the jobs in hand: --max-rps bounds the worker, not each job.
  const pace = pacer(options.model.maxRps);

  const handlers = jobHandlers({
    registry: options.registry,
    artifactsRoot: root,
    model: options.model,
    pace,
  });
  const publisher = new PublishBatcher(options.registry);
  const computing = new Slots(options.concurrency);

  const compute = (data: JobData): Promise<ComputedJob> =>
    options.metrics === undefined
      ? handlers.compute(data)
      : options.metrics.timeRun(
          () => handlers.compute(data),
          (done) => done.status,
        );

  // --- the worker's own faults: hand the job back, back off, give up after `max` in a row ----
  let faultsInRow = 0;
  /** Paused after a fault: the other jobs in hand that fault meanwhile are handed back uncounted. */
  let pausedForFault = false;
  let resumeTimer: NodeJS.Timeout | undefined;
  let giveUp: (fault: LocalFault) => void = () => undefined;
  const gaveUp = new Promise<LocalFault>((resolve) => {
    giveUp = resolve;
  });
  let worker: Worker<JobData, JobResult> | undefined;

  /** The job goes back to the queue (no attempt spent) and this worker pauses or gives up. */
  const handBack = async (job: Job<JobData, JobResult>, token: string, fault: LocalFault) => {
    // Jobs in hand at once (--concurrency) that fault together are one fault, not several.
    const counted = !pausedForFault;
    if (counted) faultsInRow++;
    const last = faultsInRow >= faults.max;
    const pauseMs = Math.min(faults.pauseMs * 2 ** (faultsInRow - 1), LOCAL_FAULT_PAUSE_MAX_MS);
    options.metrics?.setUnhealthy(`${fault.what} (${faultsInRow} in a row)`);
    if (counted) {
      pausedForFault = true;
      // Paused before the job is handed back, so this worker does not take it again at once.
      await worker?.pause(true);
      if (resumeTimer !== undefined) clearTimeout(resumeTimer);
      resumeTimer = undefined;
      if (!last)
        resumeTimer = setTimeout(() => {
          resumeTimer = undefined;
          pausedForFault = false;
          worker?.resume();
        }, pauseMs);
    }
    try {
      await job.moveToWait(token);
    } catch (error) {
      // The lock is lost (another worker has the job) or Redis is away (the lock then expires
      // and the job is taken over as a stalled one): either way it is not this worker's any more.
      options.log({
        level: "warn",
        msg: "job not handed back (it is no longer this worker's)",
        job_id: job.id,
        error: (error as Error).message,
      });
    }
    if (!counted) {
      options.log({
        level: "warn",
        msg: "worker fault: job handed back (already paused for the same fault)",
        job_id: job.id,
        fault: fault.kind,
        reason: fault.what,
      });
      return;
    }
    options.log({
      level: last ? "error" : "warn",
      msg: last
        ? "worker fault: job handed back; giving up after repeated faults of its own"
        : "worker fault: job handed back to the queue, worker paused",
      job_id: job.id,
      fault: fault.kind,
      reason: fault.what,
      faults_in_row: faultsInRow,
      ...(last ? {} : { pause_ms: pauseMs }),
    });
    if (last) giveUp(fault);
  };

  const healthy = () => {
    if (faultsInRow === 0) return;
    faultsInRow = 0;
    options.metrics?.setUnhealthy(null);
    options.log({ level: "info", msg: "worker healthy again" });
  };

  /** The job as a CONSUMER span, a child of the submitter's span when the job carries its context. */
  const processJob = (job: Job<JobData, JobResult>, token?: string): Promise<JobResult> =>
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
      (span) => processInSpan(job, span, token),
      contextOfCarrier(job.opts.telemetry?.metadata),
    );

  const processInSpan = async (
    job: Job<JobData, JobResult>,
    span: Span,
    token: string | undefined,
  ): Promise<JobResult> => {
    const jobId = job.id as string;
    const started = Date.now();
    const log = (line: Record<string, unknown>) => options.log({ ...line, ...traceFields(span) });
    try {
      const done = await handlers.recorded(jobId);
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
      // At most `concurrency` jobs compute at once; the others in hand wait for their batch to commit.
      const { runId, result, store: used } = await computing.run(() => compute(data));
      span.setAttribute(ATTR.RUN_ID, runId);
      const source =
        data.kind === "run"
          ? { item_id: data.item_id, item_version: data.item_version }
          : { item_id: null, item_version: null };
      const computed = performance.now();
      // Acknowledged (returned) only once its batch is committed: never before its run is durable.
      const published = await publisher.publish({
        entry: { run_id: runId, ...source },
        files: readRunDirectory(join(runsRoot(root), runId)).files,
        store: used,
        job: { id: jobId, result },
      });
      const first = published.recorded;
      healthy();
      // Not first: another worker recorded this job meanwhile (this one lost its lock, say
      // after SIGSTOP): the same run, computed twice, counted once.
      log({
        level: "info",
        msg: first ? "job computed" : "job computed (duplicate: another worker recorded it first)",
        ...(first ? {} : { duplicate: true }),
        job_id: jobId,
        run_id: runId,
        ms: Date.now() - started,
        // From computed to committed (waiting for the batch in flight included), and the batch.
        publish_ms: Math.round((performance.now() - computed) * 1000) / 1000,
        publish_batch: published.batch,
      });
      return result;
    } catch (error) {
      // The worker's own disk or model endpoint: not the job's fault, not an attempt spent.
      const fault = localFaultOf(error);
      if (fault !== null && token !== undefined) {
        await handBack(job, token, fault);
        throw new WaitingError();
      }
      // Bad input stays bad: fail at once, as "<code>: <message>" for the submitter.
      if (error instanceof CanonError && error.exitCode === 2)
        throw new UnrecoverableError(`${error.code}: ${error.describe()}`);
      // PostgreSQL away (a restart): the retry waits until it answers, not a backoff's worth.
      if (error instanceof CanonError && error.code === "E_REGISTRY_UNAVAILABLE")
        await options.registry.waitUntilAvailable(REGISTRY_WAIT_MS);
      throw error;
    }
  };

  worker = new Worker<JobData, JobResult>(QUEUE_NAME, processJob, {
    connection: { ...options.connection, maxRetriesPerRequest: null },
    prefix: queuePrefix(),
    // Twice the jobs it computes at once: while one job's batch commits, the next computes.
    concurrency: 2 * options.concurrency,
    // A dead worker's lock expires at most stallMs after its last renewal (renewed every
    // stallMs / 2); a job is taken over at the first stalled check that finds it marked by the
    // previous check and unlocked. Checking every stallMs / 2 bounds the takeover at about
    // 1.5 x stallMs after the worker died (bench/stall-bound.mjs measures it), not 2 x.
    lockDuration: options.stallMs,
    stalledInterval: Math.max(500, Math.floor(options.stallMs / 2)),
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
  const running = worker;
  return {
    drain: async () => {
      if (resumeTimer !== undefined) clearTimeout(resumeTimer);
      await running.close();
      await options.registry.close();
    },
    gaveUp,
  };
}
