/**
 * Unit tests of outcome (INV-OUT-001): one outcome, one finalize, and an answer made of exactly the
 * validated claims. Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import type { RunView } from "../../../../src/core/artifact/view.js";
import { outcomeCheck } from "../../../../src/core/verify/checks/outcome.js";
import {
  answeredRun,
  codes,
  edited,
  eventOf,
  insufficientRun,
  outputOf,
  paramsOf,
  sealing,
  traceIn,
} from "./fixture.js";

const run = answeredRun();
const check = (view: RunView = run.view) => outcomeCheck.run(view, sealing(run.store));
const proposedId = eventOf(traceIn(run.view), "claim_emitted", 0).claim.id;

/**
 * A trace edit, judged without answer.json: the answer view is the trace's projection, so any
 * trace edit also gives ANSWER_VIEW, tested on its own below.
 */
const withFinal = (view: RunView, edit: (v: RunView) => void) => ({ ...edited(view, edit), answer: null });

describe("outcome", () => {
  it("passes the untouched runs", () => {
    expect(codes(check())).toEqual([]);
    expect(codes(check(insufficientRun().view))).toEqual([]);
  });

  it("MISSING_INPUT: no readable trace", () => {
    const outcome = check({ ...run.view, trace: null });
    expect(codes(outcome)).toEqual(["MISSING_INPUT"]);
    expect(paramsOf(outcome, "MISSING_INPUT")).toEqual({ inputs: ["trace.jsonl"] });
  });

  it("OUTCOME_COUNT: both a derivation and an insufficiency marker", () => {
    const outcome = check(
      withFinal(run.view, (v) => {
        const t = traceIn(v);
        const marker = structuredClone(eventOf(traceIn(insufficientRun().view), "step_finished", 2));
        t.events.splice(t.events.length - 1, 0, marker);
      }),
    );
    expect(codes(outcome)).toEqual(["OUTCOME_COUNT"]);
    expect(paramsOf(outcome, "OUTCOME_COUNT")).toEqual({ derivations: 1, markers: 1 });
  });

  it("FINALIZE_COUNT: no finalize output", () => {
    const outcome = check(
      withFinal(run.view, (v) => {
        traceIn(v).events.pop();
      }),
    );
    expect(codes(outcome)).toEqual(["FINALIZE_COUNT"]);
    expect(paramsOf(outcome, "FINALIZE_COUNT")).toEqual({ count: 0 });
  });

  it("UNVALIDATED_CLAIM: the answer uses the proposed claim instead of its validated verdict", () => {
    const outcome = check(
      withFinal(run.view, (v) => {
        outputOf(traceIn(v), "finalize").claim_ids = [proposedId];
      }),
    );
    expect(codes(outcome)).toEqual(["UNVALIDATED_CLAIM", "FINAL_CLAIMS"]);
    expect(paramsOf(outcome, "UNVALIDATED_CLAIM")).toEqual({ claim: proposedId });
  });

  it("FINAL_CLAIMS: an answer that leaves out the validated claim", () => {
    const outcome = check(
      withFinal(run.view, (v) => {
        outputOf(traceIn(v), "finalize").claim_ids = [];
      }),
    );
    expect(codes(outcome)).toEqual(["FINAL_CLAIMS"]);
    expect(paramsOf(outcome, "FINAL_CLAIMS")).toEqual({ status: "answered", validated: 1 });
  });

  it("FINAL_CLAIMS: an answer withheld while a claim stands", () => {
    const outcome = check(
      withFinal(run.view, (v) => {
        const final = outputOf(traceIn(v), "finalize");
        final.status = "insufficient_evidence";
        final.answer = null;
        final.claim_ids = [];
        final.uncertainty = "Insufficient evidence: no claim could be validated.";
      }),
    );
    expect(codes(outcome)).toEqual(["FINAL_CLAIMS"]);
    expect(paramsOf(outcome, "FINAL_CLAIMS")).toEqual({ status: "insufficient_evidence", validated: 1 });
  });

  it("ANSWER_MISMATCH: an answer that is not the validated claim's statement", () => {
    const outcome = check(
      withFinal(run.view, (v) => {
        outputOf(traceIn(v), "finalize").answer = "Trumps always win.";
      }),
    );
    expect(codes(outcome)).toEqual(["ANSWER_MISMATCH"]);
  });

  it("INSUFFICIENT_WITH_ANSWER: an insufficient run that answers anyway", () => {
    const outcome = check(
      withFinal(insufficientRun().view, (v) => {
        outputOf(traceIn(v), "finalize").answer = "Hekla.";
      }),
    );
    expect(codes(outcome)).toEqual(["INSUFFICIENT_WITH_ANSWER"]);
  });

  it("ANSWER_VIEW: answer.json is not the trace's projection", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.answer) v.answer.question = "Another question?";
      }),
    );
    expect(codes(outcome)).toEqual(["ANSWER_VIEW"]);
  });

  it("ANSWER_VIEW: a trace edit that answer.json does not follow", () => {
    const outcome = check(
      edited(run.view, (v) => {
        outputOf(traceIn(v), "understand").question = "Another question?";
      }),
    );
    expect(codes(outcome)).toEqual(["ANSWER_VIEW"]);
  });

  it("FINAL_UNCERTAINTY: issue 19, an answered run that states another run's uncertainty", () => {
    const outcome = check(
      withFinal(run.view, (v) => {
        outputOf(traceIn(v), "finalize").uncertainty = "Insufficient evidence: no claim could be validated.";
      }),
    );
    expect(codes(outcome)).toEqual(["FINAL_UNCERTAINTY"]);
    const insufficient = check(
      withFinal(insufficientRun().view, (v) => {
        outputOf(traceIn(v), "finalize").uncertainty = "Insufficient evidence: none.";
      }),
    );
    expect(codes(insufficient)).toEqual(["FINAL_UNCERTAINTY"]);
  });
});
