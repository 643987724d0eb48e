/**
 * Unit tests of tool_linkage (INV-TLK-001): each call planned, in its step, with exactly one result.
 * Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import type { RunView } from "../../../../src/core/artifact/view.js";
import { toolLinkageCheck } from "../../../../src/core/verify/checks/tool-linkage.js";
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
const check = (view: RunView = run.view) => toolLinkageCheck.run(view, sealing(run.store));
const callId = eventOf(traceIn(run.view), "tool_called").call.id;

describe("tool_linkage", () => {
  it("passes the untouched run", () => {
    const outcome = check();
    expect(codes(outcome)).toEqual([]);
    expect(outcome.metrics).toEqual({ calls: 1 });
  });

  it("CALL_TWICE: the same call recorded twice", () => {
    const outcome = check(
      edited(run.view, (v) => {
        const t = traceIn(v);
        const i = indexOf(t, (e) => e.type === "tool_called");
        t.events.splice(i, 0, structuredClone(t.events[i] as (typeof t.events)[number]));
      }),
    );
    expect(codes(outcome)).toEqual(["CALL_TWICE"]);
    expect(paramsOf(outcome, "CALL_TWICE")).toEqual({ call: callId });
  });

  it("CALL_STEP: a call recorded in another step than it names (its result then too)", () => {
    const outcome = check(
      edited(run.view, (v) => {
        eventOf(traceIn(v), "tool_called").node_id = nodeIn(v, "understand").id;
      }),
    );
    expect(codes(outcome)).toEqual(["CALL_STEP", "RESULT_STEP"]);
    expect(paramsOf(outcome, "CALL_STEP")).toEqual({ call: callId });
  });

  it("CALL_NOT_PLANNED: a call with arguments the plan never asked for", () => {
    const outcome = check(
      edited(run.view, (v) => {
        eventOf(traceIn(v), "tool_called").call.args.top_k = 3;
      }),
    );
    expect(codes(outcome)).toEqual(["CALL_NOT_PLANNED"]);
    expect(paramsOf(outcome, "CALL_NOT_PLANNED")).toEqual({ call: callId, kind: "gather", index: 0 });
  });

  it("REQUEST_NOT_CALLED: a planned request of a step that ran, never called", () => {
    const outcome = check(
      edited(run.view, (v) => {
        nodeIn(v, "gather").tool_requests.push({ tool: "retrieve", args: { query: "x", top_k: 1 } });
      }),
    );
    expect(codes(outcome)).toEqual(["REQUEST_NOT_CALLED"]);
    expect(paramsOf(outcome, "REQUEST_NOT_CALLED")).toEqual({ kind: "gather", index: 1, tool: "retrieve" });
  });

  it("ORPHAN_RESULT: a result without an earlier call", () => {
    const outcome = check(
      edited(run.view, (v) => {
        const t = traceIn(v);
        const result = structuredClone(eventOf(t, "tool_returned"));
        result.result.call_id = bogusId("call");
        t.events.splice(indexOf(t, (e) => e.type === "tool_returned") + 1, 0, result);
      }),
    );
    expect(codes(outcome)).toEqual(["ORPHAN_RESULT"]);
  });

  it("RESULT_STEP: a result recorded in another step than its call", () => {
    const outcome = check(
      edited(run.view, (v) => {
        eventOf(traceIn(v), "tool_returned").node_id = nodeIn(v, "derive").id;
      }),
    );
    expect(codes(outcome)).toEqual(["RESULT_STEP"]);
  });

  it("RESULT_COUNT: a call with two results", () => {
    const outcome = check(
      edited(run.view, (v) => {
        const t = traceIn(v);
        const i = indexOf(t, (e) => e.type === "tool_returned");
        t.events.splice(i, 0, structuredClone(t.events[i] as (typeof t.events)[number]));
      }),
    );
    expect(codes(outcome)).toEqual(["RESULT_COUNT"]);
    expect(paramsOf(outcome, "RESULT_COUNT")).toEqual({ call: callId, results: 2 });
  });

  it("RESULT_COUNT: a call without a result", () => {
    const outcome = check(
      edited(run.view, (v) => {
        const t = traceIn(v);
        t.events.splice(
          indexOf(t, (e) => e.type === "tool_returned"),
          1,
        );
      }),
    );
    expect(codes(outcome)).toEqual(["RESULT_COUNT"]);
    expect(paramsOf(outcome, "RESULT_COUNT")).toEqual({ call: callId, results: 0 });
  });
});
