/**
 * Extractive reasoner 3, kept so runs it made still replay and re-derive (registry.ts), and the
 * feature machinery extractive 4 (extractive.ts) builds on. Do not change what this file
 * computes: a change would break the re-derivation of every run extractive 3 made.
 *
 * Extractive 3, as it was: extractive and deterministic (docs/design.md §3.4). It picks and cites
 * sentences exactly as extractive 2 does (extractive-v2.ts: whole sentences, weighed by the
 * corpus's BM25 idf, read in context), and replaces extractive 2's coverage ratio with a
 * **calibrated probability that the cited sentence answers the question**.
 *
 * - **Features** of a candidate, each a deterministic function of the recorded input, rounded
 *   to 4 decimals (FEATURES below, in a fixed order): how much of the question's idf weight the
 *   cited bytes, their piece of evidence and the document's title cover; the candidate's
 *   relevance, retrieval rank and margin over the best candidate from another document; how
 *   many content terms the question has; how rare the rarest word the evidence lacks is;
 *   whether the sentence is a fragment; and how many of the strongest candidates come from the
 *   same document.
 * - **Confidence** is a logistic model over them: `1 / (1 + exp(-z))`, `z` the frozen
 *   COEFFICIENTS (4-decimal constants, fitted by `bench/fit-confidence.mjs` on training splits
 *   only) times the rounded features, summed in FEATURES order and rounded to 4 decimals; the
 *   probability is rounded to 4 decimals and kept inside [0.0001, 0.9999]. Every operation is an
 *   IEEE-754 double operation plus V8's `Math.exp` and `Math.log`, and every intermediate that
 *   reaches the output is rounded, so machines agree (test/core/reason/extractive-v3.test.ts pins
 *   the arithmetic).
 * - **Keyword queries** (at most KEYWORD_WORDS words and no question mark, e.g. "turnips") get at
 *   most KEYWORD_CAP: a sentence that merely contains the word does not show that it answers
 *   anything. Under the default `min_confidence` such a query is declined with a reason that says
 *   so and names the best sentence; a caller who lowers `min_confidence` to KEYWORD_CAP or
 *   below gets that sentence, at that modest confidence.
 * - Below `min_confidence` (default 0.35, chosen on the fit split: bench/results/fit-confidence-v3.json) the answer is "insufficient evidence", naming the best
 *   candidate and its confidence.
 */
import {
  byStrength,
  type Candidate,
  candidatesOf,
  chosenCitations,
  citationsOf,
  lemma,
  measuredTerm,
  SHORT_QUESTION_TERMS,
  strength,
  termsOf,
  termWeights,
  tooFewSupports,
  WEIGHT_CAP,
} from "./extractive-v2.js";
import type { Derivation, Reasoner, ReasonerInput } from "./reasoner.js";

export { termWeights } from "./extractive-v2.js";

const EXTRACTIVE_REASONER_ID = "extractive";
/** 3: extractive 2's sentence choice; confidence a calibrated probability; keyword queries capped. */
const EXTRACTIVE_REASONER_VERSION = "3";

/** The default `min_confidence`: the probability below which a candidate is declined. */
export const DEFAULT_MIN_CONFIDENCE = 0.35;

/** A query of at most this many words and no question mark is a keyword query. */
export const KEYWORD_WORDS = 2;
/** The highest confidence a keyword query can get: a word found is not a question answered. */
export const KEYWORD_CAP = 0.25;
/** A sentence of fewer words than this is a fragment (a label, a heading that slipped through). */
const FRAGMENT_WORDS = 8;
/** Candidates within this share of the best one's strength count as its peers for `agreement`. */
const PEER_RATIO = 0.9;

/** The features, in the order the coefficients are applied. */
export const FEATURES = [
  "coverage",
  "piece_coverage",
  "raw_coverage",
  "title_coverage",
  "relevance",
  "rank",
  "margin",
  "terms_log",
  "one_term",
  "two_terms",
  "missing_rare",
  "fragment",
  "agreement",
] as const;
export type FeatureName = (typeof FEATURES)[number];
export type Features = Record<FeatureName, number>;

/**
 * Frozen logistic-regression coefficients (intercept first, then one per feature, in FEATURES
 * order), as printed by `node bench/fit-confidence.mjs` (bench/results/fit-confidence-v3.json holds
 * the fit's inputs and held-out figures). Refitting means a new reasoner version.
 */
export const INTERCEPT = -1.5061;
export const COEFFICIENTS: Readonly<Record<FeatureName, number>> = {
  coverage: -0.8245,
  piece_coverage: 2.6405,
  raw_coverage: -0.511,
  title_coverage: 0,
  relevance: 1.6333,
  rank: -0.2346,
  margin: 1.6188,
  terms_log: -0.5505,
  one_term: 0,
  two_terms: 0,
  missing_rare: -1.4532,
  fragment: 0,
  agreement: 0.9622,
};

/** Rounds to 4 decimals; the one rounding rule of this reasoner's arithmetic. */
export function round4(x: number): number {
  const r = Math.round(x * 10_000) / 10_000;
  return Object.is(r, -0) ? 0 : r;
}

/** `z` and the probability from rounded features: the whole of the model, in a fixed order. */
export function probability(features: Features): number {
  let z = INTERCEPT;
  for (const name of FEATURES) z += COEFFICIENTS[name] * round4(features[name]);
  const p = round4(1 / (1 + Math.exp(-round4(z))));
  return Math.min(0.9999, Math.max(0.0001, p));
}

/** True for a keyword query: at most KEYWORD_WORDS words, and not asked as a question. */
export function isKeywordQuery(question: string): boolean {
  const words = question
    .trim()
    .split(/\s+/u)
    .filter((w) => /[\p{L}\p{N}]/u.test(w));
  return words.length <= KEYWORD_WORDS && !question.includes("?");
}

/** Everything extractive 3 reads from an input: the ranked candidates and the question's weights. */
export interface Analysis {
  weights: ReadonlyMap<string, number>;
  /** The question's full idf weight, and the (capped) weight coverage is measured against. */
  sum: number;
  total: number;
  ranked: Candidate[];
}

/** Weighs the question and ranks the candidate sentences, as extractive 2 does. */
export function analyze(input: ReasonerInput): Analysis {
  const weights = new Map<string, number>();
  for (const [t, w] of termWeights(input.queryTerms, input.termStats))
    weights.set(lemma(t), (weights.get(lemma(t)) ?? 0) + w);
  const sum = [...weights.values()].reduce((a, b) => a + b, 0);
  const total = weights.size > SHORT_QUESTION_TERMS ? Math.min(sum, WEIGHT_CAP) : sum;
  const seen = new Set<string>();
  const measured = measuredTerm(input.question);
  const ranked = input.evidence
    .flatMap((ev) => candidatesOf(ev, weights, total, measured))
    .sort(byStrength)
    .filter((c) => {
      const key = `${c.docId}\u0000${c.docStart}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  return { weights, sum, total, ranked };
}

/** A candidate's features, each rounded to 4 decimals. */
export function featuresOf(c: Candidate, analysis: Analysis, input: ReasonerInput): Features {
  const { weights, sum, ranked } = analysis;
  const share = (terms: Iterable<string>) => {
    let w = 0;
    for (const t of new Set(terms)) w += weights.get(t) ?? 0;
    return sum === 0 ? 0 : Math.min(1, w / sum);
  };
  const ev = input.evidence.find((e) => e.id === c.evidenceId);
  const titleTerms = new Set(ev?.title === undefined ? [] : termsOf(ev.title));
  const pieceTerms = new Set([...(ev === undefined ? [] : termsOf(ev.text)), ...titleTerms]);
  // The rarest question word the piece of evidence lacks, against the rarest word of all.
  let maxIdf = 0;
  let maxMissing = 0;
  for (const [t, w] of weights) {
    maxIdf = Math.max(maxIdf, w);
    if (!pieceTerms.has(t)) maxMissing = Math.max(maxMissing, w);
  }
  const other = ranked.find((x) => x.docId !== c.docId);
  // No candidate from another document: no margin to speak of (a lone piece of evidence is
  // not a clear winner), so it counts as none.
  const margin = other === undefined ? 0 : Math.max(-1, Math.min(1, strength(c) - strength(other)));
  const best = ranked[0] === undefined ? 0 : strength(ranked[0]);
  const peers = ranked.filter((x) => strength(x) >= best * PEER_RATIO).slice(0, 5);
  const agreement = peers.length === 0 ? 0 : peers.filter((x) => x.docId === c.docId).length / peers.length;
  const n = weights.size;
  const features: Features = {
    coverage: c.coverage,
    piece_coverage: c.pieceCoverage,
    raw_coverage: share(c.covered),
    title_coverage: share([...weights.keys()].filter((t) => titleTerms.has(t))),
    relevance: Math.min(2, c.relevance),
    rank: Math.min(9, c.rank - 1),
    margin,
    terms_log: Math.log(1 + n),
    one_term: n === 1 ? 1 : 0,
    two_terms: n === 2 ? 1 : 0,
    missing_rare: maxIdf === 0 ? 0 : maxMissing / maxIdf,
    fragment: c.statement.split(/\s+/u).length < FRAGMENT_WORDS ? 1 : 0,
    agreement,
  };
  for (const name of FEATURES) features[name] = round4(features[name]);
  return features;
}

/** The confidence of a candidate: the model's probability, capped for a keyword query. */
export function confidenceOf(c: Candidate, analysis: Analysis, input: ReasonerInput): number {
  const p = probability(featuresOf(c, analysis, input));
  return isKeywordQuery(input.question) ? Math.min(p, KEYWORD_CAP) : p;
}

export const extractiveReasonerV3: Reasoner = {
  id: EXTRACTIVE_REASONER_ID,
  version: EXTRACTIVE_REASONER_VERSION,
  derive(input: ReasonerInput): Derivation {
    const minConfidence = input.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
    const analysis = analyze(input);
    const { ranked } = analysis;
    const top = ranked[0];
    if (top === undefined) {
      return {
        kind: "insufficient",
        reason: "no retrieved sentence shares a content word with the question",
        relevantEvidence: 0,
        required: input.minSupports,
        confidence: 0,
      };
    }
    const confidence = confidenceOf(top, analysis, input);
    if (confidence < minConfidence) {
      const keyword = isKeywordQuery(input.question);
      const why = keyword
        ? `the question is ${analysis.weights.size === 1 ? "a single term" : "a keyword query"}; ` +
          `a sentence containing it does not show that it answers anything (confidence ${confidence}, ` +
          `below min_confidence ${minConfidence}; at most ${KEYWORD_CAP} for a keyword query)`
        : `the best candidate has confidence ${confidence}, below min_confidence ${minConfidence} ` +
          `(it covers ${Math.round(top.coverage * 100)}% of the question's weight)`;
      return {
        kind: "insufficient",
        reason: `${why}: ${JSON.stringify(top.statement)} (${top.docId})`,
        relevantEvidence: 0,
        required: input.minSupports,
        confidence,
      };
    }
    const relevant = ranked.filter((c) => c === top || confidenceOf(c, analysis, input) >= minConfidence);
    if (relevant.length < input.minSupports) return tooFewSupports(relevant.length, input, confidence);
    // Extractive 2's citations: the supports, then extra ones that add a source or a term.
    const citations = citationsOf(chosenCitations(top, relevant, input));
    const features = featuresOf(top, analysis, input);
    return {
      kind: "claim",
      statement: top.statement,
      confidence,
      citations,
      structured: {
        matched_terms: top.covered,
        query_terms: [...input.queryTerms],
        candidates_considered: ranked.length,
        coverage: round4(top.coverage),
        relevance: round4(top.relevance),
        runner_up_strength: round4(ranked[1] === undefined ? 0 : strength(ranked[1])),
        min_confidence: minConfidence,
        keyword_query: isKeywordQuery(input.question),
        ...Object.fromEntries(FEATURES.map((f) => [`feature_${f}`, features[f]])),
      },
    };
  },
};
