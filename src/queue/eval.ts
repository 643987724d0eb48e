/**
 * `eval --queue`: the same eval as app/eval.ts, with each case a job that any worker may run.
 * The submitting process snapshots the corpus once and shares the snapshot through the
 * registry; workers answer each case with the same `runCase` a local eval uses, so the
 * gathered results — ordered by case, nothing time-dependent in them — give byte-identical
 * cases.jsonl and summary.json whatever the number or placement of workers.
 */
import { performance } from "node:perf_hooks";
import {
  type CaseResult,
  checkCases,
  type EvalOptions,
  type EvalOutcome,
  EvalRetrievals,
  evalTimings,
  summarize,
} from "../app/eval.js";
import { prepareArtifactsDir } from "../io/artifacts.js";
import type { EvalInput } from "../io/eval-input.js";
import { DiskStore } from "../io/store.js";
import type { PgRegistry } from "../registry/postgres.js";
import type { JobQueue } from "./queue.js";

export async function runEvalOnQueue(
  input: EvalInput,
  options: EvalOptions,
  queue: JobQueue,
  registry: PgRegistry,
): Promise<EvalOutcome> {
  const started = performance.now();
  checkCases(input, options);
  prepareArtifactsDir(options.artifactsRoot);
  // Snapshotted (and indexed) here once; workers fetch the snapshot from the registry.
  const snapshot = await new EvalRetrievals(input, options).snapshotHash();
  const bytes = new DiskStore(options.artifactsRoot).get(snapshot);
  if (bytes === null) throw new Error(`snapshot ${snapshot} vanished from the store`);
  await registry.putObject(bytes);
  const ids: string[] = [];
  for (const { where: _where, ...plain } of input.cases)
    ids.push(
      await queue.submit({
        kind: "case",
        case: plain,
        snapshot,
        preset: options.preset,
        overrides: options.overrides,
      }),
    );
  options.progress?.start("cases", ids.length);
  let done = 0;
  const cases = await Promise.all(
    ids.map(async (id) => {
      const result = (await queue.result(id)) as CaseResult;
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
