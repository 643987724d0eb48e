/**
 * The version combinations some build of canon-reason produced (issue 19, item 5): one row per
 * combination of retrieve tool, reasoner, index format and analyzer that a run can honestly
 * record. The verifier fails any other combination, and any name or version it does not know,
 * under every policy: a run recording "retrieve tool 1 with extractive reasoner 2" was never
 * made by any release, so whatever it claims cannot be re-derived as made.
 *
 * To add a version: append rows for the combinations the new build produces (keep the old
 * rows: runs made by older builds still verify). A row is data only; nothing else changes.
 */

export interface ReleasedCombination {
  /** The first build that produced it (a release or the change that introduced it). */
  since: string;
  /** The retrieve tool's version; null for a run that retrieves nothing (no corpus). */
  retrieveTool: string | null;
  reasoner: { id: string; version: string };
  /** The pinned index's format; null without retrieval. */
  indexFormats: readonly number[] | null;
  /** Analyzers (id and version) the index may be built with; null without retrieval. */
  analyzers: ReadonlyArray<{ id: string; version: string }> | null;
}

const ANALYZERS_1 = [
  { id: "simple", version: "1" },
  { id: "english", version: "1" },
] as const;

const EXTRACTIVE_1 = { id: "extractive", version: "1" } as const;
const EXTRACTIVE_2 = { id: "extractive", version: "2" } as const;
const EXTRACTIVE_3 = { id: "extractive", version: "3" } as const;
const EXTRACTIVE_4 = { id: "extractive", version: "4" } as const;
const EXTRACTIVE_5 = { id: "extractive", version: "5" } as const;
const LLM_1 = { id: "llm", version: "1" } as const;
const LLM_2 = { id: "llm", version: "2" } as const;

export const RELEASED_COMBINATIONS: readonly ReleasedCombination[] = [
  // 0.1.0: bare-chunk evidence, extractive 1, index format 1.
  { since: "0.1.0", retrieveTool: "1", reasoner: EXTRACTIVE_1, indexFormats: [1], analyzers: ANALYZERS_1 },
  { since: "0.1.0", retrieveTool: null, reasoner: EXTRACTIVE_1, indexFormats: null, analyzers: null },
  // Extractive 2 came with retrieve tool 2 (sentence evidence, term_stats), before index format 2.
  {
    since: "extractive 2 (issue 12)",
    retrieveTool: "2",
    reasoner: EXTRACTIVE_2,
    // Index format 3 (compressed postings, issue 25) is read by the same retrieve tool.
    indexFormats: [1, 2, 3],
    analyzers: ANALYZERS_1,
  },
  {
    since: "extractive 2 (issue 12)",
    retrieveTool: null,
    reasoner: EXTRACTIVE_2,
    indexFormats: null,
    analyzers: null,
  },
  // The llm reasoner came after index format 2; live replay may search a pinned format-1 index.
  {
    since: "llm reasoner 1",
    retrieveTool: "2",
    reasoner: LLM_1,
    indexFormats: [1, 2],
    analyzers: ANALYZERS_1,
  },
  { since: "llm reasoner 1", retrieveTool: null, reasoner: LLM_1, indexFormats: null, analyzers: null },
  // extractive 3 (issue 20: calibrated confidence) reads what extractive 2 reads.
  {
    since: "0.2.0",
    retrieveTool: "2",
    reasoner: EXTRACTIVE_3,
    indexFormats: [1, 2, 3],
    analyzers: ANALYZERS_1,
  },
  { since: "0.2.0", retrieveTool: null, reasoner: EXTRACTIVE_3, indexFormats: null, analyzers: null },
  // llm 2 (issue 21: bounded prompt, response_format fallback), alongside index format 3.
  { since: "0.2.0", retrieveTool: "2", reasoner: LLM_2, indexFormats: [1, 2, 3], analyzers: ANALYZERS_1 },
  { since: "0.2.0", retrieveTool: null, reasoner: LLM_2, indexFormats: null, analyzers: null },
  // extractive 4 (issue 20: the cited document chosen by a calibrated probability) reads what 3 reads.
  {
    since: "extractive 4 (issue 20)",
    retrieveTool: "2",
    reasoner: EXTRACTIVE_4,
    indexFormats: [1, 2, 3],
    analyzers: ANALYZERS_1,
  },
  {
    since: "extractive 4 (issue 20)",
    retrieveTool: null,
    reasoner: EXTRACTIVE_4,
    indexFormats: null,
    analyzers: null,
  },
  // extractive 5 (issue 20: extractive 4's answer, the cited sentence picked by a fitted model).
  {
    since: "extractive 5 (issue 20)",
    retrieveTool: "2",
    reasoner: EXTRACTIVE_5,
    indexFormats: [1, 2, 3],
    analyzers: ANALYZERS_1,
  },
  {
    since: "extractive 5 (issue 20)",
    retrieveTool: null,
    reasoner: EXTRACTIVE_5,
    indexFormats: null,
    analyzers: null,
  },
];

export interface RecordedCombination {
  retrieveTool: string | null;
  reasoner: { id: string; version: string };
  /** Null when there is no retrieval, or the index could not be read (reported elsewhere). */
  indexFormat: number | null;
  analyzer: { id: string; version: string } | null;
}

const same = (a: { id: string; version: string }, b: { id: string; version: string }) =>
  a.id === b.id && a.version === b.version;

/** The row this combination matches, or null when no build ever produced it. */
export function releasedCombination(c: RecordedCombination): ReleasedCombination | null {
  return (
    RELEASED_COMBINATIONS.find(
      (row) =>
        row.retrieveTool === c.retrieveTool &&
        same(row.reasoner, c.reasoner) &&
        (row.indexFormats === null
          ? c.indexFormat === null
          : c.indexFormat === null || row.indexFormats.includes(c.indexFormat)) &&
        (row.analyzers === null
          ? c.analyzer === null
          : c.analyzer !== null && row.analyzers.some((a) => same(a, c.analyzer as typeof a))),
    ) ?? null
  );
}

/** "retrieve tool 1, extractive 2, index format 2, analyzer english 1", for messages. */
export function describeCombination(c: RecordedCombination): string {
  return [
    c.retrieveTool === null ? "no retrieve tool" : `retrieve tool ${c.retrieveTool}`,
    `reasoner ${c.reasoner.id} ${c.reasoner.version}`,
    ...(c.indexFormat === null ? [] : [`index format ${c.indexFormat}`]),
    ...(c.analyzer === null ? [] : [`analyzer ${c.analyzer.id} ${c.analyzer.version}`]),
  ].join(", ");
}
