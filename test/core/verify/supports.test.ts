/**
 * Issue 21 item 13 in the pipeline's verify step: a claim's supports count by distinct source
 * span (document and byte range), whatever reasoner proposed it. A reasoner that cites the same
 * bytes twice does not reach min_supports_per_claim 2; two different spans do.
 */
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/core/canonical.js";
import type { Reasoner, ReasonerInput } from "../../../src/core/reason/reasoner.js";
import { produceFixture } from "../../helpers/produce.js";

/** A test reasoner citing the given [start, end) byte ranges of the first evidence. */
const citing = (...spans: Array<[number, number]>): Reasoner => ({
  id: "extractive",
  version: "2",
  derive(input: ReasonerInput) {
    const ev = input.evidence[0];
    if (ev === undefined) throw new Error("no evidence");
    const bytes = Buffer.from(ev.text, "utf8");
    return {
      kind: "claim",
      statement: "A claim.",
      confidence: 1,
      citations: spans.map(([s, e]) => ({
        evidence_id: ev.id,
        span: [s, e] as [number, number],
        sha256: sha256Hex(bytes.subarray(s, e)),
      })),
      structured: {},
    };
  },
});

const verifyDecision = (view: Awaited<ReturnType<typeof produceFixture>>["view"]) => {
  for (const e of view.trace?.events ?? [])
    if (e.type === "step_finished" && e.output.type === "verify") return e.output.decisions[0];
  return undefined;
};

describe("issue 21 item 13: the verify step counts supports by distinct source span", () => {
  it("item 13: the same bytes cited twice are one support; two different spans are two", async () => {
    const constraints = { min_supports_per_claim: 2, max_citations: 3 };
    const twice = await produceFixture("How is a trick won?", {
      constraints,
      reasoner: citing([0, 8], [0, 8]),
    });
    expect(verifyDecision(twice.view)).toMatchObject({
      status: "rejected",
      reasons: ["1 grounded support(s), 2 required"],
    });
    const two = await produceFixture("How is a trick won?", {
      constraints,
      reasoner: citing([0, 8], [8, 16]),
    });
    expect(verifyDecision(two.view)).toMatchObject({ status: "validated", reasons: [] });
  });
});
