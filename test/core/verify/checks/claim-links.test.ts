/**
 * Unit tests of claim_links (INV-LNK-001): every support resolves to something recorded before its
 * claim. Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import type { RunView } from "../../../../src/core/artifact/view.js";
import { claimLinksCheck } from "../../../../src/core/verify/checks/claim-links.js";
import { answeredRun, bogusId, codes, edited, eventOf, paramsOf, sealing, traceIn } from "./fixture.js";

const run = answeredRun();
const check = (view: RunView = run.view) => claimLinksCheck.run(view, sealing(run.store));

describe("claim_links", () => {
  it("passes the untouched run", () => {
    expect(codes(check())).toEqual([]);
  });

  it("DANGLING_SUPPORT: a support naming evidence the trace never registered", () => {
    const claim = eventOf(traceIn(run.view), "claim_emitted").claim;
    const outcome = check(
      edited(run.view, (v) => {
        const support = eventOf(traceIn(v), "claim_emitted").claim.supports[0];
        if (support) support.ref = bogusId("ev");
      }),
    );
    expect(codes(outcome)).toEqual(["DANGLING_SUPPORT"]);
    expect(paramsOf(outcome, "DANGLING_SUPPORT")).toEqual({
      claim: claim.id,
      kind: "evidence",
      ref: bogusId("ev"),
    });
  });

  it("DANGLING_SUPPORT: a verdict citing a claim emitted only after it", () => {
    const outcome = check(
      edited(run.view, (v) => {
        const t = traceIn(v);
        // The proposed claim moved after the verdict that cites it.
        const proposed = t.events.findIndex((e) => e.type === "claim_emitted");
        const [moved] = t.events.splice(proposed, 1);
        if (moved) t.events.push(moved);
      }),
    );
    expect(codes(outcome)).toEqual(["DANGLING_SUPPORT"]);
    expect(paramsOf(outcome, "DANGLING_SUPPORT")).toMatchObject({ kind: "claim" });
  });
});
