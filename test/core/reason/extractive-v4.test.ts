import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { TermStats } from "../../../src/core/models/trace.js";
import { extractiveReasonerV3 } from "../../../src/core/reason/extractive-v3.js";
import {
  CANDIDATES,
  COEFFICIENTS,
  DEFAULT_MIN_CONFIDENCE,
  extractiveReasonerV4 as extractiveReasoner,
  FEATURES,
  type Features,
  INTERCEPT,
  KEYWORD_CAP,
  probabilityOf,
  round4,
  score,
  scoreCandidates,
} from "../../../src/core/reason/extractive-v4.js";
import type { ReasonerEvidence, ReasonerInput } from "../../../src/core/reason/reasoner.js";
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
const STATS: TermStats = {
  chunks: 200,
  avg_chunk_len: 120,
  df: { turnip: 1, memori: 2, cell: 9, rotat: 3, crop: 4, promot: 6, trick: 2, bridg: 3 },
};

const inputOf = (question: string, minConfidence?: number, ev = DEMO): ReasonerInput => ({
  question,
  queryTerms: contentTerms(question),
  evidence: ev,
  minSupports: 1,
  maxCitations: 2,
  termStats: STATS,
  ...(minConfidence === undefined ? {} : { minConfidence }),
});
const derive = (question: string, minConfidence?: number, ev = DEMO) =>
  extractiveReasoner.derive(inputOf(question, minConfidence, ev));

describe("extractive 4: the registry keeps every version (issue 20)", () => {
  it("is version 4, still registered for the runs it made, as extractive 3 is", () => {
    expect(extractiveReasoner.version).toBe("4");
    expect(findReasoner({ id: "extractive", version: "4" })).toBe(extractiveReasoner);
    expect(findReasoner({ id: "extractive", version: "3" })).toBe(extractiveReasonerV3);
    expect(knownReasoners()).toContain("extractive 3");
    expect(knownReasoners()).toContain("extractive 4");
  });
});

describe("extractive 4: the frozen model is the fit's (bench/fit-confidence.mjs fit)", () => {
  const fit = JSON.parse(
    readFileSync(new URL("../../../bench/results/fit-confidence.json", import.meta.url), "utf8"),
  );

  it("has the coefficients and the operating point bench/results/fit-confidence.json records", () => {
    expect(fit.model.intercept).toBe(INTERCEPT);
    expect(fit.model.coefficients).toEqual(COEFFICIENTS);
    expect(fit.out_of_fold.chosen_min_confidence).toBe(DEFAULT_MIN_CONFIDENCE);
    // No training case is a one- or two-term query: those weights stay out of the model.
    expect(COEFFICIENTS.one_term).toBe(0);
    expect(COEFFICIENTS.two_terms).toBe(0);
  });
});

describe("extractive 4: deterministic arithmetic, one rounding rule", () => {
  const zero = Object.fromEntries(FEATURES.map((f) => [f, 0])) as Features;

  it("weighs the rounded features in FEATURES order, rounds z, then rounds the probability", () => {
    const x = { ...zero, coverage: 0.61234, margin: 0.2, doc_share: 0.5, specificity: 0.3 };
    let z = INTERCEPT;
    for (const f of FEATURES) z += COEFFICIENTS[f] * round4(x[f]);
    expect(score(x)).toBe(round4(z));
    expect(probabilityOf(score(x))).toBe(round4(1 / (1 + Math.exp(-round4(z)))));
    // Past the 4th decimal a feature changes nothing.
    expect(score({ ...x, coverage: 0.612341 })).toBe(score(x));
  });

  it("pins known values: the same on every machine", () => {
    expect(score(zero)).toBe(INTERCEPT);
    expect(probabilityOf(INTERCEPT)).toBe(round4(1 / (1 + Math.exp(-INTERCEPT))));
    expect(probabilityOf(0)).toBe(0.5);
    // Never 0 or 1: a probability is not a certainty.
    expect(probabilityOf(50)).toBe(0.9999);
    expect(probabilityOf(-50)).toBe(0.0001);
    expect(Object.is(round4(-0.00001), 0)).toBe(true);
  });

  it("derives the same outcome twice from the same input, whatever the evidence order", () => {
    for (const q of ["Who promoted turnips in crop rotation?", "How is a trick won in bridge?"]) {
      expect(derive(q)).toEqual(derive(q));
      const reversed = derive(q, undefined, [...DEMO].reverse());
      const d = derive(q);
      expect(reversed.kind).toBe(d.kind);
      if (reversed.kind === "claim" && d.kind === "claim") expect(reversed.statement).toBe(d.statement);
    }
  });
});

describe("extractive 4: answers from the most probable candidate's document", () => {
  it("scores at most CANDIDATES candidates; cites the strongest sentence of the most probable one's document, at its probability", () => {
    const input = inputOf("Who promoted turnips in crop rotation?");
    const scored = scoreCandidates(input);
    expect(scored.length).toBeGreaterThan(0);
    expect(scored.length).toBeLessThanOrEqual(CANDIDATES);
    for (let i = 1; i < scored.length; i++)
      expect((scored[i - 1] as { z: number }).z).toBeGreaterThanOrEqual((scored[i] as { z: number }).z);
    const best = scored[0];
    const d = extractiveReasoner.derive(input);
    if (d.kind !== "claim" || best === undefined) throw new Error("expected a claim");
    const strongest = scored
      .filter((s) => s.candidate.docId === best.candidate.docId)
      .reduce((a, b) => (b.position < a.position ? b : a));
    expect(d.statement).toBe(strongest.candidate.statement);
    expect(d.confidence).toBe(best.probability);
    expect(d.statement).toContain("Turnip Townshend");
    for (const f of FEATURES) expect(d.structured[`feature_${f}`]).toBe(best.features[f]);
    expect(d.structured.scored_position).toBe(best.position);
    expect(d.structured.cited_position).toBe(strongest.position);
  });

  it("declines below min_confidence, naming the most probable sentence and its confidence", () => {
    const d = derive("Who promoted turnips in crop rotation?", 0.9999);
    expect(d.kind).toBe("insufficient");
    if (d.kind !== "insufficient") return;
    expect(d.reason).toMatch(/^the best candidate has confidence [0-9.]+, below min_confidence 0.9999/);
    expect(d.reason).toContain("earth/crop-rotation.md");
  });

  it("lowers the probability when the question's words are unknown to the corpus", () => {
    const known = scoreCandidates(inputOf("Who promoted turnips in crop rotation?"))[0];
    const unknown = scoreCandidates(inputOf("Who promoted turnips in zyxwv qwvzx?"))[0];
    if (known === undefined || unknown === undefined) throw new Error("no candidate");
    expect(unknown.features.unknown_terms).toBeGreaterThan(0);
    expect(known.features.unknown_terms).toBe(0);
    expect(unknown.probability).toBeLessThan(known.probability);
  });
});

describe("extractive 4: short queries are honest (issue 20 item 4)", () => {
  it("declines a one- or two-word query under the default threshold, saying why", () => {
    expect(KEYWORD_CAP).toBeLessThan(DEFAULT_MIN_CONFIDENCE);
    for (const q of ["turnips", "memory cells", "Turnips."]) {
      const d = derive(q);
      expect(d.kind, q).toBe("insufficient");
      if (d.kind !== "insufficient") continue;
      expect(d.reason).toMatch(/^the question is a (single term|keyword query); a sentence containing it/);
      expect(d.confidence).toBeLessThanOrEqual(KEYWORD_CAP);
    }
  });

  it("never gives a one- or two-word query more than KEYWORD_CAP, whatever the evidence (generated)", () => {
    const words = ["turnips", "memory", "cells", "rotation", "trick", "bridge", "vaccines", "soil", "card"];
    const queries = [...words, ...words.flatMap((a) => words.map((b) => `${a} ${b}`))];
    for (const q of queries)
      for (const ev of [DEMO, DEMO.slice(0, 1), DEMO.slice(1, 2), [...DEMO].reverse()]) {
        const d = derive(q, 0, ev);
        expect(d.confidence ?? 0, q).toBeLessThanOrEqual(KEYWORD_CAP);
        expect(d.confidence ?? 0, q).toBeLessThan(1);
      }
  });

  it("answers a keyword query at that modest confidence only when the caller lowers min_confidence", () => {
    const d = derive("turnips", KEYWORD_CAP);
    expect(d.kind).toBe("claim");
    if (d.kind !== "claim") return;
    expect(d.confidence).toBeLessThanOrEqual(KEYWORD_CAP);
    expect(d.structured.keyword_query).toBe(true);
  });
});
