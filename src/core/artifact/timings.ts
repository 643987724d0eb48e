/**
 * volatile/timings.json (docs/design.md §4): wall-clock timings of a run, never fingerprinted, never
 * compared. Only pages show them; read as untrusted input, so anything that does not parse is
 * simply not shown.
 */
import * as z from "zod";

export const VOLATILE_TIMINGS = "volatile/timings.json";

export const StepTiming = z.strictObject({ node_id: z.string(), kind: z.string(), ms: z.number().min(0) });
export type StepTiming = z.infer<typeof StepTiming>;

export const RunTimings = z.object({
  prepare_ms: z.number().min(0).optional(),
  produce_ms: z.number().min(0).optional(),
  /** Each plan step's duration, in execution order (runs written before 0.2 have none). */
  steps: z.array(StepTiming).max(10_000).optional(),
});
export type RunTimings = z.infer<typeof RunTimings>;
