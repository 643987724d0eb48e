import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { TermStats } from "../../../src/core/models/trace.js";
import {
  DEFAULT_MIN_CONFIDENCE,
  extractiveReasoner,
  MIN_COVERAGE_SHARE,
  PICKER_COEFFICIENTS,
  PICKER_FEATURES,
  PICKER_INTERCEPT,
  type PickerFeatures,
  pickerScore,
  pickerScores,
  round4,
} from "../../../src/core/reason/extractive.js";
import { analyze } from "../../../src/core/reason/extractive-v3.js";
import { extractiveReasonerV4 } from "../../../src/core/reason/extractive-v4.js";
import type { ReasonerEvidence, ReasonerInput } from "../../../src/core/reason/reasoner.js";
import { findReasoner, knownReasoners } from "../../../src/core/reason/reasoners.js";
import { contentTerms } from "../../../src/core/retrieval/analyzer.js";

// An abstract written as SciFact's are: the question first, the finding last.
const ABSTRACT =
  "Whether statins lower muscle strength in older adults has been debated for many years. " +
  "Statins are widely prescribed to lower cholesterol in adults at risk of heart disease. " +
  "We enrolled 412 adults aged over 65 in a randomised trial of statins against placebo. " +
  "We found that statins lower muscle strength in older adults by 12% after one year.";

function evidence(id: string, text: string, rank: number, docId: string, start = 0): ReasonerEvidence {
  return { id, docId, span: [start, start + Buffer.byteLength(text)], rank, text };
}

const STATS: TermStats = {
  chunks: 1000,
  avg_chunk_len: 120,
  df: { statin: 20, lower: 300, muscl: 30, strength: 60, older: 80, adult: 150 },
};

function inputOf(question: string, ev: ReasonerEvidence[], minConfidence?: number): ReasonerInput {
  return {
    question,
    queryTerms: contentTerms(question),
    evidence: ev,
    minSupports: 1,
    maxCitations: 2,
    termStats: STATS,
    ...(minConfidence === undefined ? {} : { minConfidence }),
  };
}

describe("extractive 5: the registry keeps every version (issue 20)", () => {
  it("is the default, version 5; extractive 4 stays registered for the runs it made", () => {
    expect(extractiveReasoner.version).toBe("5");
    expect(findReasoner({ id: "extractive", version: "5" })).toBe(extractiveReasoner);
    expect(findReasoner({ id: "extractive", version: "4" })).toBe(extractiveReasonerV4);
    expect(knownReasoners()).toContain("extractive 4");
    expect(knownReasoners()).toContain("extractive 5");
  });
});

describe("extractive 5: the frozen picker is the fit's (bench/fit-confidence.mjs picker)", () => {
  const fit = JSON.parse(
    readFileSync(new URL("../../../bench/results/fit-picker.json", import.meta.url), "utf8"),
  );

  it("has the coefficients bench/results/fit-picker.json records, in PICKER_FEATURES order", () => {
    expect(fit.model.intercept).toBe(PICKER_INTERCEPT);
    expect(fit.model.coefficients).toEqual(PICKER_COEFFICIENTS);
    expect(Object.keys(PICKER_COEFFICIENTS)).toEqual([...PICKER_FEATURES]);
  });
});

describe("extractive 5: deterministic arithmetic, one rounding rule", () => {
  const zero = Object.fromEntries(PICKER_FEATURES.map((f) => [f, 0])) as PickerFeatures;

  it("weighs the rounded features in PICKER_FEATURES order and rounds the score", () => {
    const x = { ...zero, offset: 2.71829, own_coverage: 0.61234, doc_extent: 2.5, finding: 1 };
    let z = PICKER_INTERCEPT;
    for (const f of PICKER_FEATURES) z += PICKER_COEFFICIENTS[f] * round4(x[f]);
    expect(pickerScore(x)).toBe(round4(z));
    // Past the 4th decimal a feature changes nothing.
    expect(pickerScore({ ...x, own_coverage: 0.612341 })).toBe(pickerScore(x));
  });

  it("pins known values: the same on every machine", () => {
    expect(pickerScore(zero)).toBe(PICKER_INTERCEPT);
    expect(pickerScore({ ...zero, finding: 1 })).toBe(round4(PICKER_INTERCEPT + PICKER_COEFFICIENTS.finding));
  });

  it("gives every feature rounded to 4 decimals", () => {
    const input = inputOf("Do statins lower muscle strength in older adults?", [
      evidence("a", ABSTRACT, 1, "statins"),
    ]);
    const analysis = analyze(input);
    for (const s of pickerScores("statins", analysis.ranked, analysis.weights, input))
      for (const f of PICKER_FEATURES) expect(s.features[f]).toBe(round4(s.features[f]));
  });
});

describe("extractive 5: extractive 4's answer, cited by the picked sentence", () => {
  const question = "Do statins lower muscle strength in older adults?";
  const ev = [evidence("a", ABSTRACT, 1, "statins")];

  it("keeps extractive 4's outcome, confidence and cited documents", () => {
    for (const q of [question, "Which trial enrolled adults aged over 65?", "statins"]) {
      const v5 = extractiveReasoner.derive(inputOf(q, ev));
      const v4 = extractiveReasonerV4.derive(inputOf(q, ev));
      expect(v5.kind).toBe(v4.kind);
      expect(v5.kind === "claim" ? v5.confidence : v5.confidence).toBe(
        v4.kind === "claim" ? v4.confidence : v4.confidence,
      );
      if (v5.kind === "claim" && v4.kind === "claim")
        expect(v5.citations.map((c) => c.evidence_id)).toEqual(v4.citations.map((c) => c.evidence_id));
    }
  });

  it("cites the highest-scoring eligible sentence, on a tie the stronger", () => {
    const input = inputOf(question, ev, 0);
    const analysis = analyze(input);
    const scores = pickerScores("statins", analysis.ranked, analysis.weights, input);
    const best = scores.reduce((a, b) => (b.score > a.score ? b : a));
    const d = extractiveReasoner.derive(input);
    expect(d.kind).toBe("claim");
    if (d.kind !== "claim") return;
    expect(d.statement).toBe(best.candidate.statement);
    expect(d.structured.cited_position).toBe(analysis.ranked.indexOf(best.candidate));
    expect(DEFAULT_MIN_CONFIDENCE).toBe(0.22);
  });

  it("never cites a sentence covering less than MIN_COVERAGE_SHARE of what the strongest covers", () => {
    const input = inputOf(question, ev, 0);
    const analysis = analyze(input);
    const inDocument = analysis.ranked.filter((c) => c.docId === "statins");
    const floor = MIN_COVERAGE_SHARE * (inDocument[0]?.coverage ?? 0);
    const eligible = pickerScores("statins", analysis.ranked, analysis.weights, input);
    expect(eligible[0]?.candidate).toBe(inDocument[0]);
    for (const s of eligible.slice(1)) expect(s.candidate.coverage).toBeGreaterThanOrEqual(floor);
    expect(eligible.length).toBeLessThanOrEqual(inDocument.length);
  });

  it("cites the finding where extractive 4 cites the equally strong background sentence", () => {
    const v5 = extractiveReasoner.derive(inputOf(question, ev, 0));
    const v4 = extractiveReasonerV4.derive(inputOf(question, ev, 0));
    expect(v5.kind === "claim" && v5.statement).toBe(
      "We found that statins lower muscle strength in older adults by 12% after one year.",
    );
    expect(v4.kind === "claim" && v4.statement).toBe(
      "Whether statins lower muscle strength in older adults has been debated for many years.",
    );
  });

  it("derives the same outcome twice from the same input", () => {
    const input = inputOf(question, ev, 0);
    expect(extractiveReasoner.derive(input)).toEqual(extractiveReasoner.derive(input));
  });
});
