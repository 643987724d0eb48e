/** A worker thread of `eval --workers N`: runs its share of the cases and posts each result. */
import { parentPort, workerData } from "node:worker_threads";
import { CanonError } from "../../core/errors.js";
import type { EvalInput } from "../../io/eval/eval-input.js";
import { pacer } from "../../io/model/llm-endpoint.js";
import type { WorkerFailure } from "./eval.js";
import { runCaseOrFailure } from "./eval-cases.js";
import { type EvalOptions, EvalRetrievals } from "./eval-retrievals.js";

const { input, indices, snapshot, options, maxRps } = workerData as {
  input: EvalInput;
  indices: number[];
  snapshot: string;
  options: EvalOptions;
  maxRps: number;
};
const pace = pacer(maxRps);
// The parent built the index before starting workers: each worker loads it from the store once.
const retrievals = new EvalRetrievals(input, options, snapshot);
/** In a function: the bundle in dist/bin/ is CommonJS, which has no top-level await. */
async function runShare(): Promise<void> {
  try {
    for (const [k, c] of input.cases.entries()) {
      parentPort?.postMessage({
        index: indices[k],
        result: await runCaseOrFailure(c, retrievals, options, pace),
      });
    }
  } catch (error) {
    // Errors cross the thread boundary as plain objects: send the code and exit status explicitly,
    // so bad input found in a worker still exits 2 in the parent.
    if (!(error instanceof CanonError)) throw error;
    const failure: WorkerFailure = {
      code: error.code,
      message: error.message,
      exitCode: error.exitCode,
      where: { ...error.where },
    };
    parentPort?.postMessage({ canon: failure });
  }
}

void runShare();
