/** ProblemSpec (SPEC §2): the question, its constraints and optional eval expectations. */
import { z } from "zod";
import { idOf } from "./common.js";

export const SPEC_VERSION = "1";
export const ANALYZERS = ["simple", "english"] as const;

export const Constraints = z.strictObject({
  corpus: z.string().min(1).optional(),
  needs_retrieval: z.boolean().optional(),
  query: z.string().min(1).optional(),
  top_k: z.int().min(1).max(1000).optional(),
  min_supports_per_claim: z.int().min(1).max(100).optional(),
  max_citations: z.int().min(1).max(100).optional(),
  chunk_chars: z.int().min(20).max(1_000_000).optional(),
  overlap_chars: z.int().min(0).max(999_999).optional(),
  bm25_k1: z.number().min(0).max(10).optional(),
  bm25_b: z.number().min(0).max(1).optional(),
  analyzer: z.enum(ANALYZERS).optional(),
  /** Index document titles with every chunk (default true; folders of files have no titles). */
  index_titles: z.boolean().optional(),
  /** Below this confidence (share of the question's weight the cited evidence covers), answer "insufficient evidence". */
  min_confidence: z.number().min(0).max(1).optional(),
});
export type Constraints = z.infer<typeof Constraints>;

export const Expected = z.strictObject({
  /** Relevance judgments by doc id: 0 not relevant, higher is more relevant (graded). */
  relevant: z.record(z.string(), z.number().min(0)).optional(),
  /** Strings a correct answer contains (case-insensitive). */
  answer_contains: z.array(z.string().min(1)).optional(),
  /** false: the corpus does not hold the answer, and "insufficient evidence" is the right one. */
  answerable: z.boolean().optional(),
});
export type Expected = z.infer<typeof Expected>;

export const ProblemSpec = z.strictObject({
  id: idOf("spec").optional(),
  version: z.literal(SPEC_VERSION),
  description: z.string().trim().min(1, "the question must not be empty"),
  constraints: Constraints,
  expected: Expected.optional(),
});
export type ProblemSpec = z.infer<typeof ProblemSpec>;
