/**
 * report_recompute (INV-REP-001): the stored report.json is the report this verifier writes
 * when it seals the run, check for check: none missing, none invented, none altered; and the
 * run directory is named by the run id (docs/design.md §4, §5). A forger who drops a failing check or
 * edits a verdict, then recomputes every id and the manifest, is caught here.
 *
 * A report written by an older verifier lacks this check; this verifier's newer checks are
 * then reported as info, not held against the stored report (docs/design.md §5).
 */
import { canonicalJson } from "../../canonical.js";
import type { VerificationReport } from "../../models/verification-report.js";
import type { Check } from "../check.js";
import { type Finding, finding } from "../findings.js";

export const REPORT_RECOMPUTE = "report_recompute";

/**
 * The check lists older verifiers wrote, in order (a report without report_recompute must be one
 * of them): the 14 checks of 0.1.0 up to issue 8. A report cut down to fewer checks matches none.
 */
const OLDER_CHECK_LISTS: ReadonlyArray<readonly string[]> = [
  [
    "schemas",
    "content_ids",
    "plan_dag",
    "trace_order",
    "tool_linkage",
    "claim_links",
    "grounding",
    "citation_bytes",
    "evidence_files",
    "evidence_origin",
    "retrieval_provenance",
    "outcome",
    "manifest",
    "signature",
  ],
];

/** One check's entry and its findings, as canonical JSON, for comparison. */
function checkEntry(report: VerificationReport, name: string): string | null {
  const check = report.checks.find((c) => c.name === name);
  if (check === undefined) return null;
  return canonicalJson({ check, failures: report.failures.filter((f) => f.check === name) });
}

function compareReports(stored: VerificationReport, expected: VerificationReport): Finding[] {
  const findings: Finding[] = [];
  const storedNames = stored.checks.map((c) => c.name);
  const expectedNames = new Set(expected.checks.map((c) => c.name));
  const writtenByThisVerifier = storedNames.includes(REPORT_RECOMPUTE);
  const olderList = OLDER_CHECK_LISTS.some(
    (list) => list.length === storedNames.length && list.every((name, i) => storedNames[i] === name),
  );
  for (const name of expectedNames)
    if (!storedNames.includes(name))
      findings.push(
        writtenByThisVerifier || !olderList
          ? finding("REPORT_CHECK_MISSING", { check: name })
          : finding("REPORT_CHECK_NEWER", { check: name }),
      );
  for (const name of storedNames) {
    if (!expectedNames.has(name)) findings.push(finding("REPORT_CHECK_INVENTED", { check: name }));
    else if (checkEntry(stored, name) !== checkEntry(expected, name))
      findings.push(finding("REPORT_CHECK_DIFFERS", { check: name }));
  }
  // Same checks, same entries: then the order, verdict, summary, policy and id must follow too.
  // An older verifier's report lists fewer checks: its verdict must still follow from them.
  const consistent = writtenByThisVerifier
    ? canonicalJson(stored) === canonicalJson(expected)
    : stored.verdict === (stored.checks.every((c) => c.passed) ? "pass" : "fail");
  // An older report always lacks this verifier's newer checks: those infos must not hide its verdict.
  const differences = findings.filter((f) => f.code !== "REPORT_CHECK_NEWER");
  if (differences.length === 0 && !consistent) findings.push(finding("REPORT_DIFFERS", {}));
  return findings;
}

export const reportRecomputeCheck: Check = {
  name: REPORT_RECOMPUTE,
  readsSeal: true,
  invariant: "INV-REP-001",
  description:
    "report.json is the report this verifier writes when sealing the run; the directory is named by the run id",
  run(view, context) {
    const findings: Finding[] = [];
    if (context.runDirName !== undefined && view.run !== null && context.runDirName !== view.run.run_id)
      findings.push(finding("RUN_DIR_NAME", { name: context.runDirName, run: view.run.run_id }));
    if (context.stage === "sealing")
      return { findings, details: "the report is being written: nothing stored to compare yet" };
    if (view.report === null) {
      if (!view.files.has("report.json")) findings.push(finding("FILE_MISSING", { path: "report.json" }));
      return { findings, details: "no readable report.json (see schemas)" };
    }
    const expected = context.sealingReport?.();
    if (expected === undefined) return { findings, details: "not recomputed" };
    findings.push(...compareReports(view.report, expected));
    return {
      findings,
      details: `${view.report.checks.length} stored check(s) compared with a fresh sealing verification`,
    };
  },
};
