/**
 * The llm reasoner's request (llm.ts): the chat-completions body a question and its evidence
 * make, under the prompt budget, and whether a recorded call holds exactly that request. The
 * verifier re-derives the request from the run, so every byte of it follows from the plan,
 * the question and the evidence.
 */
import { canonicalJson, type JsonValue } from "../canonical.js";
import { CanonError } from "../errors.js";
import type { ReasonerInput } from "./reasoner.js";

/**
 * The prompt's budget, in characters (UTF-16 code units; about 4 per token for English): a
 * passage longer than `passageChars` is cut there, and passages that would take the user
 * message past `promptChars` are left out (in rank order, so the best evidence is kept). A run
 * records both in its model call (the prompt says what was cut) and its claim's structured
 * fields; the verifier re-derives the request, so a run cannot claim another budget.
 */
export const PROMPT_BUDGET = { passageChars: 4_000, promptChars: 32_000 } as const;

/**
 * How the answer's form was asked for: "json_schema" (structured output, response_format) or
 * "prompt" (the instructions only, for servers that reject response_format with HTTP 400).
 */
export type ResponseMode = "json_schema" | "prompt";

export const DEFAULT_BASE_URL = "https://api.openai.com/v1";
export const DEFAULT_TEMPERATURE = 0;

/** The JSON schema the endpoint is asked to follow (structured output, where it is supported). */
const ANSWER_SCHEMA: JsonValue = {
  type: "object",
  additionalProperties: false,
  required: ["claims"],
  properties: {
    claims: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["statement", "citations"],
        properties: {
          statement: { type: "string" },
          citations: {
            type: "array",
            items: {
              type: "object",
              additionalProperties: false,
              required: ["evidence", "quote"],
              properties: { evidence: { type: "integer" }, quote: { type: "string" } },
            },
          },
        },
      },
    },
  },
};

/**
 * The base URL as a run records it: without user:password (they authenticate the call and are
 * never written into a run or a message). The caller validated it (isBaseUrl).
 */
export function withoutCredentials(baseUrl: string): string {
  const url = new URL(baseUrl);
  if (url.username === "" && url.password === "") return baseUrl;
  url.username = "";
  url.password = "";
  return url.toString();
}

function systemPrompt(minSupports: number, maxCitations: number): string {
  return [
    "You answer a question using only the numbered evidence passages you are given.",
    'Reply with JSON only, of the form {"claims": [{"statement": "...", "citations": [{"evidence": 1, "quote": "..."}]}]}.',
    "Each claim is one sentence that answers the question.",
    `Each claim cites at least ${minSupports} different quote(s) (the same words quoted twice count once), and all claims together at most ${maxCitations} quote(s).`,
    "A citation names the number of the passage and quotes a span of that passage verbatim: the same characters, spacing and punctuation.",
    "Quotes that are not found verbatim in their passage are discarded, and so is a claim left without enough of them.",
    'If the evidence does not answer the question, reply {"claims": []}.',
  ].join("\n");
}

/** The first `n` UTF-16 code units of `text`, never splitting a surrogate pair. */
function cutAt(text: string, n: number): string {
  const code = text.charCodeAt(n - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}

/** The user message under the budget, and how many passages were cut or left out to fit. */
export function promptOf(input: ReasonerInput): { text: string; cut: number; leftOut: number } {
  const { passageChars, promptChars } = PROMPT_BUDGET;
  const head = `Question: ${input.question}\n\nEvidence:\n\n`;
  const parts: string[] = [];
  let used = head.length;
  let cut = 0;
  let leftOut = 0;
  for (const [i, e] of input.evidence.entries()) {
    const long = e.text.length > passageChars;
    const text = long
      ? `${cutAt(e.text, passageChars)}\n[passage cut at ${passageChars} characters]`
      : e.text;
    const part = `[${i + 1}] ${e.docId}\n${text}`;
    const cost = part.length + (parts.length === 0 ? 0 : 2);
    if (used + cost > promptChars) {
      leftOut = input.evidence.length - i;
      break;
    }
    parts.push(part);
    used += cost;
    if (long) cut += 1;
  }
  if (leftOut > 0)
    parts.push(`[${leftOut} more passage(s) left out: the prompt is limited to ${promptChars} characters]`);
  return { text: `${head}${parts.join("\n\n")}`, cut, leftOut };
}

export function llmOf(input: ReasonerInput): NonNullable<ReasonerInput["llm"]> {
  if (input.llm === undefined)
    throw new CanonError("E_PLAN_INVALID", 'the llm reasoner needs a derive step with reasoner "llm"', {
      exitCode: 3,
    });
  return input.llm;
}

/**
 * The exact chat-completions request body for this input and response mode: a pure function of
 * the trace, the plan and the mode.
 */
export function chatRequest(
  input: ReasonerInput,
  mode: ResponseMode = "json_schema",
): Record<string, JsonValue> {
  const llm = llmOf(input);
  return {
    model: llm.model,
    temperature: llm.temperature,
    seed: llm.seed,
    messages: [
      { role: "system", content: systemPrompt(input.minSupports, input.maxCitations) },
      { role: "user", content: promptOf(input).text },
    ],
    ...(mode === "json_schema"
      ? {
          response_format: {
            type: "json_schema",
            json_schema: { name: "grounded_answer", strict: true, schema: ANSWER_SCHEMA },
          },
        }
      : {}),
  };
}

/** The mode a recorded request was made in. */
export const responseModeOf = (request: Record<string, JsonValue>): ResponseMode =>
  "response_format" in request ? "json_schema" : "prompt";

/** Too little evidence to satisfy min_supports_per_claim: no call is made, the answer is insufficient. */
export function needsModelCall(input: ReasonerInput): boolean {
  return input.evidence.length > 0 && input.evidence.length >= input.minSupports;
}

/**
 * Why a recording cannot stand for this input's call, or null when it can: it must hold exactly
 * the request this input makes (a recording of another question or evidence is refused).
 */
export function recordingMismatch(input: ReasonerInput): string | null {
  const call = llmOf(input).call;
  if (!needsModelCall(input))
    return call === undefined ? null : "a model call is recorded where none was needed";
  if (call === undefined) return "no model call is recorded";
  const recorded = call.recording.request;
  if (canonicalJson(recorded) !== canonicalJson(chatRequest(input, responseModeOf(recorded))))
    return `${call.ref.path} holds a request other than the one this question and evidence make`;
  return null;
}
