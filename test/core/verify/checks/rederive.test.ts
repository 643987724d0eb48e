/**
 * Unit tests of rederive (INV-RDV-001): the recorded reasoner re-derives the recorded outcome from the
 * recorded input. Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import type { RunView } from "../../../../src/core/artifact/view.js";
import { extractiveReasoner } from "../../../../src/core/reason/extractive.js";
import { rederiveCheck } from "../../../../src/core/verify/checks/rederive.js";
import {
  answeredRun,
  codes,
  edited,
  indexOf,
  insufficientRun,
  outputOf,
  paramsOf,
  sealing,
  traceIn,
} from "./fixture.js";

const run = answeredRun();
const check = (view: RunView = run.view) => rederiveCheck.run(view, sealing(run.store));
const inputDetail = (view: RunView) => {
  const outcome = check(view);
  expect(codes(outcome)).toEqual(["REDERIVE_INPUT"]);
  return paramsOf(outcome, "REDERIVE_INPUT").detail;
};

describe("rederive", () => {
  it("passes the untouched runs", () => {
    expect(codes(check())).toEqual([]);
    expect(codes(check(insufficientRun().view))).toEqual([]);
  });

  it("MISSING_INPUT: no readable run.json", () => {
    const outcome = check({ ...run.view, run: null });
    expect(codes(outcome)).toEqual(["MISSING_INPUT"]);
    expect(paramsOf(outcome, "MISSING_INPUT")).toEqual({ inputs: ["trace.jsonl", "run.json", "plan.json"] });
  });

  it("REDERIVE_INPUT: no understand output", () => {
    const view = edited(run.view, (v) => {
      const t = traceIn(v);
      t.events.splice(
        indexOf(t, (e) => e.type === "step_finished" && e.output.type === "understand"),
        1,
      );
    });
    expect(inputDetail(view)).toBe("no understand output");
  });

  it("REDERIVE_INPUT: evidence that matches no retrieval hit", () => {
    const view = edited(run.view, (v) => {
      if (v.retrieval) v.retrieval.hits = [];
    });
    expect(inputDetail(view)).toMatch(/^evidence ev_v1_[0-9a-f]{64} matches no retrieval hit$/);
  });

  it("REDERIVE_INPUT: a plan without a derive step", () => {
    const view = edited(run.view, (v) => {
      if (v.plan) v.plan.nodes = v.plan.nodes.filter((n) => n.kind !== "derive");
    });
    expect(inputDetail(view)).toBe("the plan has no derive step");
  });

  it("REDERIVE_INPUT: no derivation recorded", () => {
    const view = edited(run.view, (v) => {
      const t = traceIn(v);
      t.events.splice(
        indexOf(t, (e) => e.type === "step_finished" && e.output.type === "derive"),
        1,
      );
    });
    expect(inputDetail(view)).toBe("the trace records no derivation");
  });

  it("REDERIVE_INPUT: the derivation's claim is not in the trace", () => {
    expect(inputDetail({ ...run.view, claims: [] })).toBe("the derivation's claim is not in the trace");
  });

  it("UNDERSTAND_RECOMPUTED: the understand step records another question than the spec's", () => {
    const outcome = check(
      edited(run.view, (v) => {
        outputOf(traceIn(v), "understand").question = "How is a trick won in contract bridge??";
      }),
    );
    expect(codes(outcome)).toEqual(["UNDERSTAND_RECOMPUTED"]);
    expect(paramsOf(outcome, "UNDERSTAND_RECOMPUTED")).toEqual({ field: "question" });
  });

  it("UNDERSTAND_RECOMPUTED: query terms the analyzer does not give (the re-derivation then differs)", () => {
    const outcome = check(
      edited(run.view, (v) => {
        outputOf(traceIn(v), "understand").query_terms.push("auction");
      }),
    );
    // The reasoner is given the recorded terms, so an extra matched term changes its confidence.
    expect(codes(outcome)).toEqual(["UNDERSTAND_RECOMPUTED", "REDERIVED_DIFFERS"]);
    expect(paramsOf(outcome, "UNDERSTAND_RECOMPUTED")).toEqual({ field: "query_terms" });
    expect(paramsOf(outcome, "REDERIVED_DIFFERS")).toEqual({
      reasoner: `${extractiveReasoner.id} ${extractiveReasoner.version}`,
      field: "citations",
    });
  });

  it("REASONER_UNKNOWN: a reasoner this build does not have", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.run) v.run.inputs.runtime.reasoner = { id: "extractive", version: "99" };
      }),
    );
    expect(codes(outcome)).toEqual(["REASONER_UNKNOWN"]);
    expect(paramsOf(outcome, "REASONER_UNKNOWN")).toEqual({ reasoner: "extractive 99" });
  });

  it("REDERIVED_DIFFERS: a confidence the reasoner does not give", () => {
    const outcome = check(
      edited(run.view, (v) => {
        const claim = v.claims[0];
        if (claim) claim.confidence = 0.5;
      }),
    );
    expect(codes(outcome)).toEqual(["REDERIVED_DIFFERS"]);
    expect(paramsOf(outcome, "REDERIVED_DIFFERS")).toEqual({
      reasoner: `${extractiveReasoner.id} ${extractiveReasoner.version}`,
      field: "confidence",
    });
  });

  it("REDERIVED_DIFFERS: issue 19, a derivation naming another reasoner than run.json's", () => {
    const outcome = check(
      edited(run.view, (v) => {
        outputOf(traceIn(v), "derive").reasoner = { id: "extractive", version: "1" };
      }),
    );
    expect(codes(outcome)).toEqual(["REDERIVED_DIFFERS"]);
    expect(paramsOf(outcome, "REDERIVED_DIFFERS")).toEqual({
      reasoner: `${extractiveReasoner.id} ${extractiveReasoner.version}`,
      field: "reasoner",
    });
  });

  it("REDERIVED_DIFFERS: an insufficiency with another reason", () => {
    const outcome = check(
      edited(insufficientRun().view, (v) => {
        outputOf(traceIn(v), "insufficient_evidence").reason = "too hard";
      }),
    );
    expect(codes(outcome)).toEqual(["REDERIVED_DIFFERS"]);
    expect(paramsOf(outcome, "REDERIVED_DIFFERS")).toMatchObject({ field: "reason" });
  });

  it("REDERIVED_DIFFERS: a claim where the reasoner finds insufficient evidence", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.retrieval)
          for (const hit of v.retrieval.hits) hit.text = "Nothing relevant is said here at all.";
      }),
    );
    expect(codes(outcome)).toEqual(["REDERIVED_DIFFERS"]);
    expect(paramsOf(outcome, "REDERIVED_DIFFERS")).toMatchObject({
      field: "recorded a claim, re-derived insufficient evidence",
    });
  });
});
