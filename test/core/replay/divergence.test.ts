import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../src/core/canonical.js";
import { firstDifference, firstDivergence } from "../../../src/core/replay/divergence.js";

const header = { type: "header", run_id: "run_a", spec_id: "spec_a" };
const events = [
  { idx: 0, type: "step_started", kind: "understand" },
  { idx: 1, type: "tool_returned", result: { ok: true, payload: { hits: [{ score: 1.5 }, { score: 1 }] } } },
];
const jsonl = (lines: unknown[]) => `${lines.map((l) => canonicalJson(l)).join("\n")}\n`;
const recorded = jsonl([header, ...events]);

describe("firstDifference", () => {
  it("is null for values with the same canonical JSON, whatever the key order", () => {
    expect(firstDifference({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBeNull();
  });

  it("names the first differing leaf, depth first in key order", () => {
    expect(firstDifference({ b: 1, a: { x: [1, 2] } }, { b: 2, a: { x: [1, 3] } })).toEqual({
      field: "a.x[1]",
      before: 2,
      after: 3,
    });
  });

  it("reports a type change or a missing key at the node where it happens", () => {
    expect(firstDifference({ a: [1] }, { a: { 0: 1 } })).toEqual({
      field: "a",
      before: [1],
      after: { 0: 1 },
    });
    expect(firstDifference({ a: 1 }, { a: 1, b: null })).toBeNull(); // absent and null read the same
    expect(firstDifference({ a: 1 }, { a: 1, b: 0 })).toEqual({ field: "b", before: undefined, after: 0 });
  });
});

describe("firstDivergence", () => {
  it("is null for identical traces", () => {
    expect(firstDivergence(recorded, recorded)).toBeNull();
  });

  it("names the event index, its type, the field and both values", () => {
    const changed = jsonl([
      header,
      events[0],
      {
        idx: 1,
        type: "tool_returned",
        result: { ok: true, payload: { hits: [{ score: 1.5 }, { score: 2 }] } },
      },
    ]);
    expect(firstDivergence(recorded, changed)).toEqual({
      index: 1,
      kind: "tool_returned",
      field: "result.payload.hits[1].score",
      before: 1,
      after: 2,
    });
  });

  it("gives the header index -1", () => {
    const changed = jsonl([{ ...header, spec_id: "spec_b" }, ...events]);
    expect(firstDivergence(recorded, changed)).toMatchObject({ index: -1, kind: "header", field: "spec_id" });
  });

  it("names a missing event when the replay stopped early, and a line that does not parse", () => {
    expect(firstDivergence(recorded, jsonl([header, events[0]]))).toMatchObject({
      index: 1,
      kind: "tool_returned",
      field: "(value)",
      after: null,
    });
    const garbled = recorded.replace('{"idx":0', "{idx:0");
    expect(firstDivergence(recorded, garbled)).toEqual({
      index: 0,
      kind: "step_started",
      field: "(line)",
      before: canonicalJson(events[0]),
      after: canonicalJson(events[0]).replace('{"idx":0', "{idx:0"),
    });
  });
});
