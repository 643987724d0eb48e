/**
 * Extractive reasoner 4, kept so runs it made still replay and re-derive (reasoners.ts), and the
 * document choice and confidence extractive 5 (extractive.ts) keeps unchanged. Do not change what
 * this file computes: a change would break the re-derivation of every run extractive 4 made.
 *
 * Extractive 4, as it was: extractive and deterministic (docs/design.md §3.4). It reads
 * the same candidate sentences as extractive 3 (extractive-v3.ts: whole sentences of the
 * evidence, weighed by the corpus's BM25 idf, read in context), but **chooses** the sentence to
 * cite by a calibrated probability that it answers the question, rather than by coverage alone.
 *
 * - **Candidates**: the CANDIDATES strongest sentences (extractive 2's strength order). Each gets
 *   the FEATURES below, each a deterministic function of the recorded input rounded to 4
 *   decimals: extractive 3's thirteen (coverage of the question's idf weight by the cited bytes,
 *   their piece of evidence and the title; relevance; retrieval rank; margin; question length;
 *   rarest word missing; fragment; agreement), and ten more: the candidate's place in the
 *   strength order and its gap to the strongest; how much of the candidate list and how high in
 *   the retrieval its document stands; for a short question (at most SHORT_TERMS terms) the weight
 *   of the words the sentence lacks, and whether it lacks any; how closely together the
 *   question's words sit in the sentence; how many question words it lacks; the share of the
 *   question's words the corpus has never seen; and how specific (mean idf) the question is.
 * - **Probability**: `1 / (1 + exp(-z))`, `z` the frozen COEFFICIENTS (4-decimal constants) times
 *   the rounded features, summed in FEATURES order and rounded to 4 decimals; the probability is
 *   rounded to 4 decimals and kept inside [0.0001, 0.9999]. The coefficients are a logistic
 *   regression whose target is "this candidate's document is judged relevant", fitted on
 *   training splits only, then Platt-scaled on out-of-fold scores of the chosen candidates
 *   (`bench/fit-confidence.mjs fit`; bench/results/fit-confidence.json). Every operation is an
 *   IEEE-754 double operation plus V8's `Math.exp` and `Math.log`, and every intermediate that
 *   reaches the output is rounded, so machines agree (test/core/reason/extractive-v4.test.ts).
 * - **Choice**: the document of the most probable candidate (on a tie, the stronger one) answers,
 *   at that candidate's probability (the confidence), cited by its strongest sentence in
 *   extractive 2's order: the model is fitted on "this document is judged relevant", so it picks
 *   the document, and coverage picks the sentence that states the answer. Extra citations only
 *   from other documents at least EXTRA_SHARE as probable and above `min_confidence`, each by its
 *   strongest sentence.
 * - **Keyword queries** (at most KEYWORD_WORDS words and no question mark) get at most
 *   KEYWORD_CAP, below the default `min_confidence`: a sentence that merely contains the word
 *   does not show that it answers anything, so such a query is declined with a reason that
 *   says so, unless the caller lowers `min_confidence` to KEYWORD_CAP or below.
 * - Below `min_confidence` (default DEFAULT_MIN_CONFIDENCE, the operating point chosen on the
 *   fit split: docs/eval.md) the answer is "insufficient evidence", naming the best candidate.
 */
import { type Candidate, citationsOf, strength, termsOf, tooFewSupports } from "./extractive-v2.js";
import {
  type Analysis,
  analyze,
  isKeywordQuery,
  round4,
  FEATURES as V3_FEATURES,
  featuresOf as v3Features,
} from "./extractive-v3.js";
import type { Derivation, Reasoner, ReasonerInput } from "./reasoner.js";

export { isKeywordQuery, round4, termWeights } from "./extractive-v3.js";

const EXTRACTIVE_REASONER_ID = "extractive";
/** 4: the cited sentence chosen by a calibrated probability over 23 features; keyword queries capped below the threshold. */
const EXTRACTIVE_REASONER_VERSION = "4";

/** The default `min_confidence`: the probability below which the best candidate is declined. */
export const DEFAULT_MIN_CONFIDENCE = 0.22;
/** A query of at most this many words and no question mark is a keyword query. */
export const KEYWORD_WORDS = 2;
/** The highest confidence a keyword query can get: below DEFAULT_MIN_CONFIDENCE. */
export const KEYWORD_CAP = 0.15;
/** How many of the strongest candidates are scored. */
export const CANDIDATES = 8;
/** A question of at most this many terms is short: every one of its words is the question. */
const SHORT_TERMS = 5;
/** An extra citation must be at least this share as probable as the first. */
const EXTRA_SHARE = 0.9;

/** The features, in the order the coefficients are applied. */
export const FEATURES = [
  ...V3_FEATURES,
  "position",
  "gap",
  "doc_share",
  "doc_rank",
  "short_missing",
  "compactness",
  "missing_terms",
  "short_incomplete",
  "unknown_terms",
  "specificity",
] as const;
export type FeatureName = (typeof FEATURES)[number];
export type Features = Record<FeatureName, number>;

/**
 * Frozen coefficients (intercept, then one per feature in FEATURES order), as printed by
 * `node bench/fit-confidence.mjs fit`. Refitting means a new reasoner version.
 */
export const INTERCEPT = -1.5804;
export const COEFFICIENTS: Readonly<Record<FeatureName, number>> = {
  coverage: 0.5398,
  piece_coverage: 0.3619,
  raw_coverage: -0.0822,
  title_coverage: 0,
  relevance: 0.3668,
  rank: 0.0189,
  margin: 2.024,
  terms_log: 0.7097,
  one_term: 0,
  two_terms: 0,
  missing_rare: -0.894,
  fragment: -0.2644,
  agreement: 0.3146,
  position: 0.2355,
  gap: 2.2972,
  doc_share: 1.4394,
  doc_rank: -0.2486,
  short_missing: -1.4961,
  compactness: -0.0828,
  missing_terms: -0.3838,
  short_incomplete: 0.4479,
  unknown_terms: -2.6274,
  specificity: -2.2279,
};

/** `z` from rounded features, in FEATURES order, rounded: the linear part of the model. */
export function score(features: Features): number {
  let z = INTERCEPT;
  for (const name of FEATURES) z += COEFFICIENTS[name] * round4(features[name]);
  return round4(z);
}

/** The probability for a (rounded) `z`, rounded to 4 decimals and kept inside [0.0001, 0.9999]. */
export function probabilityOf(z: number): number {
  const p = round4(1 / (1 + Math.exp(-z)));
  return Math.min(0.9999, Math.max(0.0001, p));
}

/**
 * Question words next to each other: the number of distinct question terms in the sentence over
 * the length (in terms) of the shortest stretch holding them all; 1 for one term or none.
 */
function compactness(c: Candidate): number {
  const tokens = termsOf(c.statement);
  const want = new Set(c.covered.filter((t) => tokens.includes(t)));
  if (want.size <= 1) return 1;
  const count = new Map<string, number>();
  let have = 0;
  let lo = 0;
  let best = Number.POSITIVE_INFINITY;
  for (let hi = 0; hi < tokens.length; hi++) {
    const t = tokens[hi] as string;
    if (want.has(t)) {
      count.set(t, (count.get(t) ?? 0) + 1);
      if (count.get(t) === 1) have++;
    }
    while (have === want.size) {
      best = Math.min(best, hi - lo + 1);
      const u = tokens[lo] as string;
      if (want.has(u)) {
        count.set(u, (count.get(u) as number) - 1);
        if (count.get(u) === 0) have--;
      }
      lo++;
    }
  }
  return want.size / best;
}

/** The question-level features: the same for every candidate of one input. */
function questionFeatures(
  input: ReasonerInput,
  analysis: Analysis,
): { unknown: number; specificity: number } {
  const stats = input.termStats;
  if (stats === undefined || input.queryTerms.length === 0) return { unknown: 0, specificity: 0 };
  const unknown = input.queryTerms.filter((t) => !((stats.df[t] ?? 0) > 0)).length / input.queryTerms.length;
  const weights = [...analysis.weights.values()];
  const highest = Math.log(1 + (stats.chunks + 0.5) / 0.5);
  const mean = weights.reduce((a, b) => a + b, 0) / Math.max(1, weights.length);
  return { unknown, specificity: highest === 0 ? 0 : Math.min(1, mean / highest) };
}

/** A candidate's features (the one at `position` in strength order), each rounded to 4 decimals. */
export function featuresOf(
  c: Candidate,
  position: number,
  analysis: Analysis,
  input: ReasonerInput,
  question = questionFeatures(input, analysis),
): Features {
  const base = v3Features(c, analysis, input);
  const { ranked, weights } = analysis;
  const top = ranked[0] as Candidate;
  const listed = ranked.slice(0, 10);
  const docRank = Math.min(...input.evidence.filter((e) => e.docId === c.docId).map((e) => e.rank));
  const n = weights.size;
  const missing = n - c.covered.length;
  const features: Features = {
    ...base,
    position: Math.log(1 + position),
    gap: Math.max(0, Math.min(2, strength(top) - strength(c))),
    doc_share: listed.filter((x) => x.docId === c.docId).length / listed.length,
    doc_rank: Math.min(9, docRank - 1),
    short_missing: n <= SHORT_TERMS ? 1 - base.raw_coverage : 0,
    compactness: compactness(c),
    missing_terms: Math.log(1 + missing),
    short_incomplete: n <= SHORT_TERMS && missing > 0 ? 1 : 0,
    unknown_terms: question.unknown,
    specificity: question.specificity,
  };
  for (const name of FEATURES) features[name] = round4(features[name]);
  return features;
}

/** A scored candidate: its place in strength order, features, `z` and probability (uncapped). */
export interface Scored {
  candidate: Candidate;
  position: number;
  features: Features;
  z: number;
  probability: number;
}

/**
 * The CANDIDATES strongest candidates, scored, most probable first (on equal `z` the stronger
 * first). `bench/fit-confidence.mjs` fits on these very features.
 */
export function scoreCandidates(input: ReasonerInput, analysis: Analysis = analyze(input)): Scored[] {
  const question = questionFeatures(input, analysis);
  return analysis.ranked
    .slice(0, CANDIDATES)
    .map((candidate, position) => {
      const features = featuresOf(candidate, position, analysis, input, question);
      const z = score(features);
      return { candidate, position, features, z, probability: probabilityOf(z) };
    })
    .sort((a, b) => b.z - a.z || a.position - b.position);
}

/** Which sentence cites a chosen document: given its id, the scored candidates and the analysis. */
export type CitePicker = (
  docId: string,
  scored: readonly Scored[],
  analysis: Analysis,
  input: ReasonerInput,
) => Candidate;

/** Extractive 4's citation of a document: its strongest scored sentence (extractive 2's order). */
export const strongestScored: CitePicker = (docId, scored) =>
  scored.filter((x) => x.candidate.docId === docId).reduce((a, b) => (b.position < a.position ? b : a))
    .candidate;

/**
 * Extractive 4's derivation, the sentence citing each chosen document picked by `cite`: the
 * document, the confidence and which documents are cited are extractive 4's whatever `cite` is.
 */
export function deriveCalibrated(input: ReasonerInput, cite: CitePicker): Derivation {
  const minConfidence = input.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  const analysis = analyze(input);
  const keyword = isKeywordQuery(input.question);
  const cap = (p: number) => (keyword ? Math.min(p, KEYWORD_CAP) : p);
  const scored = scoreCandidates(input, analysis);
  const best = scored[0];
  if (best === undefined) {
    return {
      kind: "insufficient",
      reason: "no retrieved sentence shares a content word with the question",
      relevantEvidence: 0,
      required: input.minSupports,
      confidence: 0,
    };
  }
  const confidence = cap(best.probability);
  // One answer per document: its probability is its most probable candidate's, and it is
  // cited by the sentence `cite` picks (extractive 4: its strongest, extractive 2's order).
  const docs: Array<{ probability: number; cite: Candidate }> = [];
  for (const s of scored) {
    if (docs.some((d) => d.cite.docId === s.candidate.docId)) continue;
    docs.push({ probability: cap(s.probability), cite: cite(s.candidate.docId, scored, analysis, input) });
  }
  const top = (docs[0] as { cite: Candidate }).cite;
  if (confidence < minConfidence) {
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
  const relevant = docs.filter((d) => d.probability >= minConfidence);
  if (relevant.length < input.minSupports) return tooFewSupports(relevant.length, input, confidence);
  const chosen = relevant.slice(0, input.minSupports).map((d) => d.cite);
  for (const d of relevant.slice(input.minSupports)) {
    if (chosen.length >= input.maxCitations || d.probability < confidence * EXTRA_SHARE) break;
    chosen.push(d.cite);
  }
  const cited = chosen[0] as Candidate;
  const citations = citationsOf(chosen);
  return {
    kind: "claim",
    statement: cited.statement,
    confidence,
    citations,
    structured: {
      matched_terms: cited.covered,
      query_terms: [...input.queryTerms],
      candidates_considered: analysis.ranked.length,
      scored_position: best.position,
      cited_position: analysis.ranked.indexOf(cited),
      coverage: round4(cited.coverage),
      relevance: round4(cited.relevance),
      min_confidence: minConfidence,
      keyword_query: keyword,
      ...Object.fromEntries(FEATURES.map((f) => [`feature_${f}`, best.features[f]])),
    },
  };
}

export const extractiveReasonerV4: Reasoner = {
  id: EXTRACTIVE_REASONER_ID,
  version: EXTRACTIVE_REASONER_VERSION,
  derive: (input) => deriveCalibrated(input, strongestScored),
};
