/** The schema version of every artifact a run holds (docs/design.md §10): what run.json records and readers accept. */
import { PLAN_VERSION } from "../models/plan.js";
import { MANIFEST_VERSION, RUN_VERSION } from "../models/run.js";
import { SPEC_VERSION } from "../models/spec.js";
import { TRACE_VERSION } from "../models/trace.js";
import { REPORT_VERSION } from "../models/verification-report.js";

export const SCHEMA_VERSIONS = {
  spec: SPEC_VERSION,
  plan: PLAN_VERSION,
  trace: TRACE_VERSION,
  run: RUN_VERSION,
  report: REPORT_VERSION,
  manifest: MANIFEST_VERSION,
} as const;
