/**
 * What `eval` writes (SPEC §7), read back: one line of cases.jsonl and summary.json. Read by
 * `report --eval` and `--baseline`, so parsed as untrusted input. Fields the page does not
 * need are allowed and ignored; the run id must be a run id, since pages link to it by name.
 */
import { z } from "zod";
import { idOf } from "../models/common.js";

export const EvalCaseLine = z.object({
  case_id: z.string().min(1),
  run_id: idOf("run"),
  status: z.enum(["answered", "insufficient_evidence"]),
  verdict: z.enum(["pass", "fail"]),
  answerable: z.boolean().optional(),
  confidence: z.number().optional(),
  metrics: z.record(z.string(), z.number().nullable()),
});
export type EvalCaseLine = z.infer<typeof EvalCaseLine>;

export const EvalSummaryFile = z.object({
  suite: z.string(),
  cases: z.int().min(0).optional(),
  metrics: z.record(z.string(), z.object({ mean: z.number().nullable(), cases: z.int().min(0) })),
  config: z.object({ preset: z.string().optional() }).optional(),
  volatile: z.object({ seconds: z.number().optional(), workers: z.number().optional() }).optional(),
});
export type EvalSummaryFile = z.infer<typeof EvalSummaryFile>;

/** An eval output folder, read: its summary and its cases in file order. */
export interface EvalResults {
  summary: EvalSummaryFile;
  cases: EvalCaseLine[];
}
