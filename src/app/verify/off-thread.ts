/**
 * Verification off the event loop: the service verifies runs (POST /v1/runs/{id}/verify, and the
 * run page, whose checks run now) in worker threads, so a slow or hostile run never stops it
 * answering /health or shutting down on SIGTERM (issue 19). `verify-thread.ts` is the other side.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { CanonError, type ErrorCode } from "../../core/errors.js";
import type { VerificationReport } from "../../core/models/verification-report.js";
import type { RenderedPage } from "../../core/report/html.js";
import { runReport } from "../report-pages.js";
import { type VerifyDirectoryOptions, verifyRunDirectory } from "./verify.js";

/** What a worker thread is asked to do: verify a run directory, or verify it and render its page. */
export type OffThreadTask =
  | { kind: "verify"; runDir: string; options: VerifyDirectoryOptions }
  | { kind: "page"; runDir: string; options: VerifyDirectoryOptions };

/** Does a task on this thread: what the worker runs, and the fallback without a compiled worker. */
export function runTask(task: OffThreadTask): VerificationReport | RenderedPage {
  return task.kind === "verify"
    ? verifyRunDirectory(task.runDir, task.options)
    : runReport(task.runDir, task.options.storeRoot);
}

interface OffThreadReply {
  result?: unknown;
  error?: { code?: ErrorCode; exitCode?: 1 | 2 | 3; message: string; where?: CanonError["where"] };
}

/** At most this many verifications run at once in the service; the rest wait their turn. */
const MAX_OFF_THREAD = Math.max(1, availableParallelism());
const running = new Set<Worker>();
const waiting: Array<{ go: () => void; stop: (error: Error) => void }> = [];

/**
 * Stops every verification running off the thread, and fails those waiting for a thread: a
 * server shutting down does not wait for them (their requests end with an error).
 */
export async function stopOffThreadWork(): Promise<void> {
  for (const waiter of waiting.splice(0)) waiter.stop(new Error("the service is shutting down"));
  await Promise.all([...running].map((w) => w.terminate()));
}

const WORKER = new URL("./verify-thread.js", import.meta.url);

/**
 * Runs a task in a worker thread, so the caller's event loop stays free however long the run
 * takes to read and verify (the service answers /health and SIGTERM meanwhile). Run from the
 * TypeScript sources (a test runner) there is no compiled worker: the task runs on this thread.
 */
async function offThread(task: OffThreadTask): Promise<unknown> {
  if (!existsSync(fileURLToPath(WORKER))) return runTask(task);
  while (running.size >= MAX_OFF_THREAD) await new Promise<void>((go, stop) => waiting.push({ go, stop }));
  const worker = new Worker(WORKER, { workerData: task });
  running.add(worker);
  try {
    return await new Promise<unknown>((resolve, reject) => {
      worker.once("message", (reply: OffThreadReply) => {
        if (reply.error === undefined) return resolve(reply.result);
        const e = reply.error;
        reject(
          e.code === undefined
            ? new Error(`verification failed: ${e.message}`)
            : new CanonError(e.code, e.message, { exitCode: e.exitCode ?? 3, where: e.where ?? {} }),
        );
      });
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`the verification thread stopped (exit code ${code})`)));
    });
  } finally {
    running.delete(worker);
    void worker.terminate();
    waiting.shift()?.go();
  }
}

/** verifyRunDirectory in a worker thread (see offThread). */
export async function verifyOffThread(
  runDir: string,
  options: VerifyDirectoryOptions,
): Promise<VerificationReport> {
  return (await offThread({ kind: "verify", runDir, options })) as VerificationReport;
}

/** A run's page (its checks run now), made in a worker thread (see offThread). */
export async function runPageOffThread(runDir: string, storeRoot: string): Promise<RenderedPage> {
  return (await offThread({ kind: "page", runDir, options: { policy: "audit", storeRoot } })) as RenderedPage;
}
