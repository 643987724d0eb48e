/**
 * Evaluation runs (docs/design.md §7): every case is a real run, written like any other; metrics are
 * computed from the suite's judgments. Cases may run in worker threads; results are ordered
 * by case and contain nothing time-dependent, so any worker count gives identical cases.jsonl
 * and summary.json. Wall time and topology go to timings.json, which nothing compares.
 */

import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { canonicalJson } from "../../core/canonical.js";
import { CanonError, type ErrorCode, type ErrorLocation } from "../../core/errors.js";
import type { EvalInput } from "../../io/eval/eval-input.js";
import { EVAL_FILES, prepareEvalOutputFolder, publishEvalOutput } from "../../io/eval/eval-output.js";
import { pacer } from "../../io/model/llm-endpoint.js";
import { inArtifactsDir } from "../../io/store/artifacts.js";
import { type CaseResult, checkCases, runCaseOrFailure } from "./eval-cases.js";
import { type EvalOptions, EvalRetrievals } from "./eval-retrievals.js";
import { type EvalSummary, type EvalTimings, evalTimings, summarize } from "./eval-summary.js";

export { regressions } from "../../core/eval/gate.js";
export {
  type EvalCase,
  type EvalInput,
  loadBeir,
  loadSuite,
  readBaseline,
  withRationales,
} from "../../io/eval/eval-input.js";
export { readEvalBaseline, readEvalResults } from "../../io/eval/eval-output.js";
export {
  type CaseResult,
  checkCases,
  failedCase,
  rejectedByEndpoint,
  runCase,
  runCaseOrFailure,
} from "./eval-cases.js";
export { type EvalOptions, EvalRetrievals } from "./eval-retrievals.js";
export {
  calibrationOf,
  type EvalSummary,
  type EvalTimings,
  type EvalTopology,
  evalTimings,
  summarize,
} from "./eval-summary.js";

/** What an eval produces: its cases in suite order, summary.json and timings.json. */
export interface EvalOutcome {
  cases: CaseResult[];
  summary: EvalSummary;
  timings: EvalTimings;
}

/** A worker's failure, rebuilt in the parent with its code and exit status (bad input stays exit 2). */
function workerFailure(error: unknown): Error {
  if (typeof error === "object" && error !== null && "canon" in error) {
    const { code, message, exitCode, where } = (error as { canon: WorkerFailure }).canon;
    return new CanonError(code, message, { exitCode, where });
  }
  return error instanceof Error ? error : new Error(String(error));
}

export interface WorkerFailure {
  code: ErrorCode;
  message: string;
  exitCode: 1 | 2 | 3;
  where: ErrorLocation;
}

export async function runEval(input: EvalInput, options: EvalOptions): Promise<EvalOutcome> {
  const started = performance.now();
  checkCases(input, options);
  return inArtifactsDir(options.artifactsRoot, () => runEvalIn(input, options, started));
}

async function runEvalIn(input: EvalInput, options: EvalOptions, started: number): Promise<EvalOutcome> {
  // Built (or loaded) here once, before any worker starts, so workers only ever load it.
  const retrievals = new EvalRetrievals(input, options);
  const snapshot = await retrievals.snapshotHash();
  const results: CaseResult[] = new Array(input.cases.length);
  options.progress?.start("cases", input.cases.length);
  let done = 0;
  const tick = () => options.progress?.update(++done);
  if (options.workers <= 1) {
    const pace = pacer(options.model?.maxRps ?? 0);
    for (const [i, c] of input.cases.entries()) {
      results[i] = await runCaseOrFailure(c, retrievals, options, pace);
      tick();
    }
  } else {
    // Cases are dealt round-robin; each worker loads the cached index from the store itself.
    const shards = Array.from({ length: Math.min(options.workers, input.cases.length) }, (_, w) =>
      input.cases.map((c, i) => ({ c, i })).filter(({ i }) => i % options.workers === w),
    );
    await Promise.all(
      shards.map(
        (shard) =>
          new Promise<void>((resolveShard, reject) => {
            const worker = new Worker(new URL("./eval-case-thread.js", import.meta.url), {
              workerData: {
                input: { ...input, cases: shard.map((s) => s.c) },
                indices: shard.map((s) => s.i),
                snapshot,
                options: { ...options, progress: undefined },
                // Each worker paces its own requests at its share of the bound.
                maxRps: (options.model?.maxRps ?? 0) / shards.length,
              },
            });
            worker.on("message", (m: { index: number; result: CaseResult } | { canon: WorkerFailure }) => {
              if ("canon" in m) return reject(workerFailure(m));
              results[m.index] = m.result;
              tick();
            });
            worker.on("error", (error) => reject(workerFailure(error)));
            worker.on("exit", (code) =>
              code === 0 ? resolveShard() : reject(new Error(`eval worker exited with code ${code}`)),
            );
          }),
      ),
    );
  }
  options.progress?.stop();
  return {
    cases: results,
    summary: summarize(input, results, options),
    timings: evalTimings(results.length, (performance.now() - started) / 1000, { workers: options.workers }),
  };
}

/**
 * Checks the output folder before any case runs: a file in the way of --out, or a folder
 * holding something else than eval output, is found at once (see prepareEvalOutputFolder).
 */
export function prepareEvalOutput(out: string): void {
  prepareEvalOutputFolder(out);
}

/**
 * Writes cases.jsonl (canonical JSON, one case per line), summary.json and timings.json, and
 * publishes them together with one rename of a staging folder (see publishEvalOutput).
 */
export function writeEvalOutput(out: string, outcome: EvalOutcome): void {
  publishEvalOutput(out, {
    [EVAL_FILES.cases]: outcome.cases.map((c) => `${canonicalJson(c)}\n`).join(""),
    [EVAL_FILES.summary]: `${JSON.stringify(outcome.summary, null, 2)}\n`,
    [EVAL_FILES.timings]: `${JSON.stringify(outcome.timings, null, 2)}\n`,
  });
}
