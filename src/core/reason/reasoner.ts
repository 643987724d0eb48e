/**
 * The reasoner interface (SPEC §3.4). A backend sees only the question and the evidence
 * recorded in the trace, so frozen replay can re-derive without any tool or model.
 */
import type { ByteSpan } from "../models/common.js";
import type { TermStats } from "../models/trace.js";

export interface ReasonerEvidence {
  id: string;
  docId: string;
  /** Byte span of the evidence inside its document. */
  span: ByteSpan;
  rank: number;
  text: string;
  /** The document's title, when the retrieve tool recorded one: context, never cited. */
  title?: string;
}

export interface ReasonerInput {
  question: string;
  queryTerms: readonly string[];
  evidence: readonly ReasonerEvidence[];
  minSupports: number;
  maxCitations: number;
  /** Below this confidence the answer is insufficient; the reasoner's default when absent. */
  minConfidence?: number;
  /** Index statistics of the query terms, as the retrieve tool recorded them. */
  termStats?: TermStats;
}

export interface ReasonerCitation {
  evidence_id: string;
  /** Byte span inside the evidence bytes. */
  span: ByteSpan;
  sha256: string;
}

export type Derivation =
  | {
      kind: "claim";
      statement: string;
      confidence: number;
      citations: ReasonerCitation[];
      structured: Record<string, string | number | boolean | string[]>;
    }
  | {
      kind: "insufficient";
      reason: string;
      relevantEvidence: number;
      required: number;
      /** The best candidate's confidence, when there was one to judge. */
      confidence?: number;
    };

export interface Reasoner {
  readonly id: string;
  readonly version: string;
  derive(input: ReasonerInput): Derivation;
}
