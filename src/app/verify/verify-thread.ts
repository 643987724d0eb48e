/**
 * The worker-thread side of off-thread.ts: reads one run directory through the one run reader,
 * verifies it (and, for a page, renders it) and sends the result back. A typed error travels as
 * its code, exit code and message, so the parent rethrows the same error.
 */
import { parentPort, workerData } from "node:worker_threads";
import { CanonError } from "../../core/errors.js";
import { type OffThreadTask, runTask } from "./off-thread.js";

const port = parentPort;
if (port !== null) {
  try {
    port.postMessage({ result: runTask(workerData as OffThreadTask) });
  } catch (error) {
    port.postMessage({
      error:
        error instanceof CanonError
          ? { code: error.code, exitCode: error.exitCode, message: error.message, where: error.where }
          : { message: error instanceof Error ? error.message : String(error) },
    });
  }
}
