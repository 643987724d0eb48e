/**
 * The verifier (docs/design.md §5): independent of the producer, it reads only the run's files (and the
 * store), trusts no recorded id or hash, runs every check, and only then applies the policy.
 * Checks never stop the others: an auditor needs the whole report. Checks return typed
 * findings; severity and wording are applied here, once.
 */

import { isUnfingerprinted, RUN_FILES } from "../artifact/files.js";
import type { ReadProblem } from "../artifact/read-problems.js";
import { type RunView, toRunView } from "../artifact/view.js";
import { withId } from "../canonical.js";
import {
  type CheckResult,
  type Policy,
  REPORT_VERSION,
  type Finding as ReportedFinding,
  type VerificationReport,
} from "../models/verification-report.js";
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
import { rederiveCheck } from "./checks/rederive.js";
import { reportRecomputeCheck } from "./checks/report-recompute.js";
import { retrievalProvenanceCheck } from "./checks/retrieval-provenance.js";
import { retrievalRecomputeCheck } from "./checks/retrieval-recompute.js";
import { schemasCheck } from "./checks/schemas.js";
import { signatureCheck } from "./checks/signature.js";
import { toolLinkageCheck } from "./checks/tool-linkage.js";
import { traceOrderCheck } from "./checks/trace-order.js";
import { finding, severityOf } from "./findings.js";
import { renderFinding } from "./messages.js";
import type { RebuildRecords } from "./pinned-index.js";

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
  /** The name of the run directory, which must be the run id (docs/design.md §4). */
  runDirName?: string;
  /** An unsigned run fails (`verify --require-signature`). */
  requireSignature?: boolean;
  /** Rebuilds of an index already seen to agree; without them, every verification rebuilds. */
  rebuilds?: RebuildRecords;
}

/** A run's files as the one adapter parsed them: `toRunView(files, anomalies)`. */
export interface ParsedRun {
  view: RunView;
  problems: readonly ReadProblem[];
}

/** Every check, in docs/design.md §5 table order: `schemas` first, reporting what the adapter found. */
export const CHECKS: readonly Check[] = [
  schemasCheck,
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
  retrievalRecomputeCheck,
  rederiveCheck,
  outcomeCheck,
  manifestCheck,
  signatureCheck,
  reportRecomputeCheck,
];

export interface CheckDescription {
  name: string;
  invariant: string;
  description: string;
}

/** Name, invariant and description of every check, in report order, for docs and `verify --help`. */
export function describeChecks(): CheckDescription[] {
  return CHECKS.map(({ name, invariant, description }) => ({
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

interface CheckRecord {
  result: CheckResult;
  failures: ReportedFinding[];
}

/** Runs every check over one view; policy decides which findings fail a check (docs/design.md §5). */
function runChecks(
  view: RunView,
  context: CheckContext,
  policy: Policy,
  outcomes: Map<string, CheckOutcome>,
): CheckRecord[] {
  return CHECKS.map((check) => {
    const reusable = check.readsSeal === undefined ? outcomes.get(check.name) : undefined;
    const outcome = reusable ?? runCheck(check, () => check.run(view, context));
    outcomes.set(check.name, outcome);
    // Strict fails on warnings too, audit on errors only, permissive hides warnings.
    const reported = outcome.findings
      .map((f) => ({ ...f, severity: severityOf(f.code) }))
      .filter((f) => policy !== "permissive" || f.severity !== "warning");
    const failing = reported.filter(
      (f) => f.severity === "error" || (policy === "strict" && f.severity === "warning"),
    );
    return {
      result: {
        name: check.name,
        invariant: check.invariant,
        passed: failing.length === 0,
        details: outcome.details,
        metrics: outcome.metrics ?? {},
      },
      failures: reported.map((f) => ({
        check: check.name,
        invariant: check.invariant,
        severity: f.severity,
        code: f.code,
        message: renderFinding(f),
      })),
    };
  });
}

function assembleReport(policy: Policy, records: readonly CheckRecord[]): VerificationReport {
  const checks = records.map((r) => r.result);
  const failures = records.flatMap((r) => r.failures);
  const count = (s: ReportedFinding["severity"]) => failures.filter((f) => f.severity === s).length;
  const passed = checks.filter((c) => c.passed).length;
  return withId("report", {
    version: REPORT_VERSION,
    policy,
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

/** The files sealed after the report (report, manifest, signature) and volatile/, which is never sealed. */
const afterReport = (path: string) => path === RUN_FILES.report || isUnfingerprinted(path);

/** Verifies a run from its bytes: parsed by the one adapter (core/artifact/view.ts), then checked. */
export function verifyRun(input: VerifyInput): VerificationReport {
  return verifyParsedRun(input, toRunView(input.files, input.anomalies ?? []));
}

/**
 * The checks and the policy over a run its caller parsed with the one adapter, over these very
 * files and anomalies: the run reader for a run on disk, the producer for the run it seals.
 */
export function verifyParsedRun(input: VerifyInput, parsed: ParsedRun): VerificationReport {
  const outcomes = new Map<string, CheckOutcome>();
  /**
   * The report the producer writes: every check at the sealing stage, policy audit, over the run
   * as it was before its report, manifest and signature existed. Checks that do not read those
   * files saw the same inputs in the sealed pass, so their outcomes are reused.
   */
  const sealingReport = () => {
    const view: RunView = {
      ...parsed.view,
      files: new Map([...input.files].filter(([path]) => !afterReport(path))),
      anomalies: [],
      report: null,
      manifest: null,
      signature: null,
    };
    const records = runChecks(
      view,
      {
        store: input.store,
        stage: "sealing",
        readProblems: parsed.problems.filter((p) => !afterReport(p.params.path)),
        rebuildIndex: "by-size",
        ...(input.rebuilds === undefined ? {} : { rebuilds: input.rebuilds }),
      },
      "audit",
      outcomes,
    );
    return assembleReport("audit", records);
  };
  const context: CheckContext = {
    store: input.store,
    stage: input.stage,
    readProblems: parsed.problems,
    rebuildIndex: input.policy === "strict" ? "always" : "by-size",
    ...(input.rebuilds === undefined ? {} : { rebuilds: input.rebuilds }),
    ...(input.publicKeyPem === undefined ? {} : { publicKeyPem: input.publicKeyPem }),
    ...(input.runDirName === undefined ? {} : { runDirName: input.runDirName }),
    ...(input.requireSignature === true ? { requireSignature: true } : {}),
    ...(input.stage === "sealed" ? { sealingReport } : {}),
  };
  return assembleReport(input.policy, runChecks(parsed.view, context, input.policy, outcomes));
}
