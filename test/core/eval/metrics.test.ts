import { describe, expect, it } from "vitest";
import { regressions } from "../../../src/core/eval/gate.js";
import {
  answerHit,
  auroc,
  citationPrecision,
  documentRanking,
  mean,
  mrrAt,
  ndcgAt,
  rankDocuments,
  rationalePrecision,
  recallAt,
} from "../../../src/core/eval/metrics.js";

describe("nDCG@k", () => {
  it("matches a hand-computed graded example", () => {
    // ranking a, b, c, d with grades a:0, b:2, c:1, d:2 (plus e:1 unretrieved)
    // DCG  = (2^2-1)/log2(3) + (2^1-1)/log2(4) + (2^2-1)/log2(5) = 3/1.58496 + 1/2 + 3/2.32193 = 1.89279 + 0.5 + 1.29203 = 3.68482
    // IDCG = 3/log2(2) + 3/log2(3) + 1/log2(4) + 1/log2(5)   = 3 + 1.89279 + 0.5 + 0.43068 = 5.82347
    const judgments = { a: 0, b: 2, c: 1, d: 2, e: 1 };
    expect(ndcgAt(["a", "b", "c", "d"], judgments, 10)).toBeCloseTo(3.68482 / 5.82347, 4);
  });

  it("gives equal credit to documents tied in grade, whichever comes first", () => {
    const judgments = { x: 1, y: 1 };
    expect(ndcgAt(["x", "y"], judgments, 10)).toBe(1);
    expect(ndcgAt(["y", "x"], judgments, 10)).toBe(1);
    expect(ndcgAt(["z", "x"], judgments, 1)).toBe(0);
  });

  it("is null (excluded), not perfect, without relevant documents", () => {
    expect(ndcgAt(["a"], {}, 10)).toBeNull();
    expect(ndcgAt(["a"], { a: 0 }, 10)).toBeNull();
  });
});

describe("Recall@k and MRR@k", () => {
  it("recall counts relevant documents in the top k; null with none relevant", () => {
    expect(recallAt(["a", "b", "c"], { a: 1, c: 2, z: 1 }, 2)).toBeCloseTo(1 / 3);
    expect(recallAt(["a"], {}, 100)).toBeNull();
  });

  it("MRR is the reciprocal rank of the first relevant document, 0 when none is retrieved", () => {
    expect(mrrAt(["a", "b", "c"], { c: 1 }, 10)).toBeCloseTo(1 / 3);
    expect(mrrAt(["a", "b"], { z: 1 }, 10)).toBe(0);
    expect(mrrAt(["a", "b", "c"], { c: 1 }, 2)).toBe(0);
    expect(mrrAt(["a"], {}, 10)).toBeNull();
  });
});

describe("citation and answer metrics", () => {
  it("citation precision is the share of citations from relevant documents", () => {
    expect(citationPrecision(["a", "b", "a"], { a: 1 })).toBeCloseTo(2 / 3);
    expect(citationPrecision([], { a: 1 })).toBeNull();
    expect(citationPrecision(["a"], {})).toBeNull();
  });

  it("rationale precision is the share of citations overlapping a rationale sentence of their document", () => {
    const rationales = { d1: [[100, 200]] as Array<[number, number]> };
    const cite = (doc_id: string, a: number, b: number) => ({ doc_id, doc_span: [a, b] as [number, number] });
    expect(
      rationalePrecision([cite("d1", 150, 180), cite("d1", 0, 100), cite("d2", 120, 130)], rationales),
    ).toBeCloseTo(1 / 3);
    expect(rationalePrecision([cite("d1", 199, 260)], rationales)).toBe(1);
    expect(rationalePrecision([], rationales)).toBeNull();
    expect(rationalePrecision([cite("d1", 0, 5)], undefined)).toBeNull();
    expect(rationalePrecision([cite("d1", 0, 5)], {})).toBeNull();
  });

  it("answer hit needs every expected string, case-insensitively", () => {
    expect(answerHit("Opened in 1937 in San Francisco", ["1937", "san francisco"])).toBe(1);
    expect(answerHit("Opened in 1937", ["1937", "Oakland"])).toBe(0);
    expect(answerHit(null, ["x"])).toBe(0);
    expect(answerHit("anything", undefined)).toBeNull();
  });

  it("means exclude cases without the metric and say how many counted", () => {
    expect(mean([1, null, 0])).toEqual({ mean: 0.5, cases: 2 });
    expect(mean([null])).toEqual({ mean: null, cases: 0 });
  });

  it("documents rank by their best chunk", () => {
    expect(documentRanking(["a", "b", "a", "c", "b", "d"], 3)).toEqual(["a", "b", "c"]);
  });

  it("the document ranking searches deeper when one document fills the chunk ranking", () => {
    // 50 chunks of "a" outrank the chunks of b and c; a first search for 20 chunks sees only "a".
    const chunks = [...Array.from({ length: 50 }, () => "a"), "b", "c"];
    const depths: number[] = [];
    const search = (k: number) => {
      depths.push(k);
      return chunks.slice(0, k);
    };
    expect(rankDocuments(search, 2)).toEqual(["a", "b"]);
    expect(depths).toEqual([20, 80]);
    // Fewer matching chunks than asked for: the ranking is complete, however short.
    expect(rankDocuments(() => ["a", "a"], 100)).toEqual(["a"]);
  });
});

describe("baseline gate", () => {
  it("lists metrics worse than the baseline by more than the tolerance, in their direction", () => {
    const base = {
      ndcg_at_10: { mean: 0.7 },
      insufficiency_rate: { mean: 0.1 },
      answer_hit_rate: { mean: null },
    };
    expect(
      regressions(base, { ndcg_at_10: { mean: 0.695 }, insufficiency_rate: { mean: 0.1 } }, 0.01),
    ).toEqual([]);
    expect(
      regressions(base, { ndcg_at_10: { mean: 0.68 }, insufficiency_rate: { mean: 0.2 } }, 0.01).map(
        (r) => r.metric,
      ),
    ).toEqual(["ndcg_at_10", "insufficiency_rate"]);
    expect(regressions(base, { insufficiency_rate: { mean: 0.1 } }, 0.01).map((r) => r.metric)).toEqual([
      "ndcg_at_10",
    ]);
  });
});

describe("auroc", () => {
  it("is 1 when every answerable case is more confident than every unanswerable one", () => {
    const cases = [
      { answerable: true, confidence: 0.9 },
      { answerable: true, confidence: 0.7 },
      { answerable: false, confidence: 0.2 },
    ];
    expect(auroc(cases)).toBe(1);
  });

  it("counts ties as half and is null without both kinds", () => {
    expect(
      auroc([
        { answerable: true, confidence: 0.5 },
        { answerable: false, confidence: 0.5 },
      ]),
    ).toBe(0.5);
    expect(
      auroc([
        { answerable: true, confidence: 0.1 },
        { answerable: true, confidence: 0.3 },
        { answerable: false, confidence: 0.2 },
      ]),
    ).toBe(0.5);
    expect(auroc([{ answerable: true, confidence: 0.5 }])).toBeNull();
  });
});
