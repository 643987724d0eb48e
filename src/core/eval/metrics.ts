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
