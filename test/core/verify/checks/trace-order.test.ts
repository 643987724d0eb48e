/**
 * Unit tests of trace_order (INV-ORD-002): idx, step nesting, order, kinds and outputs of the trace.
 * Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import type { RunView } from "../../../../src/core/artifact/view.js";
import { traceOrderCheck } from "../../../../src/core/verify/checks/trace-order.js";
import { renumber } from "../../../helpers/forge.js";
import {
  answeredRun,
  bogusId,
  codes,
  edited,
  eventOf,
  indexOf,
  nodeIn,
  paramsOf,
  sealing,
  traceIn,
} from "./fixture.js";

const run = answeredRun();
const check = (view: RunView = run.view) => traceOrderCheck.run(view, sealing(run.store));
const understandId = nodeIn(run.view, "understand").id;

describe("trace_order", () => {
  it("passes the untouched run", () => {
    expect(codes(check())).toEqual([]);
  });

  it("MISSING_INPUT: no readable trace", () => {
    const outcome = check({ ...run.view, trace: null });
    expect(codes(outcome)).toEqual(["MISSING_INPUT"]);
    expect(paramsOf(outcome, "MISSING_INPUT")).toEqual({ inputs: ["trace.jsonl", "plan.json"] });
  });

  it("IDX_GAP: an event whose idx is not its position", () => {
    const outcome = check(
      edited(run.view, (v) => {
        eventOf(traceIn(v), "tool_called").idx = 99;
      }),
    );
    expect(codes(outcome)).toEqual(["IDX_GAP"]);
    expect(paramsOf(outcome, "IDX_GAP")).toMatchObject({ idx: 99 });
  });

  it("UNKNOWN_NODE: an event naming a node the plan lacks", () => {
    const outcome = check(
      edited(run.view, (v) => {
        eventOf(traceIn(v), "tool_returned").node_id = bogusId("node");
      }),
    );
    expect(codes(outcome)).toEqual(["UNKNOWN_NODE"]);
  });

  it("NESTED_STEP: a step starts while another is open (which then never finishes)", () => {
    const outcome = check(
      edited(run.view, (v) => {
        const t = traceIn(v);
        t.events.splice(
          indexOf(t, (e) => e.type === "step_finished" && e.kind === "understand"),
          1,
        );
        renumber(t);
      }),
    );
    expect(codes(outcome)).toEqual(["NESTED_STEP", "DEPENDENCY_ORDER", "STEP_UNFINISHED"]);
    expect(paramsOf(outcome, "NESTED_STEP")).toMatchObject({ kind: "gather" });
    expect(paramsOf(outcome, "STEP_UNFINISHED")).toEqual({ kind: "understand" });
  });

  it("STEP_TWICE: a step run again at the end", () => {
    const outcome = check(
      edited(run.view, (v) => {
        const t = traceIn(v);
        t.events.push(...structuredClone(t.events.slice(0, 2)));
        renumber(t);
      }),
    );
    expect(codes(outcome)).toEqual(["STEP_TWICE"]);
    expect(paramsOf(outcome, "STEP_TWICE")).toEqual({ kind: "understand" });
  });

  it("DEPENDENCY_ORDER: a step started before its dependency finished", () => {
    const outcome = check(
      edited(run.view, (v) => {
        nodeIn(v, "understand").deps.push(nodeIn(v, "finalize").id);
      }),
    );
    expect(codes(outcome)).toEqual(["DEPENDENCY_ORDER"]);
    expect(paramsOf(outcome, "DEPENDENCY_ORDER")).toEqual({ kind: "understand" });
  });

  it("STEP_KIND: an event's kind is not its node's", () => {
    const outcome = check(
      edited(run.view, (v) => {
        eventOf(traceIn(v), "step_started").kind = "gather";
      }),
    );
    expect(codes(outcome)).toEqual(["STEP_KIND"]);
    expect(paramsOf(outcome, "STEP_KIND")).toEqual({ event: 0, recorded: "gather", planned: "understand" });
  });

  it("STEP_OUTPUT: a step finishes with another kind's output", () => {
    const outcome = check(
      edited(run.view, (v) => {
        eventOf(traceIn(v), "step_finished").output = { type: "gather", evidence_ids: [] };
      }),
    );
    expect(codes(outcome)).toEqual(["STEP_OUTPUT"]);
    expect(paramsOf(outcome, "STEP_OUTPUT")).toMatchObject({ kind: "understand", output: "gather" });
  });

  it("OUTSIDE_STEP: an event recorded under a step that is not open", () => {
    const outcome = check(
      edited(run.view, (v) => {
        eventOf(traceIn(v), "tool_called").node_id = understandId;
      }),
    );
    expect(codes(outcome)).toEqual(["OUTSIDE_STEP"]);
    expect(paramsOf(outcome, "OUTSIDE_STEP")).toMatchObject({ type: "tool_called" });
  });

  it("STEP_UNFINISHED: the last step never finishes", () => {
    const outcome = check(
      edited(run.view, (v) => {
        traceIn(v).events.pop();
      }),
    );
    expect(codes(outcome)).toEqual(["STEP_UNFINISHED"]);
    expect(paramsOf(outcome, "STEP_UNFINISHED")).toEqual({ kind: "finalize" });
  });
});
