/**
 * Issue 20 item 1: runs made by an older extractive reasoner keep verifying with their own
 * version; extractive 3's, 4's and 5's confidences are re-derived like the others, and a confidence
 * edited to another version's value is caught.
 */
import { describe, expect, it } from "vitest";
import type { RunView } from "../../../src/core/artifact/view.js";
import { extractiveReasoner } from "../../../src/core/reason/extractive.js";
import { extractiveReasonerV1 } from "../../../src/core/reason/extractive-v1.js";
import { extractiveReasonerV2 } from "../../../src/core/reason/extractive-v2.js";
import { extractiveReasonerV3 } from "../../../src/core/reason/extractive-v3.js";
import { extractiveReasonerV4 } from "../../../src/core/reason/extractive-v4.js";
import { rederiveCheck } from "../../../src/core/verify/checks/rederive.js";
import { DiskStore } from "../../../src/io/store/content-store.js";
import { produceFixture } from "../../helpers/produce.js";

const QUESTION = "How is a trick won in contract bridge?";
const sealing = (root: string) => ({
  store: new DiskStore(root),
  stage: "sealing" as const,
  readProblems: [],
});

describe("rederive across extractive versions", () => {
  it.each([
    ["1", extractiveReasonerV1],
    ["2", extractiveReasonerV2],
    ["3", extractiveReasonerV3],
    ["4", extractiveReasonerV4],
    ["5", extractiveReasoner],
  ])("a run made by extractive %s re-derives with extractive %s, and passes", async (version, reasoner) => {
    const run = await produceFixture(QUESTION, { reasoner });
    expect(run.view.run?.inputs.runtime.reasoner).toEqual({ id: "extractive", version });
    const outcome = rederiveCheck.run(run.view, sealing(run.root));
    expect(outcome.findings).toEqual([]);
    expect(outcome.details).toContain(`re-derived with extractive ${version} `);
  });

  it("catches an extractive 2 run whose confidence was replaced by extractive 3's", async () => {
    const v2 = await produceFixture(QUESTION, { reasoner: extractiveReasonerV2 });
    const v3 = await produceFixture(QUESTION, { reasoner: extractiveReasonerV3 });
    const c2 = v2.view.claims[0]?.confidence;
    const c3 = v3.view.claims[0]?.confidence;
    expect(c2).not.toBe(c3);
    const claim = v2.view.claims[0];
    if (claim === undefined || c3 === undefined) throw new Error("no claim");
    const edited: RunView = { ...v2.view, claims: [{ ...claim, confidence: c3 }] };
    const outcome = rederiveCheck.run(edited, sealing(v2.root));
    expect(outcome.findings.map((f) => f.code)).toContain("REDERIVED_DIFFERS");
  });

  it("catches an extractive 3 run whose confidence was replaced by extractive 4's", async () => {
    const v3 = await produceFixture(QUESTION, { reasoner: extractiveReasonerV3 });
    const v4 = await produceFixture(QUESTION, { reasoner: extractiveReasoner });
    const claim = v3.view.claims[0];
    const c4 = v4.view.claims[0]?.confidence;
    if (claim === undefined || c4 === undefined) throw new Error("no claim");
    expect(claim.confidence).not.toBe(c4);
    const edited: RunView = { ...v3.view, claims: [{ ...claim, confidence: c4 }] };
    const outcome = rederiveCheck.run(edited, sealing(v3.root));
    expect(outcome.findings.map((f) => f.code)).toContain("REDERIVED_DIFFERS");
  });
});
