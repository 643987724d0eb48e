/**
 * The verifier (SPEC §5): independent of the producer, it reads only the run's files (and the
 * store), trusts no recorded id or hash, runs every check, and only then applies the policy.
 * Checks never stop the others: an auditor needs the whole report. Checks return typed
 * findings; severity and wording are applied here, once.
 */

import { toRunView } from "../artifact/view.js";
import { withId } from "../canonical.js";
import {
  type Policy,
  REPORT_VERSION,
  type Finding as ReportedFinding,
  type VerificationReport,
} from "../models/report.js";
import type { Check, CheckContext, CheckOutcome, StoreReader } from "./check.js";
import { citationBytesCheck } from "./checks/citation-bytes.js";
import { claimLinksCheck } from "./checks/claim-links.js";
import { contentIdsCheck } from "./checks/content-ids.js";
import { evidenceFilesCheck } from "./checks/evidence-files.js";
import { evidenceOriginCheck } from "./checks/evidence-origin.js";
import { groundingCheck } from "./checks/grounding.js";
import { manifestCheck } from "./checks/manifest.js";
import { outcomeCheck } from "./checks/outcome.js";
import { planDagCheck } from "./checks/plan-dag.js";
import { retrievalProvenanceCheck } from "./checks/retrieval-provenance.js";
import { schemasCheck } from "./checks/schemas.js";
import { signatureCheck } from "./checks/signature.js";
import { toolLinkageCheck } from "./checks/tool-linkage.js";
import { traceOrderCheck } from "./checks/trace-order.js";
import { finding, severityOf } from "./findings.js";
import { renderFinding } from "./messages.js";

export type { StoreReader } from "./check.js";

export interface VerifyInput {
  files: ReadonlyMap<string, Uint8Array>;
  store: StoreReader;
  policy: Policy;
  /** "sealing": called by the run writer before report.json and manifest.json exist. */
  stage: "sealing" | "sealed";
  publicKeyPem?: string;
  /** Entries of the run directory that were not read (symlinks, special or oversized files). */
  anomalies?: ReadonlyArray<{ path: string; reason: string }>;
}

/** The checks after `schemas` (which reports what the adapter found), in SPEC §5 table order. */
export const CHECKS: readonly Check[] = [
  contentIdsCheck,
  planDagCheck,
  traceOrderCheck,
  toolLinkageCheck,
  claimLinksCheck,
  groundingCheck,
  citationBytesCheck,
  evidenceFilesCheck,
  evidenceOriginCheck,
  retrievalProvenanceCheck,
  outcomeCheck,
  manifestCheck,
  signatureCheck,
];

export interface CheckDescription {
  name: string;
  invariant: string;
  description: string;
}

/** Name, invariant and description of every check, in report order, for docs and `verify --help`. */
export function describeChecks(): CheckDescription[] {
  return [schemasCheck([]), ...CHECKS].map(({ name, invariant, description }) => ({
    name,
    invariant,
    description,
  }));
}

function runCheck(check: Check, run: () => CheckOutcome): CheckOutcome {
  try {
    return run();
  } catch (e) {
    // A check that throws on hostile input is a failed check, never a crashed verifier.
    const error = e instanceof Error ? e.message : String(e);
    return {
      findings: [finding("CHECK_CRASHED", { check: check.name, error })],
      details: "could not complete",
    };
  }
}

export function verifyRun(input: VerifyInput): VerificationReport {
  const { view, problems: parseFindings } = toRunView(input.files, input.anomalies ?? []);
  const context: CheckContext = {
    store: input.store,
    stage: input.stage,
    ...(input.publicKeyPem === undefined ? {} : { publicKeyPem: input.publicKeyPem }),
  };
  const checks: VerificationReport["checks"] = [];
  const failures: ReportedFinding[] = [];
  for (const check of [schemasCheck(parseFindings), ...CHECKS]) {
    const outcome = runCheck(check, () => check.run(view, context));
    // Policy (SPEC §5): strict fails on warnings too, audit on errors only, permissive hides warnings.
    const reported = outcome.findings
      .map((f) => ({ ...f, severity: severityOf(f.code) }))
      .filter((f) => input.policy !== "permissive" || f.severity !== "warning");
    const failing = reported.filter(
      (f) => f.severity === "error" || (input.policy === "strict" && f.severity === "warning"),
    );
    checks.push({
      name: check.name,
      invariant: check.invariant,
      passed: failing.length === 0,
      details: outcome.details,
      metrics: outcome.metrics ?? {},
    });
    for (const f of reported)
      failures.push({
        check: check.name,
        invariant: check.invariant,
        severity: f.severity,
        code: f.code,
        message: renderFinding(f),
      });
  }
  const count = (s: ReportedFinding["severity"]) => failures.filter((f) => f.severity === s).length;
  const passed = checks.filter((c) => c.passed).length;
  return withId("report", {
    version: REPORT_VERSION,
    policy: input.policy,
    verdict: passed === checks.length ? "pass" : "fail",
    checks,
    failures,
    summary: {
      checks: checks.length,
      passed,
      failed: checks.length - passed,
      errors: count("error"),
      warnings: count("warning"),
      infos: count("info"),
    },
  }) as VerificationReport;
}
