/**
 * What `eval` writes (docs/design.md §7), read back: one line of cases.jsonl, summary.json and
 * timings.json. Read by `report --eval` and `--baseline`, so parsed as untrusted input. Fields
 * the page does not need are allowed and ignored; the run id must be a run id, since pages
 * link to it by name.
 *
 * summary.json holds only what the suite, the preset and the overrides determine, so a local
 * and a distributed eval of the same suite write it byte for byte alike; what depends on the
 * clock or the topology (wall time, worker threads, the queue) goes to timings.json beside it.
 */
import * as z from "zod";
import { idOf } from "../models/common.js";

export const EvalCaseLine = z.object({
  case_id: z.string().min(1),
  /** Null for a failed case (its model call was rejected, no run was made). */
  run_id: idOf("run").nullable(),
  status: z.enum(["answered", "insufficient_evidence", "failed"]),
  verdict: z.enum(["pass", "fail"]),
  answerable: z.boolean().optional(),
  confidence: z.number().optional(),
  metrics: z.record(z.string(), z.number().nullable()),
  error: z.string().optional(),
});
export type EvalCaseLine = z.infer<typeof EvalCaseLine>;

export const EvalSummaryFile = z.object({
  suite: z.string(),
  cases: z.int().min(0).optional(),
  failed_cases: z.int().min(0).optional(),
  metrics: z.record(z.string(), z.object({ mean: z.number().nullable(), cases: z.int().min(0) })),
  config: z.object({ preset: z.string().optional() }).optional(),
  /** Summaries written before timings.json existed carried the wall time here; still read. */
  volatile: z.object({ seconds: z.number().optional(), workers: z.number().optional() }).optional(),
});
export type EvalSummaryFile = z.infer<typeof EvalSummaryFile>;

/** timings.json: wall-clock time and topology, never compared, never gated. */
export const EvalTimingsFile = z.object({
  seconds: z.number().min(0),
  run_time_ms_per_case: z.number().min(0).nullable().optional(),
  /** Worker threads of a local eval; null when the cases went through a queue. */
  workers: z.int().min(1).nullable().optional(),
  queue: z.boolean().optional(),
});
export type EvalTimingsFile = z.infer<typeof EvalTimingsFile>;

/** An eval output folder, read: its summary, its cases in file order, and its timings when usable. */
export interface EvalResults {
  summary: EvalSummaryFile;
  cases: EvalCaseLine[];
  timings: EvalTimingsFile | null;
}

/** The eval's wall time: from timings.json, else from an older summary's `volatile` part. */
export function evalSeconds(results: Pick<EvalResults, "summary" | "timings">): number | undefined {
  return results.timings?.seconds ?? results.summary.volatile?.seconds;
}
