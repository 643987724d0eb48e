/**
 * Unit tests of retrieval_recompute (INV-RET-001): the recorded ranking against a fresh search of the
 * pinned index. Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import type { RunView } from "../../../../src/core/artifact/view.js";
import type { StoreReader } from "../../../../src/core/verify/check.js";
import { retrievalRecomputeCheck } from "../../../../src/core/verify/checks/retrieval-recompute.js";
import {
  answeredRun,
  codes,
  edited,
  eventOf,
  insufficientRun,
  paramsOf,
  sealing,
  traceIn,
} from "./fixture.js";

const run = answeredRun();
const check = (view: RunView = run.view, store: StoreReader = run.store) =>
  retrievalRecomputeCheck.run(view, sealing(store));
const detail = (view: RunView) => paramsOf(check(view), "RETRIEVAL_RECOMPUTED").detail;

describe("retrieval_recompute", () => {
  it("passes the untouched runs", () => {
    expect(codes(check())).toEqual([]);
    expect(codes(check(insufficientRun().view, insufficientRun().store))).toEqual([]);
  });

  it("passes a run without retrieval", () => {
    expect(codes(check({ ...run.view, retrieval: null }))).toEqual([]);
  });

  it("RETRIEVAL_NOT_RECOMPUTED: a pinned store object is missing", () => {
    const outcome = check(run.view, run.store.with({ [run.indexHash]: null }));
    expect(codes(outcome)).toEqual(["RETRIEVAL_NOT_RECOMPUTED"]);
    expect(paramsOf(outcome, "RETRIEVAL_NOT_RECOMPUTED")).toEqual({
      reason: "a pinned store object is unavailable",
    });
  });

  it("RETRIEVAL_NOT_RECOMPUTED: the named index is not an index", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.retrieval) v.retrieval.provenance.index_hash = run.snapshotHash;
      }),
    );
    expect(codes(outcome)).toEqual(["RETRIEVAL_NOT_RECOMPUTED"]);
    expect(paramsOf(outcome, "RETRIEVAL_NOT_RECOMPUTED")).toEqual({ reason: "the pinned index is corrupt" });
  });

  it("RETRIEVAL_NOT_RECOMPUTED: the index was built with other parameters than recorded", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.retrieval) v.retrieval.provenance.k1 = 2;
      }),
    );
    expect(codes(outcome)).toEqual(["RETRIEVAL_NOT_RECOMPUTED"]);
    expect(paramsOf(outcome, "RETRIEVAL_NOT_RECOMPUTED")).toEqual({
      reason: "the pinned index was built with other parameters",
    });
  });

  it("RETRIEVAL_RECOMPUTED: a recorded score that a fresh search does not give", () => {
    const view = edited(run.view, (v) => {
      const hit = v.retrieval?.hits[0];
      if (hit) hit.score += 0.5;
    });
    expect(codes(check(view))).toEqual(["RETRIEVAL_RECOMPUTED"]);
    expect(detail(view)).toMatch(/^rank 1: score \(recorded/);
  });

  it("RETRIEVAL_RECOMPUTED: a hit dropped from the ranking", () => {
    const view = edited(run.view, (v) => {
      v.retrieval?.hits.pop();
    });
    expect(detail(view)).toBe("2 hit(s) from a fresh search, 1 recorded");
  });

  it("RETRIEVAL_RECOMPUTED: a hit's text that is not the snapshot's bytes", () => {
    const view = edited(run.view, (v) => {
      const hit = v.retrieval?.hits[1];
      if (hit) hit.text = hit.text.toUpperCase();
    });
    expect(detail(view)).toBe("rank 2: text differs");
  });

  it("RETRIEVAL_RECOMPUTED: a result whose top_k is not the call's", () => {
    const view = edited(run.view, (v) => {
      if (v.retrieval) v.retrieval.top_k = 2;
    });
    expect(detail(view)).toBe("the result's query or top_k is not the call's");
  });

  it("RETRIEVAL_RECOMPUTED: a result without a retrieve call", () => {
    const view = edited(run.view, (v) => {
      eventOf(traceIn(v), "tool_called").call.tool = "other";
    });
    expect(detail(view)).toBe("no retrieve call recorded for the result");
  });

  it("RETRIEVAL_RECOMPUTED: a call whose query cannot be searched", () => {
    const view = edited(run.view, (v) => {
      eventOf(traceIn(v), "tool_called").call.args.query = " ";
      if (v.retrieval) v.retrieval.query = " ";
    });
    expect(detail(view)).toBe("the call's query or top_k is not searchable");
  });
});
