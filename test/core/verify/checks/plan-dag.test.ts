/**
 * Unit tests of plan_dag (INV-ORD-001): duplicate ids, missing dependencies, cycles, and a plan of
 * another spec. Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import { planDagCheck } from "../../../../src/core/verify/checks/plan-dag.js";
import { answeredRun, bogusId, codes, edited, nodeIn, paramsOf, sealing } from "./fixture.js";

const run = answeredRun();
const check = (view = run.view) => planDagCheck.run(view, sealing(run.store));

describe("plan_dag", () => {
  it("passes the untouched run", () => {
    expect(codes(check())).toEqual([]);
  });

  it("MISSING_INPUT: no readable plan", () => {
    const outcome = check({ ...run.view, plan: null });
    expect(codes(outcome)).toEqual(["MISSING_INPUT"]);
    expect(paramsOf(outcome, "MISSING_INPUT")).toEqual({ inputs: ["plan.json"] });
  });

  it("PLAN_NOT_DAG: a dependency on a missing node", () => {
    const outcome = check(
      edited(run.view, (v) => {
        nodeIn(v, "gather").deps.push(bogusId("node"));
      }),
    );
    // The planner never makes such a plan, so it is also not the recomputed one.
    expect(codes(outcome)).toEqual(["PLAN_NOT_DAG", "PLAN_RECOMPUTED"]);
    expect(paramsOf(outcome, "PLAN_NOT_DAG").problem).toMatch(/depends on missing node/);
  });

  it("PLAN_NOT_DAG: a cycle", () => {
    const outcome = check(
      edited(run.view, (v) => {
        nodeIn(v, "understand").deps.push(nodeIn(v, "finalize").id);
      }),
    );
    expect(codes(outcome)).toEqual(["PLAN_NOT_DAG", "PLAN_RECOMPUTED"]);
    expect(paramsOf(outcome, "PLAN_NOT_DAG")).toEqual({ problem: "the dependencies form a cycle" });
  });

  it("PLAN_NOT_DAG: a duplicate node id", () => {
    const outcome = check(
      edited(run.view, (v) => {
        nodeIn(v, "verify").id = nodeIn(v, "derive").id;
      }),
    );
    expect(codes(outcome)).toContain("PLAN_NOT_DAG");
    expect(outcome.findings[0]?.params).toEqual({
      problem: `duplicate node id ${nodeIn(run.view, "derive").id}`,
    });
  });

  it("PLAN_SPEC_MISMATCH: the plan names another spec", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.plan) v.plan.spec_id = bogusId("spec");
      }),
    );
    expect(codes(outcome)).toEqual(["PLAN_SPEC_MISMATCH", "PLAN_RECOMPUTED"]);
  });

  // Issue 19 item 3: the plan is recomputed from spec.json and the preset; any parameter edit is named.
  it.each([
    ["understand", "query", "contract bridge"],
    ["gather", "top_k", 4],
    ["gather", "bm25_k1", 1.3],
    ["derive", "max_citations", 1],
    ["derive", "min_confidence", 0],
  ] as const)("PLAN_RECOMPUTED: issue 19, the plan's %s %s edited", (kind, key, value) => {
    const outcome = check(
      edited(run.view, (v) => {
        nodeIn(v, kind).params[key] = value;
      }),
    );
    expect(codes(outcome)).toEqual(["PLAN_RECOMPUTED"]);
    expect(paramsOf(outcome, "PLAN_RECOMPUTED")).toEqual({ detail: `the ${kind} step's ${key}` });
  });

  it('PLAN_RECOMPUTED: issue 19, thorough-preset parameters under the label "default"', () => {
    const outcome = check(
      edited(run.view, (v) => {
        nodeIn(v, "gather").params.top_k = 10;
        nodeIn(v, "derive").params.max_citations = 3;
      }),
    );
    expect(codes(outcome)).toEqual(["PLAN_RECOMPUTED"]);
  });

  it("PLAN_RECOMPUTED: a preset the planner does not have", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.plan) v.plan.preset = "fastest";
      }),
    );
    expect(codes(outcome)).toEqual(["PLAN_RECOMPUTED"]);
    expect(paramsOf(outcome, "PLAN_RECOMPUTED").detail).toMatch(/unknown preset/);
  });
});
