/**
 * Retrieval and answer metrics (docs/design.md §7), computed from judgments only. A metric that a case
 * cannot support (no relevant documents, no expected strings, no citations) is null for that
 * case and excluded from the average: never counted as perfect.
 */

/** Relevance judgments: doc id -> grade (0 = not relevant; higher is more relevant). */
export type Judgments = Readonly<Record<string, number>>;

function relevantCount(judgments: Judgments): number {
  return Object.values(judgments).filter((g) => g > 0).length;
}

/** nDCG@k with graded gains (2^grade - 1) and a log2(rank + 1) discount; null without relevant documents. */
export function ndcgAt(ranked: readonly string[], judgments: Judgments, k: number): number | null {
  if (relevantCount(judgments) === 0) return null;
  const gain = (grade: number) => 2 ** grade - 1;
  const dcg = ranked
    .slice(0, k)
    .reduce((sum, doc, i) => sum + gain(judgments[doc] ?? 0) / Math.log2(i + 2), 0);
  const ideal = Object.values(judgments)
    .filter((g) => g > 0)
    .sort((a, b) => b - a)
    .slice(0, k)
    .reduce((sum, grade, i) => sum + gain(grade) / Math.log2(i + 2), 0);
  return dcg / ideal;
}

/** Share of relevant documents found in the top k; null without relevant documents. */
export function recallAt(ranked: readonly string[], judgments: Judgments, k: number): number | null {
  const total = relevantCount(judgments);
  if (total === 0) return null;
  return ranked.slice(0, k).filter((doc) => (judgments[doc] ?? 0) > 0).length / total;
}

/** Reciprocal rank of the first relevant document in the top k (0 when none); null without relevant documents. */
export function mrrAt(ranked: readonly string[], judgments: Judgments, k: number): number | null {
  if (relevantCount(judgments) === 0) return null;
  const i = ranked.slice(0, k).findIndex((doc) => (judgments[doc] ?? 0) > 0);
  return i < 0 ? 0 : 1 / (i + 1);
}

/** Share of citations taken from relevant documents; null without citations or without relevant documents. */
export function citationPrecision(citedDocs: readonly string[], judgments: Judgments): number | null {
  if (citedDocs.length === 0 || relevantCount(judgments) === 0) return null;
  return citedDocs.filter((doc) => (judgments[doc] ?? 0) > 0).length / citedDocs.length;
}

/** 1 when the answer contains every expected string (case-insensitive), else 0; null without expectations. */
export function answerHit(answer: string | null, expected: readonly string[] | undefined): number | null {
  if (expected === undefined || expected.length === 0) return null;
  const text = (answer ?? "").toLowerCase();
  return expected.every((s) => text.includes(s.toLowerCase())) ? 1 : 0;
}

/** Rationale sentences by doc id, as byte spans of the document text. */
export type Rationales = Readonly<Record<string, ReadonlyArray<readonly [number, number]>>>;

/**
 * Share of citations that overlap a rationale sentence of their document; null when the
 * case has no rationales or no citations.
 */
export function rationalePrecision(
  citations: ReadonlyArray<{ doc_id: string; doc_span: readonly [number, number] }>,
  rationales: Rationales | undefined,
): number | null {
  if (rationales === undefined || Object.keys(rationales).length === 0 || citations.length === 0) return null;
  const onRationale = citations.filter((c) =>
    (rationales[c.doc_id] ?? []).some(([start, end]) => c.doc_span[0] < end && start < c.doc_span[1]),
  );
  return onRationale.length / citations.length;
}

/**
 * How well confidence separates answerable from unanswerable cases: the probability that a
 * random answerable case has higher confidence than a random unanswerable one (ties count
 * half), i.e. the area under the ROC curve. null unless both kinds are present.
 */
export function auroc(cases: ReadonlyArray<{ answerable: boolean; confidence: number }>): number | null {
  const pos = cases.filter((c) => c.answerable).map((c) => c.confidence);
  const neg = cases.filter((c) => !c.answerable).map((c) => c.confidence);
  if (pos.length === 0 || neg.length === 0) return null;
  // Rank-sum form (Mann-Whitney U), with average ranks for ties: O(n log n).
  const all = [...pos.map((v) => ({ v, p: true })), ...neg.map((v) => ({ v, p: false }))].sort(
    (a, b) => a.v - b.v,
  );
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && (all[j] as { v: number }).v === (all[i] as { v: number }).v) j++;
    const avg = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if ((all[k] as { p: boolean }).p) rankSum += avg;
    i = j;
  }
  return (rankSum - (pos.length * (pos.length + 1)) / 2) / (pos.length * neg.length);
}

/** Mean over the cases where the metric applies, with how many did. */
export function mean(values: ReadonlyArray<number | null>): { mean: number | null; cases: number } {
  const present = values.filter((v): v is number => v !== null);
  return {
    mean: present.length === 0 ? null : present.reduce((a, b) => a + b, 0) / present.length,
    cases: present.length,
  };
}

/** Distinct documents of a chunk ranking, in first-seen order: a document ranks by its best chunk. */
export function documentRanking(chunkDocs: readonly string[], depth: number): string[] {
  const seen = new Set<string>();
  for (const doc of chunkDocs) {
    if (seen.size >= depth) break;
    seen.add(doc);
  }
  return [...seen];
}

/**
 * The document ranking that nDCG, Recall and MRR are computed from. `searchChunks(k)` returns
 * the doc ids of the best k chunks, best first, chunk ties broken by doc id, so documents rank
 * by their best chunk with ties broken by doc id. The chunk search deepens until it yields
 * `depth` documents or runs out of matching chunks: a document with many chunks cannot push
 * others out of the top `depth`.
 */
export function rankDocuments(searchChunks: (k: number) => readonly string[], depth: number): string[] {
  for (let k = depth * 10; ; k *= 4) {
    const chunkDocs = searchChunks(k);
    const ranked = documentRanking(chunkDocs, depth);
    if (ranked.length >= depth || chunkDocs.length < k) return ranked;
  }
}

/** A case as calibration sees it: the confidence it reported and whether its best answer was right. */
export interface Judged {
  confidence: number;
  correct: 0 | 1;
}

/** One bin of a reliability table: predicted (mean confidence) against observed (share right). */
export interface ReliabilityBin {
  /** The bin is [lo, hi), the last one [lo, 1]. */
  lo: number;
  hi: number;
  cases: number;
  mean_confidence: number | null;
  accuracy: number | null;
}

/** Cases by confidence in `bins` equal-width bins over [0, 1]; empty bins are kept, with nulls. */
export function reliabilityTable(cases: readonly Judged[], bins = 10): ReliabilityBin[] {
  const out = Array.from({ length: bins }, (_, i) => ({
    lo: i / bins,
    hi: (i + 1) / bins,
    n: 0,
    conf: 0,
    right: 0,
  }));
  for (const c of cases) {
    const i = Math.min(bins - 1, Math.max(0, Math.floor(c.confidence * bins)));
    const bin = out[i] as (typeof out)[number];
    bin.n++;
    bin.conf += c.confidence;
    bin.right += c.correct;
  }
  return out.map((b) => ({
    lo: b.lo,
    hi: b.hi,
    cases: b.n,
    mean_confidence: b.n === 0 ? null : b.conf / b.n,
    accuracy: b.n === 0 ? null : b.right / b.n,
  }));
}

/**
 * Expected calibration error: the case-weighted mean, over the reliability bins, of the gap
 * between mean confidence and the share right. 0 is perfectly calibrated. null without cases.
 */
export function expectedCalibrationError(cases: readonly Judged[], bins = 10): number | null {
  if (cases.length === 0) return null;
  let sum = 0;
  for (const b of reliabilityTable(cases, bins))
    if (b.cases > 0) sum += b.cases * Math.abs((b.mean_confidence as number) - (b.accuracy as number));
  return sum / cases.length;
}

/** A point of the risk–coverage curve: answering the `coverage` share of most confident cases, `risk` are wrong. */
export interface RiskCoveragePoint {
  /** The lowest confidence still answered at this point (the threshold). */
  threshold: number;
  coverage: number;
  risk: number;
}

/**
 * The selective-answering trade-off: cases sorted by confidence, most confident first; at each
 * distinct confidence, the share of cases answered at or above it and the share of those that
 * are wrong. Cases of equal confidence are answered together (a threshold cannot split them).
 */
export function riskCoverage(cases: readonly Judged[]): RiskCoveragePoint[] {
  const sorted = [...cases].sort((a, b) => b.confidence - a.confidence);
  const out: RiskCoveragePoint[] = [];
  let wrong = 0;
  for (let i = 0; i < sorted.length; ) {
    const t = (sorted[i] as Judged).confidence;
    while (i < sorted.length && (sorted[i] as Judged).confidence === t)
      wrong += 1 - (sorted[i++] as Judged).correct;
    out.push({ threshold: t, coverage: i / sorted.length, risk: wrong / i });
  }
  return out;
}

/**
 * Area under the risk–coverage curve: the mean, over every case answered in confidence order,
 * of the risk at that coverage (ties share their group's risk). Lower is better; a confidence
 * that ranks every right answer first reaches the minimum possible for the error rate. null
 * without cases.
 */
export function riskCoverageArea(cases: readonly Judged[]): number | null {
  if (cases.length === 0) return null;
  let area = 0;
  let previous = 0;
  for (const p of riskCoverage(cases)) {
    const n = Math.round(p.coverage * cases.length) - previous;
    area += n * p.risk;
    previous += n;
  }
  return area / cases.length;
}
