import { describe, expect, it } from "vitest";
import type { TermStats } from "../../../src/core/models/trace.js";
import { extractiveReasonerV2 } from "../../../src/core/reason/extractive-v2.js";
import {
  COEFFICIENTS,
  DEFAULT_MIN_CONFIDENCE,
  extractiveReasonerV3 as extractiveReasoner,
  FEATURES,
  type Features,
  INTERCEPT,
  isKeywordQuery,
  KEYWORD_CAP,
  probability,
  round4,
} from "../../../src/core/reason/extractive-v3.js";
import type { ReasonerEvidence } from "../../../src/core/reason/reasoner.js";
import { findReasoner, knownReasoners } from "../../../src/core/reason/reasoners.js";
import { contentTerms } from "../../../src/core/retrieval/analyzer.js";

function evidence(id: string, text: string, rank: number, docId = `${id}.md`): ReasonerEvidence {
  return { id, docId, span: [0, Buffer.byteLength(text)], rank, text };
}

const DEMO: ReasonerEvidence[] = [
  evidence(
    "t",
    "Charles Townshend earned the nickname Turnip Townshend for promoting turnips in crop rotation. " +
      "Four-field rotation kept the soil fertile.",
    1,
    "earth/crop-rotation.md",
  ),
  evidence(
    "v",
    "Vaccines train memory cells of the immune system to recognise a pathogen.",
    2,
    "science/vaccines.md",
  ),
  evidence(
    "b",
    "In bridge, a trick is won by the highest card of the suit that was led.",
    3,
    "culture/bridge.md",
  ),
];
const STATS: TermStats = { chunks: 200, avg_chunk_len: 120, df: { turnip: 1, memori: 2, cell: 9, rotat: 3 } };

const derive = (question: string, minConfidence?: number, ev = DEMO) =>
  extractiveReasoner.derive({
    question,
    queryTerms: contentTerms(question),
    evidence: ev,
    minSupports: 1,
    maxCitations: 2,
    termStats: STATS,
    ...(minConfidence === undefined ? {} : { minConfidence }),
  });

describe("extractive 3: short queries are honest (issue 20 item 4)", () => {
  it("declines a one-word query under the default threshold, saying it is a single term (`run turnips`)", () => {
    for (const q of ["turnips", "memory", "Turnips."]) {
      const d = derive(q);
      expect(d.kind, q).toBe("insufficient");
      if (d.kind !== "insufficient") continue;
      expect(d.reason).toMatch(/^the question is a single term; a sentence containing it does not show/);
      expect(d.confidence).toBeLessThanOrEqual(KEYWORD_CAP);
      expect(d.confidence).toBeGreaterThan(0);
    }
  });

  it("answers a keyword query with the best sentence at a modest confidence when the caller lowers min_confidence", () => {
    const d = derive("turnips", KEYWORD_CAP);
    expect(d.kind).toBe("claim");
    if (d.kind !== "claim") return;
    expect(d.statement).toContain("Turnip Townshend");
    expect(d.confidence).toBeLessThanOrEqual(KEYWORD_CAP);
    expect(d.structured.keyword_query).toBe(true);
  });

  it("never gives a one- or two-word query more than KEYWORD_CAP, whatever the evidence (generated)", () => {
    const words = [
      "turnips",
      "memory",
      "cells",
      "rotation",
      "trick",
      "bridge",
      "vaccines",
      "soil",
      "card",
      "immune",
    ];
    const queries = [...words, ...words.flatMap((a) => words.map((b) => `${a} ${b}`))];
    for (const q of queries)
      for (const ev of [DEMO, DEMO.slice(0, 1), DEMO.slice(1, 2), [...DEMO].reverse()]) {
        const d = derive(q, 0, ev);
        expect(d.confidence ?? 0, q).toBeLessThanOrEqual(KEYWORD_CAP);
      }
    expect(KEYWORD_CAP).toBeLessThan(DEFAULT_MIN_CONFIDENCE);
  });

  it("treats a short question (with a question mark, or three words or more) as a question, not a keyword query", () => {
    expect(isKeywordQuery("turnips")).toBe(true);
    expect(isKeywordQuery("  memory   cells ")).toBe(true);
    expect(isKeywordQuery("Turnips?")).toBe(false);
    expect(isKeywordQuery("Who invented the piano?")).toBe(false);
    expect(isKeywordQuery("memory T cells")).toBe(false);
    expect(isKeywordQuery("— turnips —")).toBe(true);
  });
});

describe("extractive 3: deterministic arithmetic (issue 20 item 1)", () => {
  const zero = Object.fromEntries(FEATURES.map((f) => [f, 0])) as Features;

  it("rounds every feature to 4 decimals before weighing it, and the output to 4 decimals", () => {
    // A feature that differs past the 4th decimal gives the same confidence.
    const a = { ...zero, coverage: 0.5, piece_coverage: 0.61234, margin: 0.2 };
    const b = { ...zero, coverage: 0.50004, piece_coverage: 0.612341, margin: 0.19996 };
    expect(probability(a)).toBe(probability(b));
    for (let i = 0; i <= 100; i++) {
      const p = probability({
        ...zero,
        piece_coverage: i / 37,
        agreement: (i % 7) / 7,
        margin: (i % 5) / 5 - 0.4,
      });
      expect(p).toBe(round4(p));
      expect(p).toBeGreaterThanOrEqual(0.0001);
      expect(p).toBeLessThanOrEqual(0.9999);
    }
  });

  it("pins the frozen model: known features give known confidences on every machine", () => {
    expect(INTERCEPT).toBe(-1.5061);
    expect(probability(zero)).toBe(round4(1 / (1 + Math.exp(1.5061))));
    expect(probability(zero)).toBe(0.1815);
    const full = {
      ...zero,
      coverage: 1,
      piece_coverage: 1,
      raw_coverage: 1,
      relevance: 1,
      margin: 0.5,
      agreement: 1,
      terms_log: 1.0986,
    };
    let z = INTERCEPT;
    for (const f of FEATURES) z += COEFFICIENTS[f] * full[f];
    expect(probability(full)).toBe(round4(1 / (1 + Math.exp(-round4(z)))));
    expect(probability(full)).toBe(0.9308);
    // Never 0 or 1: a probability is not a certainty.
    expect(probability({ ...zero, piece_coverage: 100, agreement: 100 })).toBe(0.9999);
    expect(probability({ ...zero, missing_rare: 100 })).toBe(0.0001);
  });

  it("rounds -0 to 0 (canonical JSON of a confidence must not depend on the sign of zero)", () => {
    expect(Object.is(round4(-0.00001), 0)).toBe(true);
  });

  it("records its features (rounded) in the claim, so a reader sees why it is confident", () => {
    const d = derive("Who promoted turnips in crop rotation?");
    expect(d.kind).toBe("claim");
    if (d.kind !== "claim") return;
    for (const f of FEATURES) {
      const v = d.structured[`feature_${f}`];
      expect(typeof v).toBe("number");
      expect(v).toBe(round4(v as number));
    }
  });
});

describe("reasoner registry: old runs keep their own version", () => {
  it("still has extractive 1, 2 and 3 beside the default", () => {
    expect(findReasoner({ id: "extractive", version: "3" })).toBe(extractiveReasoner);
    expect(findReasoner({ id: "extractive", version: "2" })).toBe(extractiveReasonerV2);
    expect(findReasoner({ id: "extractive", version: "1" })?.version).toBe("1");
    expect(findReasoner({ id: "extractive", version: "6" })).toBeNull();
    expect(knownReasoners()).toContain("extractive 2");
  });

  it("extractive 2 still derives what it did: coverage confidence, 1 for a single covered term", () => {
    const d = extractiveReasonerV2.derive({
      question: "turnips",
      queryTerms: contentTerms("turnips"),
      evidence: DEMO,
      minSupports: 1,
      maxCitations: 2,
      termStats: STATS,
    });
    expect(d.kind === "claim" && d.confidence).toBe(1);
  });
});

describe("extractive 3: the frozen coefficients are the fit's (issue 20 item 2)", () => {
  it("match bench/results/fit-confidence-v3.json, extractive 3's fit as bench/fit-confidence.mjs wrote it", async () => {
    const { readFileSync } = await import("node:fs");
    const fit = JSON.parse(
      readFileSync(new URL("../../../bench/results/fit-confidence-v3.json", import.meta.url), "utf8"),
    );
    expect(fit.model.intercept).toBe(INTERCEPT);
    expect(fit.model.coefficients).toEqual(COEFFICIENTS);
    // Features the fit could not support stay out of the model.
    for (const f of ["one_term", "two_terms", "title_coverage", "fragment"] as const)
      expect(COEFFICIENTS[f]).toBe(0);
  });
});
