/**
 * A run made in process by the same runJob every edge calls, over a small corpus written to a
 * temporary folder (SMALL_CORPUS unless given) into a temporary artifacts root: for unit tests of
 * the app/ use cases (verify, replay, diff, gc) that need a real run on disk without spawning the
 * CLI. The run must pass its sealing verification, or this throws.
 */
import { type RunJobOptions, type RunJobResult, runJob } from "../../src/app/run/run-job.js";
import type { ProblemSpec } from "../../src/core/models/spec.js";
import { SMALL_CORPUS } from "./produce.js";
import { tempDir, writeFiles } from "./tmp.js";

export const JOB_QUESTION = "How is a trick won in contract bridge?";

export interface JobRunOptions {
  question?: string;
  /** A corpus path, or documents to write into a new temporary folder; SMALL_CORPUS unless given. */
  corpus?: string | Record<string, string>;
  /** The artifacts root; a new temporary folder unless given. */
  root?: string;
  constraints?: Omit<ProblemSpec["constraints"], "corpus">;
  seal?: RunJobOptions["seal"];
}

export interface JobRun extends RunJobResult {
  root: string;
  /** The corpus folder or file the spec named. */
  corpus: string;
}

export async function jobRun(options: JobRunOptions = {}): Promise<JobRun> {
  const root = options.root ?? tempDir();
  let corpus = typeof options.corpus === "string" ? options.corpus : undefined;
  if (corpus === undefined) {
    corpus = tempDir();
    writeFiles(corpus, typeof options.corpus === "object" ? options.corpus : SMALL_CORPUS);
  }
  const question = options.question ?? JOB_QUESTION;
  const result = await runJob({
    spec: { version: "1", description: question, constraints: { ...options.constraints, corpus } },
    preset: "default",
    seed: 0,
    artifactsRoot: root,
    ...(options.seal === undefined ? {} : { seal: options.seal }),
  });
  if (result.report.verdict !== "pass")
    throw new Error(`the run failed its sealing verification: ${question}`);
  return { ...result, root, corpus };
}
