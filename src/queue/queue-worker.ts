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
import { performance } from "node:perf_hooks";
import { type Span, SpanKind } from "@opentelemetry/api";
import { type Job, UnrecoverableError, WaitingError, Worker } from "bullmq";
import { DiskStore, prepareArtifactsDir, runsRoot } from "../app/artifacts.js";
import {
  type CaseResult,
  type EvalInput,
  type EvalOptions,
  EvalRetrievals,
  rejectedByEndpoint,
  runCase,
} from "../app/eval.js";
import { type EndpointSettings, pacer } from "../app/model-call.js";
import type { RunMetrics } from "../app/ops/prometheus-metrics.js";
import { ATTR, contextOfCarrier, inSpan, traceFields } from "../app/ops/telemetry.js";
import { type PgRegistry, registryCacheRoot } from "../app/registry.js";
import { runJob } from "../app/run-job.js";
import { snapshotHashOf } from "../app/run-spec.js";
import { verifyRunDirectory } from "../app/verify.js";
import { CanonError, InputError } from "../core/errors.js";
import { type LocalFault, localFaultOf } from "./local-fault.js";
import {
  type CaseJobData,
  JOB_ATTEMPTS,
  type JobData,
  type JobResult,
  QUEUE_NAME,
  type QueueConnection,
  queuePrefix,
  REJECTED_CASE,
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

/** How many prepared snapshots a worker keeps (each holds a parsed corpus and its index). */
const RETRIEVALS_KEPT = 4;

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const root = options.artifactsRoot;
  prepareArtifactsDir(root);
  const store = new DiskStore(root);
  const faults = options.localFaults ?? { pauseMs: LOCAL_FAULT_PAUSE_MS, max: LOCAL_FAULTS_MAX };
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
  ): Promise<{ runId: string; result: CaseResult; status: string; store: DiskStore }> => {
    await ensureSnapshot(data.snapshot);
    const evalOptions: EvalOptions = {
      artifactsRoot: root,
      preset: data.preset,
      overrides: data.overrides,
      workers: 1,
      model: { settings, maxRps: options.model.maxRps, endpoint },
    };
    const retrievals = retrievalsFor(data.snapshot, evalOptions);
    let result: CaseResult & { run_id: string };
    try {
      result = await runCase(data.case, retrievals, evalOptions, pace);
    } catch (error) {
      // The endpoint rejected this one request (say its context is too long): the case fails
      // for good and the eval goes on; the submitter records it as failed (queue/eval.ts).
      if (rejectedByEndpoint(error)) throw new UnrecoverableError(`${REJECTED_CASE}${error.message}`);
      throw error;
    }
    return { runId: result.run_id, result, status: result.status, store: retrievals.store };
  };

  const runRunJob = async (data: RunJobData) => {
    const corpus = data.spec.constraints.corpus;
    let source: EvalRetrievals | undefined;
    if (corpus !== undefined) {
      const hash = snapshotHashOf(corpus);
      if (hash === null)
        throw new InputError("E_USAGE", "a queued run's corpus must be a sha256: snapshot", {
          field: "corpus",
        });
      await ensureSnapshot(hash);
      // The snapshot's parsed corpus and index, prepared once per worker and shared by its run
      // jobs as by its case jobs: a run job does not open a fresh store and re-hash the snapshot.
      source = retrievalsFor(hash, { artifactsRoot: root, preset: data.preset, overrides: {}, workers: 1 });
    }
    const produced = await runJob({
      spec: data.spec,
      preset: data.preset,
      seed: data.seed,
      artifactsRoot: root,
      ...(source === undefined ? {} : { source }),
      model: { settings, pace, endpoint },
    });
    return {
      runId: produced.runId,
      result: { run_id: produced.runId, created: produced.created },
      status: produced.answer.status,
      store: source?.store ?? store,
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
    const run = (): Promise<{ runId: string; result: JobResult; status: string; store: DiskStore }> =>
      data.kind === "case" ? runCaseJob(data) : runRunJob(data);
    return options.metrics === undefined ? run() : options.metrics.timeRun(run, (done) => done.status);
  };

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
      const { runId, result, store: used } = await compute(data);
      span.setAttribute(ATTR.RUN_ID, runId);
      const source =
        data.kind === "run"
          ? { item_id: data.item_id, item_version: data.item_version }
          : { item_id: null, item_version: null };
      const computed = performance.now();
      const { recorded: first } = await options.registry.publishJob(
        { run_id: runId, ...source },
        { runDir: join(runsRoot(root), runId), storeRoot: root, store: used },
        { id: jobId, result },
      );
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
        publish_ms: Math.round((performance.now() - computed) * 1000) / 1000,
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
    concurrency: options.concurrency,
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
