/**
 * Unit tests of grounding (INV-GRD-001/002): supports, citations, statements and verdicts of the
 * derived claim. Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import type { RunView } from "../../../../src/core/artifact/view.js";
import { groundingCheck } from "../../../../src/core/verify/checks/grounding.js";
import {
  answeredRun,
  bogusId,
  codes,
  edited,
  eventOf,
  insufficientRun,
  nodeIn,
  outputOf,
  paramsOf,
  sealing,
  traceIn,
  withTrace,
} from "./fixture.js";

const run = answeredRun();
const check = (view: RunView = run.view) => groundingCheck.run(view, sealing(run.store));
const proposed = eventOf(traceIn(run.view), "claim_emitted", 0).claim;
const validated = eventOf(traceIn(run.view), "claim_emitted", 1).claim;
const evidenceSupports = proposed.supports.filter((s) => s.kind === "evidence").length;

describe("grounding", () => {
  it("passes the untouched runs", () => {
    expect(codes(check())).toEqual([]);
    expect(codes(groundingCheck.run(insufficientRun().view, sealing(run.store)))).toEqual([]);
  });

  it("TOO_FEW_SUPPORTS: the plan requires more evidence supports than the claim has", () => {
    const outcome = check(
      edited(run.view, (v) => {
        nodeIn(v, "derive").params.min_supports_per_claim = evidenceSupports + 1;
      }),
    );
    expect(codes(outcome)).toEqual(["TOO_FEW_SUPPORTS"]);
    expect(paramsOf(outcome, "TOO_FEW_SUPPORTS")).toEqual({
      claim: proposed.id,
      supports: evidenceSupports,
      required: evidenceSupports + 1,
    });
  });

  it("CLAIM_WITHOUT_DERIVATION and DERIVATION_WITHOUT_CLAIM: the derivation names another claim", () => {
    const outcome = check(
      withTrace(run, (t) => {
        outputOf(t, "derive").claim_id = bogusId("claim");
      }),
    );
    expect(codes(outcome)).toEqual(["CLAIM_WITHOUT_DERIVATION", "DERIVATION_WITHOUT_CLAIM"]);
    expect(paramsOf(outcome, "CLAIM_WITHOUT_DERIVATION")).toEqual({ claim: proposed.id });
    expect(paramsOf(outcome, "DERIVATION_WITHOUT_CLAIM")).toEqual({ claim: bogusId("claim") });
  });

  it("CITATIONS_DISAGREE: the reasoner's citations are not the claim's supports", () => {
    const outcome = check(
      withTrace(run, (t) => {
        outputOf(t, "derive").citations = [];
      }),
    );
    expect(codes(outcome)).toEqual(["CITATIONS_DISAGREE"]);
    expect(paramsOf(outcome, "CITATIONS_DISAGREE")).toEqual({ claim: proposed.id });
  });

  it("STATEMENT_DISAGREES: the derivation states something else than the claim", () => {
    const outcome = check(
      withTrace(run, (t) => {
        outputOf(t, "derive").statement = "Something else entirely.";
      }),
    );
    expect(codes(outcome)).toEqual(["STATEMENT_DISAGREES"]);
  });

  it("STATEMENT_NOT_QUOTED: an extractive claim reworded everywhere, ids recomputed", () => {
    const reworded = "Tricks are won by magic in contract bridge.";
    const outcome = check(
      withTrace(
        run,
        (t) => {
          for (const e of t.events) if (e.type === "claim_emitted") e.claim.statement = reworded;
          outputOf(t, "derive").statement = reworded;
        },
        { recomputeIds: true },
      ),
    );
    expect(codes(outcome)).toEqual(["STATEMENT_NOT_QUOTED"]);
  });

  it("VERDICT_MISSING: a proposed claim the verify step never judged (its verdict then unjudged)", () => {
    const outcome = check(
      withTrace(run, (t) => {
        outputOf(t, "verify").decisions = [];
      }),
    );
    expect(codes(outcome)).toEqual(["VERDICT_MISSING", "UNJUDGED_CLAIM"]);
    expect(paramsOf(outcome, "VERDICT_MISSING")).toEqual({ claim: proposed.id });
    expect(paramsOf(outcome, "UNJUDGED_CLAIM")).toEqual({ claim: validated.id, status: "validated" });
  });

  it("VERDICT_UNKNOWN_CLAIM: a decision about a claim never proposed", () => {
    const outcome = check(
      withTrace(run, (t) => {
        const decisions = outputOf(t, "verify").decisions;
        decisions.push({ ...(decisions[0] as (typeof decisions)[number]), claim_id: bogusId("claim") });
      }),
    );
    expect(codes(outcome)).toEqual(["VERDICT_UNKNOWN_CLAIM"]);
    expect(paramsOf(outcome, "VERDICT_UNKNOWN_CLAIM")).toEqual({ claim: bogusId("claim") });
  });

  it("VERDICT_CLAIM: a decision naming a result that is not the judged claim (which is then unjudged)", () => {
    const outcome = check(
      withTrace(run, (t) => {
        const decision = outputOf(t, "verify").decisions[0];
        if (decision) decision.result_claim_id = bogusId("claim");
      }),
    );
    expect(codes(outcome)).toEqual(["VERDICT_CLAIM", "UNJUDGED_CLAIM"]);
    expect(paramsOf(outcome, "VERDICT_CLAIM")).toEqual({ claim: proposed.id, result: bogusId("claim") });
  });

  it("VERDICT_WRONG: a grounded claim rejected, ids recomputed", () => {
    const outcome = check(
      withTrace(
        run,
        (t) => {
          eventOf(t, "claim_emitted", 1).claim.status = "rejected";
          const decision = outputOf(t, "verify").decisions[0];
          if (decision) decision.status = "rejected";
        },
        { recomputeIds: true },
      ),
    );
    expect(codes(outcome)).toEqual(["VERDICT_WRONG"]);
    expect(paramsOf(outcome, "VERDICT_WRONG")).toEqual({
      claim: proposed.id,
      recorded: "rejected",
      expected: "validated",
    });
  });

  it("UNJUDGED_CLAIM: a validated claim no decision produced", () => {
    const outcome = check(
      withTrace(run, (t) => {
        const extra = structuredClone(eventOf(t, "claim_emitted", 1));
        extra.claim.id = bogusId("claim");
        t.events.splice(t.events.indexOf(eventOf(t, "claim_emitted", 1)) + 1, 0, extra);
      }),
    );
    expect(codes(outcome)).toEqual(["UNJUDGED_CLAIM"]);
    expect(paramsOf(outcome, "UNJUDGED_CLAIM")).toEqual({ claim: bogusId("claim"), status: "validated" });
  });
});
