/**
 * `eval --queue`: the same eval as app/eval/eval.ts, with each case a job that any worker may run.
 * The submitting process snapshots the corpus once and shares the snapshot through the
 * registry; workers answer each case with the same `runCase` a local eval uses, so the
 * gathered results — ordered by case, nothing time-dependent in them — give byte-identical
 * cases.jsonl and summary.json whatever the number or placement of workers.
 */
import { performance } from "node:perf_hooks";
import {
  type CaseResult,
  checkCases,
  type EvalInput,
  type EvalOptions,
  type EvalOutcome,
  evalTimings,
  failedCase,
  summarize,
} from "../app/eval/eval.js";
import type { PgRegistry } from "../app/registry.js";
import { prepareArtifactsDir } from "../app/store/artifacts.js";
import { corpusSnapshot } from "../app/store/corpus.js";
import { type JobData, type JobQueue, RejectedCaseError } from "./queue.js";

/** Job submissions in flight at once. */
const SUBMIT_AT_ONCE = 32;

/**
 * `warn`: one line per warning (the CLI writes them to stderr): Redis settings that can lose
 * jobs, and each job that vanished from Redis and was submitted again.
 */
export async function runEvalOnQueue(
  input: EvalInput,
  options: EvalOptions,
  queue: JobQueue,
  registry: PgRegistry,
  warn: (line: string) => void = () => undefined,
): Promise<EvalOutcome> {
  const started = performance.now();
  checkCases(input, options);
  prepareArtifactsDir(options.artifactsRoot);
  for (const line of await queue.persistenceCheck()) warn(line);
  // Snapshotted here once, not indexed: each worker builds (or has) the index, and the
  // submitter's own build would only delay the first job. Workers fetch the snapshot from the registry.
  // A pinned hash is checked to name a snapshot before it is shared.
  const { hash: snapshot, bytes } = await corpusSnapshot(options.artifactsRoot, input.corpus);
  await registry.putObject(bytes);
  const jobs: Array<{ id: string; data: JobData }> = [];
  const payloads: JobData[] = input.cases.map(({ where: _where, ...plain }) => ({
    kind: "case",
    case: plain,
    snapshot,
    preset: options.preset,
    overrides: options.overrides,
  }));
  // SUBMIT_AT_ONCE submissions in flight (two round trips each), in case order: the first
  // jobs are queued while the rest are still being sent, and the submitter's start is shorter.
  for (let i = 0; i < payloads.length; i += SUBMIT_AT_ONCE) {
    const chunk = payloads.slice(i, i + SUBMIT_AT_ONCE);
    const ids = await Promise.all(chunk.map((data) => queue.submit(data)));
    chunk.forEach((data, k) => {
      jobs.push({ id: ids[k] as string, data });
    });
  }
  options.progress?.start("cases", jobs.length);
  let done = 0;
  // A job Redis lost (restarted without its data) is submitted again: the same id, the same
  // work; a worker finds a finished one's record in the registry and does not compute it again.
  let vanished = 0;
  const cases = await Promise.all(
    jobs.map(async ({ id, data }) => {
      const result = (await queue
        .result(id, async () => {
          await queue.submit(data);
          if (vanished++ === 0)
            warn("jobs vanished from the queue (did Redis restart without its data?): submitting them again");
        })
        .catch((error: unknown) => {
          // The endpoint rejected this case's request: a failed case, as in a local eval.
          if (!(error instanceof RejectedCaseError) || data.kind !== "case") throw error;
          warn(`case ${data.case.case_id} failed: ${error.reason}`);
          return failedCase(data.case, error.reason);
        })) as CaseResult;
      options.progress?.update(++done);
      return result;
    }),
  );
  options.progress?.stop();
  return {
    cases,
    summary: summarize(input, cases, options),
    timings: evalTimings(cases.length, (performance.now() - started) / 1000, { queue: true }),
  };
}
