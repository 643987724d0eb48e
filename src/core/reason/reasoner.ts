/**
 * The reasoner interface (docs/design.md §3.4). A backend sees only the question and the evidence
 * recorded in the trace, so frozen replay can re-derive without any tool or model.
 */
import type { ByteSpan } from "../models/common.js";
import type { ModelCall, ModelCallRef } from "../models/model-call.js";
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
  /** The llm reasoner's parameters and its recorded model call (absent for other reasoners). */
  llm?: LlmInput;
}

/** What the llm reasoner derives from besides the evidence: its parameters and the recording. */
export interface LlmInput {
  model: string;
  /** The base URL without credentials, as the plan records it. */
  baseUrl: string;
  temperature: number;
  seed: number;
  /** The recorded call; absent before the call is made, or when none was needed. */
  call?: { ref: ModelCallRef; recording: ModelCall };
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
      /** The recorded model call the claim comes from (llm reasoner). */
      modelCall?: ModelCallRef;
    }
  | {
      kind: "insufficient";
      reason: string;
      relevantEvidence: number;
      required: number;
      /** The best candidate's confidence, when there was one to judge. */
      confidence?: number;
      /** The recorded model call judged insufficient (llm reasoner), when one was made. */
      modelCall?: ModelCallRef;
    };

export interface Reasoner {
  readonly id: string;
  readonly version: string;
  derive(input: ReasonerInput): Derivation;
  /**
   * For a reasoner that derives from a recorded model call: why the recording cannot stand for
   * this input's call, or null when it can (the verifier and frozen replay ask before deriving).
   */
  recordingMismatch?(input: ReasonerInput): string | null;
}
