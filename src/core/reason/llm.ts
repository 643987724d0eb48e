/**
 * The model-backed reasoner (docs/design.md §3.4), pure: it builds the chat-completions request for the
 * question and the evidence, and derives the answer from a recorded response. The call itself
 * is an effect made at the edge (src/io/model/llm-endpoint.ts); the run stores the exchange, so
 * frozen replay and the verifier re-derive from the recording exactly as the run did.
 *
 * Response contract: the message content is JSON
 *   {"claims": [{"statement": "...", "citations": [{"evidence": 1, "quote": "..."}]}]}
 * with evidence numbered from 1 in rank order. Every quote is searched in that evidence's exact
 * text (verbatim, else with each run of whitespace matching any run of whitespace) and becomes a
 * byte-span citation of the exact source bytes; a quote that is not found is dropped with its
 * reason, a claim left with fewer distinct source spans than `min_supports_per_claim` is
 * dropped (the same bytes reached through two overlapping passages count once), and with no
 * claim left the answer is "insufficient evidence". Nothing the model says is trusted: only
 * bytes that are in the evidence are cited. Reasoning blocks (`<think>…</think>`) before the
 * answer are removed before it is parsed.
 *
 * The prompt is bounded (PROMPT_BUDGET): each passage is cut at a number of characters and
 * passages that would take the whole prompt past its budget are left out, both said in the
 * prompt itself and in the claim's structured fields. Version 1 (./llm-v1.ts) is kept, frozen,
 * for the runs it made.
 */
import { CanonError } from "../errors.js";
import type { ModelCall } from "../models/model-call.js";
import { selectClaims } from "./llm-grounding.js";
import {
  llmOf,
  needsModelCall,
  PROMPT_BUDGET,
  promptOf,
  recordingMismatch,
  responseModeOf,
} from "./llm-request.js";
import { answerJson, contentOf, endpointProblem, withoutReasoning } from "./llm-response.js";
import type { Derivation, ReasonerInput } from "./reasoner.js";

// The request, the reading of the response and the grounding of claims have modules of their
// own; the reasoner's importers find its public names here, as they always have.
export { locateQuote } from "./llm-grounding.js";
export {
  chatRequest,
  DEFAULT_BASE_URL,
  DEFAULT_TEMPERATURE,
  needsModelCall,
  PROMPT_BUDGET,
  promptOf,
  type ResponseMode,
  recordingMismatch,
  responseModeOf,
  withoutCredentials,
} from "./llm-request.js";
export { answerJson, endpointProblem, failedModelAnswer, withoutReasoning } from "./llm-response.js";

export const LLM_REASONER_ID = "llm";
/**
 * 2: a bounded prompt; reasoning blocks removed; quotes matched modulo whitespace runs; supports
 * counted by distinct source span; the request made with or without structured output.
 * (1: quotes located verbatim, supports counted by evidence item, every passage sent whole.)
 */
export const LLM_REASONER_VERSION = "2";

/** Bounds on what is read from a response, so a hostile endpoint cannot make the work unbounded. */
const MAX_REASONS = 20;

type Insufficient = Extract<Derivation, { kind: "insufficient" }>;

function insufficient(input: ReasonerInput, reason: string, relevant: number): Insufficient {
  const ref = input.llm?.call?.ref;
  return {
    kind: "insufficient",
    reason,
    relevantEvidence: relevant,
    required: input.minSupports,
    ...(ref === undefined ? {} : { modelCall: ref }),
  };
}

/**
 * The answer's claims as the model sent them (not yet read), and whether reasoning blocks were
 * removed to find them; or the insufficiency a response without a readable answer amounts to.
 */
function readAnswer(
  input: ReasonerInput,
  recording: ModelCall,
): { claims: unknown[]; reasoningRemoved: boolean } | Insufficient {
  const problem = endpointProblem(recording.response.body);
  if (problem !== null) return insufficient(input, `the endpoint ${problem}`, 0);
  const content = contentOf(recording.response.body);
  if (Array.isArray(content)) return insufficient(input, content.join("; "), 0);
  const reasoning = withoutReasoning(content);
  const answer = answerJson(reasoning.text);
  if (answer === undefined)
    return insufficient(
      input,
      `the model's answer is not JSON${reasoning.removed ? " (after its reasoning blocks were removed)" : ""}`,
      0,
    );
  if (
    typeof answer !== "object" ||
    answer === null ||
    !Array.isArray((answer as { claims?: unknown }).claims)
  )
    return insufficient(input, 'the model\'s answer has no "claims" array', 0);
  return { claims: (answer as { claims: unknown[] }).claims, reasoningRemoved: reasoning.removed };
}

/** Derives the answer from the recorded response; the caller checked the recording (recordingMismatch). */
export function deriveFromRecording(input: ReasonerInput): Derivation {
  const llm = llmOf(input);
  if (!needsModelCall(input))
    return insufficient(
      input,
      `${input.evidence.length} piece(s) of evidence, ${input.minSupports} required: the model was not asked`,
      input.evidence.length,
    );
  const mismatch = recordingMismatch(input);
  if (mismatch !== null || llm.call === undefined)
    throw new CanonError("E_PLAN_INVALID", `llm reasoner: ${mismatch ?? "no model call is recorded"}`, {
      exitCode: 3,
    });
  const recording = llm.call.recording;
  const answer = readAnswer(input, recording);
  if ("kind" in answer) return answer;
  const { claims } = answer;
  const { kept, rejected, quotes, found, relevant } = selectClaims(claims, input);
  const reasons = rejected.length > MAX_REASONS ? [...rejected.slice(0, MAX_REASONS), "…"] : rejected;
  if (kept.length === 0) {
    const why =
      claims.length === 0 ? "the model found no answer in the evidence" : "no claim of the model is grounded";
    return insufficient(input, reasons.length === 0 ? why : `${why}: ${reasons.join("; ")}`, relevant);
  }
  const citations = kept.flatMap((c) => c.citations);
  const prompt = promptOf(input);
  return {
    kind: "claim",
    statement: kept.map((c) => c.statement).join(" "),
    // The share of the model's quotes found verbatim: a coverage of its own citations, not a probability.
    confidence: quotes === 0 ? 0 : Math.round((found / quotes) * 10_000) / 10_000,
    citations,
    structured: {
      model: llm.model,
      claims: kept.map((c) => c.statement),
      rejected: reasons,
      response_format: responseModeOf(recording.request),
      reasoning_removed: answer.reasoningRemoved,
      prompt_budget: `${PROMPT_BUDGET.passageChars} characters per passage, ${PROMPT_BUDGET.promptChars} in all`,
      passages_cut: prompt.cut,
      passages_left_out: prompt.leftOut,
    },
    modelCall: llm.call.ref,
  };
}

export const llmReasoner = {
  id: LLM_REASONER_ID,
  version: LLM_REASONER_VERSION,
  derive: deriveFromRecording,
  recordingMismatch,
} as const;
