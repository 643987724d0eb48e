/**
 * Extractive reasoner 2, kept so runs it made still replay and re-derive (reasoners.ts), and the
 * candidate machinery extractive 3 (extractive.ts) builds on: sentence selection, citations and
 * the coverage shares are extractive 2's, unchanged. Do not change what this file computes: a
 * change would break the re-derivation of every run extractive 2 made.
 *
 * Extractive 2, as it was: extractive and deterministic (docs/design.md §3.4). It reads whole sentences of
 * the evidence (src/core/text/sentences.ts), weighs the question's words by the corpus's own
 * statistics (BM25 idf from the recorded `term_stats`), and cites the best sentence verbatim.
 *
 * - **Relevance** of a sentence: the idf-weighted, BM25-saturated matches of the question's
 *   terms in the sentence, a bonus for question terms that appear side by side, and credit
 *   for terms its context covers: the sentence before it when it opens by referring back
 *   ("It was invented ..."), at nearly full weight, and the document's title at half weight.
 * - **Confidence** in [0, 1]: the mean of two shares of the question's idf weight, the share
 *   the cited bytes cover (the sentence, plus the sentence before it when the answer leans on
 *   it) and the share the piece of evidence they come from covers. The weight of a question
 *   of more than SHORT_QUESTION_TERMS terms is capped at WEIGHT_CAP, so a long claim is not
 *   held to every one of its words; a short question is held to all of them. A question whose rarest
 *   words appear nowhere in the evidence scores low, however common its other words are.
 *   Below `min_confidence` (default 0.6) the answer is "insufficient evidence", naming the
 *   best candidate and its confidence.
 * - **Extra citations** only when about as relevant as the first and from another document or
 *   covering a question term the first does not.
 */
import { sha256Hex } from "../canonical.js";
import type { TermStats } from "../models/trace.js";
import { getAnalyzer } from "../retrieval/analyzer.js";
import { refersBack, type Sentence, splitSentences } from "../text/sentences.js";
import type { Derivation, Reasoner, ReasonerCitation, ReasonerEvidence, ReasonerInput } from "./reasoner.js";

const ID = "extractive";
/** 2: weighted, in-context sentence selection; coverage confidence and min_confidence. */
const VERSION = "2";

/** Extractive 2's default `min_confidence`: an answer must cover at least this share of the question's weight. */
const DEFAULT_MIN_CONFIDENCE = 0.6;

/**
 * The question weight an answer is measured against is capped at this many idf units (about
 * four rare words): chosen on SciFact train claims against demo/unanswerable-scifact, where it
 * lifts the AUROC of confidence from 0.87 to 0.96.
 */
export const WEIGHT_CAP = 20;
/**
 * Questions of at most this many content terms are not capped: in "Which country hosted the
 * 2016 Summer Olympics?" every word is the question, and a sentence about the 1996 Summer
 * Olympics must not reach the threshold on "summer" and "olympics" alone. Chosen on the same
 * two sets: it lifts the unanswerable set from 87.3% to 90.0% insufficient and leaves every
 * SciFact train figure unchanged.
 */
export const SHORT_QUESTION_TERMS = 4;
/** Sentences with fewer words than this are headings or fragments, not answers. */
const MIN_SENTENCE_WORDS = 4;
/** BM25 saturation inside one sentence, and length normalisation against a typical sentence. */
const K1 = 1.2;
const B = 0.5;
const TYPICAL_SENTENCE_TERMS = 14;
/** Share of a term's weight credited when the referred-to previous sentence (cited too) holds it. */
const PREVIOUS_SENTENCE_CREDIT = 1;
/** Share of a term's weight credited when only the document's title holds it (not cited). */
const TITLE_CREDIT = 0.5;
/** Share of a pair's weight added when two question terms appear side by side, in order. */
const PROXIMITY_BONUS = 0.15;
/** Weight of (normalised) relevance beside coverage when ranking candidates. */
const RELEVANCE_SHARE = 0.2;
/** An extra citation must score at least this share of the first one's strength. */
export const EXTRA_CITATION_RATIO = 0.95;
/**
 * Strength lost per retrieval rank below the first: the chunk's BM25 rank is evidence too, so
 * a sentence from a lower-ranked chunk must cover a little more to win.
 */
const RANK_PENALTY = 0.01;

const english = getAnalyzer("english");

/**
 * Irregular past forms, as the english analyzer stems them, mapped to their verb's stem, so
 * "It began in France" answers "Where did it begin?". Forms that are also common nouns or
 * adjectives ("left", "rose", "saw", "felt", "found") are left alone.
 */
const IRREGULAR: ReadonlyMap<string, string> = new Map(
  "began:begin begun:begin won:win wrote:write written:write built:build made:make ran:run gave:give given:give took:take taken:take becam:becom led:lead held:hold fought:fight sold:sell taught:teach thought:think brought:bring bought:bui caught:catch drew:draw drawn:draw grew:grow grown:grow knew:know known:know rode:ride ridden:ride risen:rise sang:sing sung:sing spoke:speak spoken:speak stood:stand struck:strike swam:swim threw:throw thrown:throw wore:wear worn:wear chose:choos chosen:choos eaten:eat fallen:fall flew:fly flown:fly forgot:forget froze:freez frozen:freez hid:hide hidden:hide lost:lose meant:mean paid:pai said:sai sent:send spent:spend told:tell understood:understand went:go gone:go seen:see kept:keep slept:sleep dealt:deal sought:seek"
    .split(" ")
    .map((pair) => pair.split(":") as [string, string]),
);

/** A term with irregular verb forms folded onto the verb's stem. */
export function lemma(term: string): string {
  return IRREGULAR.get(term) ?? term;
}

/**
 * Texts already tokenized in this process. A run derives twice from the same evidence (the
 * producer, then the sealing verifier's rederive), and each candidate sentence is read again as
 * the context of the next. Tokenizing is a pure function of the text, so a remembered answer is
 * the answer; the memo is emptied past MEMO_TEXTS texts, so a long eval does not grow it.
 */
const termsMemo = new Map<string, readonly string[]>();
const MEMO_TEXTS = 4096;

/** The sentence's (or question's) content terms, stemmed, stop words dropped, irregular forms folded. */
export function termsOf(text: string): readonly string[] {
  let terms = termsMemo.get(text);
  if (terms === undefined) {
    if (termsMemo.size >= MEMO_TEXTS) termsMemo.clear();
    terms = english.tokenize(text).map(lemma);
    termsMemo.set(text, terms);
  }
  return terms;
}

/**
 * "How long / far / tall ... is X?" asks for a measurement: a sentence stating a number with
 * a unit answers the "long" of the question even without the word ("It stretches for more
 * than 2,300 kilometres"). The question word's term counts as covered by such a sentence.
 */
const MEASURE_QUESTION = /^\s*how\s+(long|far|tall|high|deep|wide|big|large|heavy|old|fast)\b/iu;
const MEASUREMENT =
  /\d[\d,.]*\s*(?:%|percent|per\s*cent|k?m\b|cm\b|mm\b|kg\b|g\b|lb|kilo|metre|meter|mile|feet|foot|ft\b|inch|tonne|ton|year|month|week|day|hour|minute|second|km\/h|mph|knot|degree|°)/iu;

/** The question term a measurement answers ("long" in "How long ..."), or null. */
export function measuredTerm(question: string): string | null {
  const m = MEASURE_QUESTION.exec(question);
  const term = m === null ? null : english.term((m[1] as string).toLowerCase());
  return term === null ? null : lemma(term);
}

/**
 * Each query term's weight: Lucene's BM25 idf over the index's chunks, from the recorded
 * statistics. A term the index does not hold gets the highest idf (it is as rare as it gets).
 * Without statistics (a payload that lacks them) every term weighs 1.
 */
export function termWeights(
  queryTerms: readonly string[],
  stats: TermStats | undefined,
): Map<string, number> {
  const weights = new Map<string, number>();
  for (const t of queryTerms) {
    if (stats === undefined) weights.set(t, 1);
    else {
      const n = stats.chunks;
      const df = Math.min(stats.df[t] ?? 0, n);
      weights.set(t, Math.log(1 + (n - df + 0.5) / (df + 0.5)));
    }
  }
  return weights;
}

export interface Candidate {
  evidenceId: string;
  rank: number;
  docId: string;
  /** Byte span inside the evidence of what would be cited: the sentence, or the one before and it. */
  citeStart: number;
  citeEnd: number;
  statement: string;
  docStart: number;
  /** Question terms the cited bytes hold. */
  covered: string[];
  coverage: number;
  /** Share of the question's weight the whole piece of evidence covers. */
  pieceCoverage: number;
  relevance: number;
}

/**
 * Candidates rank by the share of the question they cover, then by relevance: saturation,
 * phrase matches and the title only decide between sentences that cover about as much, and
 * retrieval rank breaks near-ties.
 */
export function strength(c: Candidate): number {
  return c.coverage + RELEVANCE_SHARE * c.relevance - RANK_PENALTY * (c.rank - 1);
}

/**
 * Confidence: the mean of what the cited bytes cover and what the piece of evidence they come
 * from covers (a sentence is read in its context), each a share of the capped question weight.
 */
function confidenceOf(c: Candidate): number {
  return Math.min(1, (c.coverage + c.pieceCoverage) / 2);
}

export function byStrength(a: Candidate, b: Candidate): number {
  return strength(b) - strength(a) || a.rank - b.rank || a.docStart - b.docStart;
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

/** The candidates of one piece of evidence: every sentence holding at least one question term. */
export function candidatesOf(
  ev: ReasonerEvidence,
  weights: ReadonlyMap<string, number>,
  total: number,
  measured: string | null,
): Candidate[] {
  const sentences = splitSentences(ev.text);
  const bytes = Buffer.from(ev.text, "utf8");
  const titleTerms = new Set(ev.title === undefined ? [] : termsOf(ev.title));
  // The share of the question the whole piece of evidence (and its title) covers.
  const pieceTerms = new Set([...termsOf(ev.text), ...titleTerms]);
  const pieceWeight = [...weights.keys()]
    .filter((t) => pieceTerms.has(t))
    .reduce((sum, t) => sum + (weights.get(t) as number), 0);
  const pieceCoverage = total === 0 ? 0 : Math.min(1, pieceWeight / total);
  const out: Candidate[] = [];
  let previous: Sentence | undefined;
  for (const sentence of sentences) {
    const before = previous;
    previous = sentence.heading ? undefined : sentence;
    if (sentence.heading || sentence.text.split(/\s+/u).length < MIN_SENTENCE_WORDS) continue;
    const tokens = termsOf(sentence.text);
    const tf = new Map<string, number>();
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    if (measured !== null && weights.has(measured) && !tf.has(measured) && MEASUREMENT.test(sentence.text))
      tf.set(measured, 1);
    const own = [...weights.keys()].filter((t) => tf.has(t));
    if (own.length === 0) continue;
    const norm = K1 * (1 - B + (B * tokens.length) / TYPICAL_SENTENCE_TERMS);
    let relevance = 0;
    for (const t of own) {
      const f = tf.get(t) as number;
      relevance += ((weights.get(t) as number) * f * (K1 + 1)) / (f + norm);
    }
    // Question terms next to each other, in the question's order: a phrase match.
    const terms = [...weights.keys()];
    for (let i = 0; i + 1 < terms.length; i++) {
      const [a, b] = [terms[i] as string, terms[i + 1] as string];
      if (tokens.some((t, j) => t === a && tokens[j + 1] === b))
        relevance += PROXIMITY_BONUS * ((weights.get(a) as number) + (weights.get(b) as number));
    }
    // An "It ..." sentence is read, and cited, with the sentence it leans on, when it adds
    // something to it: otherwise the sentence before is the better citation on its own.
    const beforeTerms = before === undefined ? new Set<string>() : new Set(termsOf(before.text));
    const leans = before !== undefined && refersBack(sentence.text) && own.some((t) => !beforeTerms.has(t));
    const context = leans ? beforeTerms : new Set<string>();
    const covered = new Set(own);
    for (const t of weights.keys()) {
      if (covered.has(t)) continue;
      if (context.has(t)) {
        covered.add(t);
        relevance += PREVIOUS_SENTENCE_CREDIT * (weights.get(t) as number);
      } else if (titleTerms.has(t)) relevance += TITLE_CREDIT * (weights.get(t) as number);
    }
    const citeStart = leans ? before.start : sentence.start;
    const weight = [...covered].reduce((sum, t) => sum + (weights.get(t) as number), 0);
    out.push({
      evidenceId: ev.id,
      rank: ev.rank,
      docId: ev.docId,
      citeStart,
      citeEnd: sentence.end,
      statement: bytes.subarray(citeStart, sentence.end).toString("utf8"),
      docStart: ev.span[0] + sentence.start,
      covered: terms.filter((t) => covered.has(t)),
      coverage: total === 0 ? 0 : Math.min(1, weight / total),
      pieceCoverage,
      relevance: total === 0 ? 0 : relevance / total,
    });
  }
  return out;
}

/**
 * Every candidate sentence of the evidence, strongest first, each document sentence once: the
 * question's terms weighed under their recorded form (term_stats) and matched under their lemma.
 */
function rankedCandidates(input: ReasonerInput): Candidate[] {
  const weights = new Map<string, number>();
  for (const [t, w] of termWeights(input.queryTerms, input.termStats))
    weights.set(lemma(t), (weights.get(lemma(t)) ?? 0) + w);
  // A long claim is well supported by a sentence matching its few rarest words: the weight
  // an answer must cover is capped, so a ten-term claim is not held to all ten.
  const sum = [...weights.values()].reduce((a, b) => a + b, 0);
  const total = weights.size > SHORT_QUESTION_TERMS ? Math.min(sum, WEIGHT_CAP) : sum;
  // Overlapping pieces of evidence hold the same sentence: keep each document sentence once.
  const seen = new Set<string>();
  return input.evidence
    .flatMap((ev) => candidatesOf(ev, weights, total, measuredTerm(input.question)))
    .sort(byStrength)
    .filter((c) => {
      const key = `${c.docId}\u0000${c.docStart}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** The answer when fewer relevant candidates than min_supports remain: every extractive version words it alike. */
export function tooFewSupports(relevant: number, input: ReasonerInput, confidence: number): Derivation {
  return {
    kind: "insufficient",
    reason: `only ${relevant} relevant piece(s) of evidence, ${input.minSupports} required`,
    relevantEvidence: relevant,
    required: input.minSupports,
    confidence,
  };
}

/** Cited candidates as citations: their evidence, their span and the sha256 of their bytes. */
export function citationsOf(cited: readonly Candidate[]): ReasonerCitation[] {
  return cited.map((c) => ({
    evidence_id: c.evidenceId,
    span: [c.citeStart, c.citeEnd],
    sha256: sha256Hex(Buffer.from(c.statement, "utf8")),
  }));
}

/**
 * The candidates cited: the min_supports strongest relevant ones, then extra citations (up to
 * max_citations) about as strong as the top one that add another document or another term.
 * Extractive 3 (extractive.ts) cites the same way.
 */
export function chosenCitations(
  top: Candidate,
  relevant: readonly Candidate[],
  input: ReasonerInput,
): Candidate[] {
  const chosen = relevant.slice(0, input.minSupports);
  for (const c of relevant.slice(input.minSupports)) {
    if (chosen.length >= input.maxCitations) break;
    if (strength(c) < strength(top) * EXTRA_CITATION_RATIO) break;
    // Never cite the same bytes twice: an "It ..." pair overlaps the sentence before it.
    if (
      chosen.some((x) => x.evidenceId === c.evidenceId && x.citeStart < c.citeEnd && c.citeStart < x.citeEnd)
    )
      continue;
    const newSource = !chosen.some((x) => x.docId === c.docId);
    const newPart = c.covered.some((t) => !chosen.some((x) => x.covered.includes(t)));
    if (newSource || newPart) chosen.push(c);
  }
  return chosen;
}

export const extractiveReasonerV2: Reasoner = {
  id: ID,
  version: VERSION,
  derive(input: ReasonerInput): Derivation {
    const minConfidence = input.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
    const ranked = rankedCandidates(input);
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
    const confidence = round4(confidenceOf(top));
    if (confidence < minConfidence) {
      return {
        kind: "insufficient",
        reason:
          `the best candidate has confidence ${confidence}, below min_confidence ${minConfidence} ` +
          `(it covers ${Math.round(top.coverage * 100)}% of the question's weight): ` +
          `${JSON.stringify(top.statement)} (${top.docId})`,
        relevantEvidence: 0,
        required: input.minSupports,
        confidence,
      };
    }
    const relevant = ranked.filter((c) => confidenceOf(c) >= minConfidence);
    if (relevant.length < input.minSupports) return tooFewSupports(relevant.length, input, confidence);
    const citations = citationsOf(chosenCitations(top, relevant, input));
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
      },
    };
  },
};
