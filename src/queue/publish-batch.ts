/**
 * A worker's publishing, batched (group commit): the runs of the jobs a worker finishes while a
 * batch is being written wait, and go together in the next one — one statement, one commit and
 * one WAL flush for all of them (registry/pg-publish.ts). Nothing waits for company: a run
 * finished while no batch is in flight is written at once, so batching adds no latency when
 * there is nothing to batch, and amortizes the commit when there is.
 *
 * A job is acknowledged (completed in Redis) only after `publish` resolved, which is after its
 * batch committed: a job is never acknowledged before its run is durable. A crash loses only
 * un-acknowledged work, which is taken over and computed again; run and job ids are
 * content-derived, so publishing it again is idempotent.
 *
 * A batch that fails for the registry's sake (PostgreSQL away) fails every job in it, each of
 * which is retried; a batch that fails for another reason is written again one job at a time,
 * so that one job's bad run (say a pinned object missing from the store) fails that job alone.
 */
import { performance } from "node:perf_hooks";
import type { PublishRequest } from "../app/registry.js";
import { CanonError } from "../core/errors.js";

/** Runs per batch at most: bounds the statement's size and the wait of the last one in it. */
export const PUBLISH_BATCH_RUNS = 32;

/** A published job: whether this worker recorded it, and the batch it went in (its runs, and the write's time). */
export interface Published {
  recorded: boolean;
  batch: { runs: number; ms: number };
}

interface Waiting {
  request: PublishRequest;
  resolve: (published: Published) => void;
  reject: (error: unknown) => void;
}

export interface BatchStats {
  batches: number;
  runs: number;
}

export class PublishBatcher {
  private waiting: Waiting[] = [];
  private flushing = false;
  /** How many batches were written, and how many runs they held (for logs and benchmarks). */
  readonly stats: BatchStats = { batches: 0, runs: 0 };

  constructor(
    private readonly registry: { publishJobs(requests: readonly PublishRequest[]): Promise<boolean[]> },
    private readonly maxRuns = PUBLISH_BATCH_RUNS,
  ) {}

  /** Resolves once the run and its job record are committed. */
  publish(request: PublishRequest): Promise<Published> {
    return new Promise<Published>((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // The jobs finishing in this same turn of the event loop go in the same batch.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, this.maxRuns);
        this.stats.batches++;
        this.stats.runs += batch.length;
        const started = performance.now();
        try {
          const recorded = await this.registry.publishJobs(batch.map((w) => w.request));
          const ms = Math.round((performance.now() - started) * 1000) / 1000;
          for (const [i, w] of batch.entries())
            w.resolve({ recorded: recorded[i] === true, batch: { runs: batch.length, ms } });
        } catch (error) {
          const unavailable = error instanceof CanonError && error.code === "E_REGISTRY_UNAVAILABLE";
          if (batch.length === 1 || unavailable) {
            for (const w of batch) w.reject(error);
            continue;
          }
          for (const w of batch) {
            const alone = performance.now();
            await this.registry.publishJobs([w.request]).then(
              ([recorded]) =>
                w.resolve({
                  recorded: recorded === true,
                  batch: { runs: 1, ms: Math.round((performance.now() - alone) * 1000) / 1000 },
                }),
              (error: unknown) => w.reject(error),
            );
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
