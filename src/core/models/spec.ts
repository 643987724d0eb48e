/** ProblemSpec (docs/design.md §2): the question, its constraints and optional eval expectations. */
import * as z from "zod";
import { idOf } from "./common.js";

export const SPEC_VERSION = "1";
export const ANALYZERS = ["simple", "english"] as const;
export const REASONERS = ["extractive", "llm"] as const;
export const MAX_MODEL_NAME = 256;
export const MAX_BASE_URL = 2048;
const BASE_URL_RULE =
  "must be an http:// or https:// URL without a query or fragment, e.g. http://127.0.0.1:11434/v1";

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** An OpenAI-style base URL: http(s), a host, no query or fragment (credentials are allowed, never recorded). */
export function isBaseUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (
    (url.protocol === "http:" || url.protocol === "https:") &&
    url.hostname !== "" &&
    url.search === "" &&
    url.hash === "" &&
    !value.includes("?") &&
    !value.includes("#")
  );
}

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
  /** The reasoner backend: "extractive" (the default) or "llm" (an OpenAI-compatible chat model). */
  reasoner: z.enum(REASONERS).optional(),
  /** The llm reasoner's model name, as the endpoint knows it (e.g. "gpt-4o-mini", "llama3.1:8b"). */
  model: z
    .string()
    .min(1)
    .max(MAX_MODEL_NAME)
    .refine((name) => !hasControlCharacter(name), "must not contain control characters")
    .optional(),
  /** The llm reasoner's OpenAI-style base URL, ending in /v1 (http or https; no query or fragment). */
  base_url: z.string().min(1).max(MAX_BASE_URL).refine(isBaseUrl, BASE_URL_RULE).optional(),
  /** The llm reasoner's sampling temperature (default 0). */
  temperature: z.number().min(0).max(2).optional(),
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
