/**
 * Unit tests of content_ids (INV-ID-001): an object edited under its id is named, whichever id it is.
 * Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import { contentIdsCheck } from "../../../../src/core/verify/checks/content-ids.js";
import { answeredRun, bogusId, codes, edited, eventOf, paramsOf, sealing, traceIn } from "./fixture.js";

const run = answeredRun();
const check = (view = run.view) => contentIdsCheck.run(view, sealing(run.store));

describe("content_ids", () => {
  it("passes the untouched run", () => {
    expect(codes(check())).toEqual([]);
  });

  it("ID_MISMATCH: a spec edited under its id", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.spec) v.spec.description = "Another question?";
      }),
    );
    expect(codes(outcome)).toEqual(["ID_MISMATCH"]);
    expect(paramsOf(outcome, "ID_MISMATCH")).toMatchObject({
      what: "spec.json",
      recorded: run.view.spec?.id,
    });
  });

  it("ID_MISMATCH: a claim edited under its id (and so the trace under run.json's trace_id)", () => {
    const outcome = check(
      edited(run.view, (v) => {
        eventOf(traceIn(v), "claim_emitted").claim.confidence = 0.123;
      }),
    );
    expect(codes(outcome)).toEqual(["ID_MISMATCH", "ID_MISMATCH"]);
    expect(outcome.findings.map((f) => (f.params as { what: string }).what)).toEqual([
      expect.stringMatching(/^claim at event \d+$/),
      "trace (run.json trace_id)",
    ]);
  });

  it("ID_MISMATCH: run.json's run id and trace id", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.run) {
          v.run.run_id = bogusId("run");
          v.run.trace_id = bogusId("trace");
        }
      }),
    );
    expect(codes(outcome)).toEqual(["ID_MISMATCH", "ID_MISMATCH"]);
    expect(outcome.findings.map((f) => (f.params as { what: string }).what)).toEqual([
      "trace (run.json trace_id)",
      "run (run.json run_id)",
    ]);
  });
});
