/** VerificationReport (docs/design.md §2, §5). */
import * as z from "zod";
import { idOf, JsonObject } from "./common.js";

export const REPORT_VERSION = "1";
export const POLICIES = ["strict", "audit", "permissive"] as const;
export type Policy = (typeof POLICIES)[number];
export const SEVERITIES = ["error", "warning", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const Finding = z.strictObject({
  check: z.string(),
  invariant: z.string(),
  severity: z.enum(SEVERITIES),
  code: z.string(),
  message: z.string(),
});
export type Finding = z.infer<typeof Finding>;

export const CheckResult = z.strictObject({
  name: z.string(),
  invariant: z.string(),
  passed: z.boolean(),
  details: z.string(),
  metrics: JsonObject,
});
export type CheckResult = z.infer<typeof CheckResult>;

export const VerificationReport = z.strictObject({
  id: idOf("report"),
  version: z.literal(REPORT_VERSION),
  policy: z.enum(POLICIES),
  verdict: z.enum(["pass", "fail"]),
  checks: z.array(CheckResult),
  failures: z.array(Finding),
  summary: z.strictObject({
    checks: z.int(),
    passed: z.int(),
    failed: z.int(),
    errors: z.int(),
    warnings: z.int(),
    infos: z.int(),
  }),
});
export type VerificationReport = z.infer<typeof VerificationReport>;
