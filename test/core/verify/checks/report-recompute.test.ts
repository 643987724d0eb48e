/**
 * Unit tests of report_recompute (INV-REP-001): the stored report against a fresh sealing
 * verification. Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import { RUN_FILES } from "../../../../src/core/artifact/files.js";
import type { RunView } from "../../../../src/core/artifact/view.js";
import type { CheckContext } from "../../../../src/core/verify/check.js";
import {
  REPORT_RECOMPUTE,
  reportRecomputeCheck,
} from "../../../../src/core/verify/checks/report-recompute.js";
import { answeredRun, bogusId, codes, edited, paramsOf, sealed, sealing } from "./fixture.js";

const run = answeredRun();
const check = (view: RunView = run.view, ctx: CheckContext = sealed(run)) =>
  reportRecomputeCheck.run(view, ctx);
const runId = run.view.run?.run_id;

/** The view with its stored report edited. */
const withReport = (edit: (report: NonNullable<RunView["report"]>) => void) =>
  edited(run.view, (v) => {
    if (v.report) edit(v.report);
  });

const OLDER_CHECKS = [
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
];

describe("report_recompute", () => {
  it("passes the untouched run, sealed and while sealing", () => {
    expect(codes(check())).toEqual([]);
    expect(codes(check(run.view, sealing(run.store)))).toEqual([]);
  });

  it("RUN_DIR_NAME: the directory is not named by the run id (at either stage)", () => {
    const outcome = check(run.view, sealed(run, { runDirName: "renamed" }));
    expect(codes(outcome)).toEqual(["RUN_DIR_NAME"]);
    expect(paramsOf(outcome, "RUN_DIR_NAME")).toEqual({ name: "renamed", run: runId });
    expect(codes(check(run.view, { ...sealing(run.store), runDirName: "renamed" }))).toEqual([
      "RUN_DIR_NAME",
    ]);
  });

  it("FILE_MISSING: a sealed run without report.json", () => {
    const files = new Map(run.view.files);
    files.delete(RUN_FILES.report);
    const outcome = check({ ...run.view, files, report: null });
    expect(codes(outcome)).toEqual(["FILE_MISSING"]);
    expect(paramsOf(outcome, "FILE_MISSING")).toEqual({ path: "report.json" });
  });

  it("leaves an unreadable report.json to the schemas check", () => {
    expect(codes(check({ ...run.view, report: null }))).toEqual([]);
  });

  it("REPORT_CHECK_MISSING: a check dropped from the stored report", () => {
    const outcome = check(
      withReport((r) => {
        r.checks = r.checks.filter((c) => c.name !== "grounding");
      }),
    );
    expect(codes(outcome)).toEqual(["REPORT_CHECK_MISSING"]);
    expect(paramsOf(outcome, "REPORT_CHECK_MISSING")).toEqual({ check: "grounding" });
  });

  it("REPORT_CHECK_NEWER: a report written by a verifier without this check (0.1.0's 14 checks)", () => {
    const outcome = check(
      withReport((r) => {
        r.checks = r.checks.filter((c) => OLDER_CHECKS.includes(c.name));
        r.failures = r.failures.filter((f) => OLDER_CHECKS.includes(f.check));
      }),
    );
    expect(codes(outcome)).toEqual(["REPORT_CHECK_NEWER", "REPORT_CHECK_NEWER", "REPORT_CHECK_NEWER"]);
    expect(outcome.findings.map((f) => f.params)).toEqual([
      { check: "retrieval_recompute" },
      { check: "rederive" },
      { check: REPORT_RECOMPUTE },
    ]);
  });

  it("issue 19: a report.json cut down to one check is missing every other check, not older", () => {
    const outcome = check(
      withReport((r) => {
        r.checks = r.checks.filter((c) => c.name === "schemas");
        r.failures = [];
      }),
    );
    expect(new Set(codes(outcome))).toEqual(new Set(["REPORT_CHECK_MISSING"]));
    expect(codes(outcome)).toHaveLength(16);
  });

  it("issue 19: a report without this check and without another is not an older verifier's", () => {
    const outcome = check(
      withReport((r) => {
        r.checks = r.checks.filter((c) => c.name !== REPORT_RECOMPUTE && c.name !== "grounding");
      }),
    );
    expect(codes(outcome)).toContain("REPORT_CHECK_MISSING");
    expect(outcome.findings.map((f) => f.params)).toContainEqual({ check: "grounding" });
  });

  it("REPORT_CHECK_INVENTED: a check this verifier does not have", () => {
    const outcome = check(
      withReport((r) => {
        const first = r.checks[0];
        if (first) r.checks.push({ ...first, name: "made_up" });
      }),
    );
    expect(codes(outcome)).toEqual(["REPORT_CHECK_INVENTED"]);
    expect(paramsOf(outcome, "REPORT_CHECK_INVENTED")).toEqual({ check: "made_up" });
  });

  it("REPORT_CHECK_DIFFERS: a stored check entry altered", () => {
    const outcome = check(
      withReport((r) => {
        const entry = r.checks.find((c) => c.name === "grounding");
        if (entry) entry.details = "all good";
      }),
    );
    expect(codes(outcome)).toEqual(["REPORT_CHECK_DIFFERS"]);
    expect(paramsOf(outcome, "REPORT_CHECK_DIFFERS")).toEqual({ check: "grounding" });
  });

  it("REPORT_DIFFERS: same checks, another verdict", () => {
    const outcome = check(
      withReport((r) => {
        r.verdict = "fail";
      }),
    );
    expect(codes(outcome)).toEqual(["REPORT_DIFFERS"]);
  });

  it("REPORT_DIFFERS: same checks, another id", () => {
    expect(
      codes(
        check(
          withReport((r) => {
            r.id = bogusId("report");
          }),
        ),
      ),
    ).toEqual(["REPORT_DIFFERS"]);
  });

  it("REPORT_DIFFERS: an older verifier's report whose verdict does not follow from its checks", () => {
    const outcome = check(
      withReport((r) => {
        r.checks = r.checks.filter((c) => OLDER_CHECKS.includes(c.name));
        r.failures = r.failures.filter((f) => OLDER_CHECKS.includes(f.check));
        r.verdict = "fail";
      }),
    );
    expect(codes(outcome)).toEqual([
      "REPORT_CHECK_NEWER",
      "REPORT_CHECK_NEWER",
      "REPORT_CHECK_NEWER",
      "REPORT_DIFFERS",
    ]);
  });
});
