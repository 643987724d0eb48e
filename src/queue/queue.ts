/**
 * The work queue on Redis (BullMQ): what a job is, what it is named, and the submitting side
 * (`JobQueue`); how to reach Redis is connection.ts. A job is named by what it computes (a sha256 of its canonical payload), so a retry or
 * a second submission of the same work is the same job (BullMQ's `jobId`). Two kinds:
 *
 *   run   one spec (its corpus pinned to a snapshot), preset and seed -> a published run
 *   case  one eval case over a snapshot, preset and overrides -> its CaseResult (and run)
 *
 * Payloads carry snapshot hashes, never paths: a worker fetches the snapshot from the shared
 * registry, so nothing but PostgreSQL and Redis is shared between machines. Nor do they carry
 * an llm endpoint's credentials: a base URL travels without user:password (as a run records it)
 * and a key never travels; each worker calls its own configured endpoint with its own key.
 */
import { Queue, QueueEvents } from "bullmq";
import type { CaseResult, EvalCase } from "../app/eval/eval.js";
import { traceCarrier } from "../app/ops/telemetry.js";
import { withoutCredentials } from "../app/run/model-call.js";
import { canonicalJson, sha256Hex } from "../app/run/run-spec.js";
import { CanonError, ERROR_CODES, type ErrorCode, InputError } from "../core/errors.js";
import type { ProblemSpec } from "../core/models/spec.js";
import { answered, persistenceWarnings, type QueueConnection, queuePrefix } from "./connection.js";

export const QUEUE_NAME = "canon-reason";
/** Attempts per job before it lands in the dead-letter (failed) list with its reason. */
export const JOB_ATTEMPTS = 3;

export interface RunJobData {
  kind: "run";
  spec: ProblemSpec;
  preset: string;
  seed: number;
  item_id: string | null;
  item_version: number | null;
}

export interface CaseJobData {
  kind: "case";
  /** The case without `where` (a path of the submitting machine, not part of what is computed). */
  case: Omit<EvalCase, "where">;
  snapshot: string;
  preset: string;
  overrides: ProblemSpec["constraints"];
}

export type JobData = RunJobData | CaseJobData;
export interface RunJobResult {
  run_id: string;
  created: boolean;
}
export type JobResult = RunJobResult | CaseResult;

/** Constraints whose base URL, if any, has no user:password. */
function credentialFree<C extends { base_url?: string | undefined }>(constraints: C): C {
  return constraints.base_url === undefined
    ? constraints
    : { ...constraints, base_url: withoutCredentials(constraints.base_url) };
}

/**
 * The payload as it may travel through Redis: every base URL without user:password. The run
 * id does not change (a run records its base URL without them), and neither does the job id.
 */
function withoutEndpointCredentials(data: JobData): JobData {
  return data.kind === "run"
    ? { ...data, spec: { ...data.spec, constraints: credentialFree(data.spec.constraints) } }
    : {
        ...data,
        case: { ...data.case, constraints: credentialFree(data.case.constraints) },
        overrides: credentialFree(data.overrides),
      };
}

/** `<kind>-<sha256 of the canonical payload>`: the same work, the same job. */
export function jobIdOf(data: JobData): string {
  return `${data.kind}-${sha256Hex(Buffer.from(canonicalJson(data), "utf8"))}`;
}

export const JOB_ID_PATTERN = /^(run|case)-[0-9a-f]{64}$/;

/** How often a waiting submitter checks that its jobs still exist (Redis restarted empty loses them). */
export const VANISH_CHECK_MS = 2000;

/** The part of BullMQ's client (ioredis) the submitter reads directly. */
interface RawClient {
  xrevrange(key: string, end: "+", start: "-", count: "COUNT", n: 1): Promise<Array<[string, string[]]>>;
  config(op: "GET", name: string): Promise<string[]>;
  pipeline(): { exists(key: string): unknown; exec(): Promise<Array<[Error | null, unknown]> | null> };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How a worker fails a case job whose model call the endpoint rejected as such (HTTP 400, 413,
 * 422): for good, with this prefix before the endpoint's message, so the submitter records the
 * case as failed and goes on, as a local eval does (app/eval/eval.ts runCaseOrFailure).
 */
export const REJECTED_CASE = "the model endpoint rejected this case: ";

/** A case job failed for good because the endpoint rejected its request; `reason` is the endpoint's message. */
export class RejectedCaseError extends CanonError {
  constructor(readonly reason: string) {
    super("E_JOB_FAILED", `${REJECTED_CASE}${reason}`, { exitCode: 3 });
  }
}

/**
 * The submitting side of the queue. Commands fail at once while Redis is away (no offline
 * queue), so a submission is refused with E_QUEUE_UNAVAILABLE rather than held.
 */
export class JobQueue {
  readonly queue: Queue<JobData, JobResult>;
  /** Made once, on the first wait: concurrent waits share it (see `result`). */
  private events: Promise<QueueEvents> | undefined;
  /** Jobs being waited for, each with what to do when its key is gone (see `watchVanished`). */
  private readonly watched = new Map<string, () => void>();
  private watchTimer: NodeJS.Timeout | undefined;

  constructor(readonly connection: QueueConnection) {
    this.queue = new Queue<JobData, JobResult>(QUEUE_NAME, {
      connection: { ...connection, enableOfflineQueue: false, maxRetriesPerRequest: 1 },
      prefix: queuePrefix(),
      defaultJobOptions: {
        attempts: JOB_ATTEMPTS,
        backoff: { type: "exponential", delay: 500 },
        // Finished jobs are kept a while, so a repeated submission finds the result.
        removeOnComplete: { age: 7 * 24 * 3600, count: 100_000 },
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    });
    // Connection trouble is reported by the commands that need the queue, not as a crash.
    this.queue.on("error", () => undefined);
    // Each job waited for holds a "closing" listener (waitUntilFinished), and an eval waits for
    // all its cases at once: not a leak, so no MaxListenersExceededWarning on stderr.
    this.queue.setMaxListeners(0);
  }

  /** Waits until Redis answers, or fails with E_QUEUE_UNAVAILABLE. */
  async ready(): Promise<void> {
    await answered(this.queue.getJobCounts("wait"));
  }

  /** Warnings about Redis settings that can lose queued jobs (see `persistenceWarnings`). */
  async persistenceCheck(): Promise<string[]> {
    const client = (await this.queue.client) as unknown as RawClient;
    const read = async (name: string) => {
      try {
        const [, value] = await answered(client.config("GET", name));
        return value;
      } catch {
        return undefined;
      }
    };
    const appendonly = await read("appendonly");
    const maxmemoryPolicy = await read("maxmemory-policy");
    return persistenceWarnings({
      ...(appendonly === undefined ? {} : { appendonly }),
      ...(maxmemoryPolicy === undefined ? {} : { maxmemoryPolicy }),
    });
  }

  /**
   * Adds the job (the same id: the same job, added once), retrying a failed one. Returns its id.
   * Credentials in a base URL are removed here, the one way into the queue.
   */
  async submit(data: JobData): Promise<string> {
    // What the worker will see: the payload after its trip through JSON (no undefined fields).
    const payload = JSON.parse(JSON.stringify(withoutEndpointCredentials(data))) as JobData;
    const jobId = jobIdOf(payload);
    // The submitter's trace context travels in BullMQ's own carrier (job options), not in the
    // payload: the job id stays a hash of what is computed, whoever submits it.
    const metadata = traceCarrier();
    await answered(
      (async () => {
        // A job that failed for good in an earlier submission is retried ("fix the cause, then
        // submit again"). Looked at before adding: a new job that a worker fails at once must not
        // be retried by its own submission (it would run, and fail, twice).
        const earlier = await this.queue.getJob(jobId);
        if (earlier !== undefined && (await earlier.getState()) === "failed") {
          await earlier.retry("failed");
          return;
        }
        await this.queue.add(payload.kind, payload, {
          jobId,
          ...(metadata === undefined ? {} : { telemetry: { metadata } }),
        });
      })(),
    );
    return jobId;
  }

  /**
   * The events of finished jobs, read from the stream's last entry at the time of the first
   * wait. BullMQ's default is to start at "$" when its first read is sent, which is after it is
   * "ready": a job finishing in between was neither finished when `waitUntilFinished` looked
   * nor ever announced, and its submitter waited forever. From a pinned id nothing is missed.
   */
  private async openEvents(): Promise<QueueEvents> {
    // BullMQ's client is ioredis; XREVRANGE (a read) is outside BullMQ's narrow client interface.
    const client = (await this.queue.client) as unknown as RawClient;
    const [last] = await answered(client.xrevrange(this.queue.toKey("events"), "+", "-", "COUNT", 1));
    const events = new QueueEvents(QUEUE_NAME, {
      connection: { ...this.connection, maxRetriesPerRequest: null },
      prefix: queuePrefix(),
      lastEventId: last?.[0] ?? "0-0",
    });
    events.on("error", () => undefined);
    try {
      await answered(events.waitUntilReady());
    } catch (error) {
      // A reader that never got ready must not go on reconnecting and keep the process alive.
      await events.close().catch(() => undefined);
      throw error;
    }
    return events;
  }

  /**
   * Resolves once `jobId`'s key is gone from Redis (a restart without its data, an eviction).
   * One timer checks every watched job in one pipelined round trip each VANISH_CHECK_MS; while
   * Redis does not answer nothing is concluded. `stop` ends the watch.
   */
  private watchVanished(jobId: string): { vanished: Promise<void>; stop: () => void } {
    const vanished = new Promise<void>((resolve) => {
      this.watched.set(jobId, resolve);
    });
    const stop = () => {
      this.watched.delete(jobId);
    };
    if (this.watchTimer === undefined) {
      const tick = async () => {
        const ids = [...this.watched.keys()];
        if (ids.length > 0) {
          try {
            const client = (await this.queue.client) as unknown as RawClient;
            const pipeline = client.pipeline();
            for (const id of ids) pipeline.exists(this.queue.toKey(id));
            const answers = (await answered(pipeline.exec())) ?? [];
            ids.forEach((id, i) => {
              const [error, exists] = answers[i] ?? [new Error("no answer"), 1];
              if (error === null && exists === 0) {
                this.watched.get(id)?.();
                this.watched.delete(id);
              }
            });
          } catch {
            // Redis away: the jobs may well be there when it is back; nothing is concluded.
          }
        }
        if (this.watchTimer !== undefined)
          this.watchTimer = setTimeout(() => void tick(), VANISH_CHECK_MS).unref();
      };
      this.watchTimer = setTimeout(() => void tick(), VANISH_CHECK_MS).unref();
    }
    return { vanished, stop };
  }

  /**
   * The job's result once it finishes; a job that failed for good is E_JOB_FAILED with its reason.
   * A job that vanishes from Redis while waited for (Redis restarted without its data) is handed
   * to `resubmit` — safe, as its id is what it computes, and a worker finds a finished job's
   * record in the registry — and waited for again; without `resubmit` it is E_JOB_FAILED.
   */
  async result(jobId: string, resubmit?: () => Promise<void>): Promise<JobResult> {
    for (let again = false; ; again = true) {
      // One QueueEvents for all waits, made once: an eval waits on all its cases at the same
      // moment, and a second reader could miss its job's "completed" event.
      // A failed open is not kept: the next wait tries again.
      this.events ??= this.openEvents().catch((error: unknown) => {
        this.events = undefined;
        throw error;
      });
      const events = await this.events;
      let job: Awaited<ReturnType<Queue<JobData, JobResult>["getJob"]>>;
      try {
        job = await answered(this.queue.getJob(jobId));
      } catch (error) {
        // After a vanished job, Redis may still be coming back: wait for it, as the first wait does.
        if (!again) throw error;
        await sleep(VANISH_CHECK_MS);
        continue;
      }
      if (job === undefined) {
        if (resubmit === undefined)
          throw new CanonError(
            "E_JOB_FAILED",
            `job ${jobId} is gone from the queue (did Redis restart without its data?)`,
            { exitCode: 3 },
          );
        await this.resubmitted(resubmit);
        continue;
      }
      const watch = this.watchVanished(jobId);
      const outcome = await Promise.race([
        job.waitUntilFinished(events).then(
          (value: JobResult) => ({ value }),
          (error: unknown) => ({ error }),
        ),
        watch.vanished.then(() => "vanished" as const),
      ]).finally(watch.stop);
      if (outcome === "vanished") {
        if (resubmit === undefined)
          throw new CanonError(
            "E_JOB_FAILED",
            `job ${jobId} vanished from the queue (did Redis restart without its data?)`,
            { exitCode: 3 },
          );
        await this.resubmitted(resubmit);
        continue;
      }
      if ("value" in outcome) return outcome.value;
      const reason = (outcome.error as Error).message;
      if (reason.startsWith(REJECTED_CASE)) throw new RejectedCaseError(reason.slice(REJECTED_CASE.length));
      // A worker fails bad input at once, as "<code>: <message>": it is the submitter's error.
      const badInput = /^(E_[A-Z_]+): (.*)$/s.exec(reason);
      const code = badInput?.[1];
      if (code !== undefined && (ERROR_CODES as readonly string[]).includes(code))
        throw new InputError(code as ErrorCode, `${badInput?.[2] ?? reason} (job ${jobId})`);
      throw new CanonError("E_JOB_FAILED", `job ${jobId} failed: ${reason}`, { exitCode: 3 });
    }
  }

  /** `resubmit()`, tried again while Redis does not answer (it may be restarting). */
  private async resubmitted(resubmit: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        await resubmit();
        return;
      } catch (error) {
        if (!(error instanceof CanonError && error.code === "E_QUEUE_UNAVAILABLE")) throw error;
        await sleep(VANISH_CHECK_MS);
      }
    }
  }

  /** Disconnects; a Redis that never answered is not waited for. */
  async close(): Promise<void> {
    const timer = this.watchTimer;
    this.watchTimer = undefined;
    if (timer !== undefined) clearTimeout(timer);
    await answered(this.events?.then((events) => events.close()) ?? Promise.resolve()).catch(() => undefined);
    await answered(this.queue.close()).catch(() => this.queue.disconnect());
  }
}
