/**
 * The model-backed reasoner (docs/design.md §3.4), pure: it builds the chat-completions request for the
 * question and the evidence, and derives the answer from a recorded response. The call itself
 * is an effect made at the edge (src/io/llm-endpoint.ts); the run stores the exchange, so
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
import * as z from "zod";
import { canonicalJson, type JsonValue, sha256Hex } from "../canonical.js";
import { CanonError } from "../errors.js";
import type { ModelCall } from "../models/model-call.js";
import type { Derivation, ReasonerCitation, ReasonerInput } from "./reasoner.js";

export const LLM_REASONER_ID = "llm";
/**
 * 2: a bounded prompt; reasoning blocks removed; quotes matched modulo whitespace runs; supports
 * counted by distinct source span; the request made with or without structured output.
 * (1: quotes located verbatim, supports counted by evidence item, every passage sent whole.)
 */
export const LLM_REASONER_VERSION = "2";

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

/** Bounds on what is read from a response, so a hostile endpoint cannot make the work unbounded. */
const MAX_CLAIMS = 32;
const MAX_QUOTES_PER_CLAIM = 16;
const MAX_REASONS = 20;
const MAX_SHOWN = 160;

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

function llmOf(input: ReasonerInput): NonNullable<ReasonerInput["llm"]> {
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

/** The message content as a model sends it: a string, or (not accepted) a list of parts. */
const Completion = z.object({
  choices: z
    .array(
      z.object({
        finish_reason: z.string().nullish(),
        message: z.object({ content: z.string().nullish(), refusal: z.string().nullish() }),
      }),
    )
    .min(1),
});

const ModelClaim = z.object({
  statement: z.string(),
  citations: z.array(z.object({ evidence: z.int(), quote: z.string() })),
});

const shown = (s: string) => JSON.stringify(s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s);

function parseJson(text: string): { value: unknown } | null {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return null;
  }
}

/** Reasoning blocks some models write before their answer: <think>, <thinking>, <reasoning>. */
const REASONING_BLOCK = /<(think|thinking|reasoning)>[\s\S]*?<\/\1>/gi;

/** The content without its reasoning blocks, and whether there were any. */
export function withoutReasoning(content: string): { text: string; removed: boolean } {
  const text = content.replace(REASONING_BLOCK, "");
  return { text, removed: text.length !== content.length };
}

/**
 * The answer JSON inside the message content (after its reasoning blocks are removed): as is,
 * inside a ```json code fence, or between the first "{" and the last "}" (endpoints without
 * structured output wrap it in prose).
 */
export function answerJson(raw: string): unknown {
  const content = withoutReasoning(raw).text;
  const direct = parseJson(content.trim());
  if (direct !== null) return direct.value;
  const fenced = /```[A-Za-z]*[ \t]*\r?\n([\s\S]*?)```/.exec(content);
  if (fenced?.[1] !== undefined) {
    const inner = parseJson(fenced[1].trim());
    if (inner !== null) return inner.value;
  }
  const first = content.indexOf("{");
  const last = content.lastIndexOf("}");
  if (first !== -1 && last > first) {
    const inner = parseJson(content.slice(first, last + 1));
    if (inner !== null) return inner.value;
  }
  return undefined;
}

type Insufficient = Extract<Derivation, { kind: "insufficient" }>;

/** The message content of the recorded response, or the insufficiency it amounts to. */
function contentOf(body: string): string | string[] {
  const parsed = parseJson(body);
  const completion = parsed === null ? null : Completion.safeParse(parsed.value);
  if (completion === null || !completion.success) return ["the endpoint's response is not a chat completion"];
  const choice = completion.data.choices[0];
  if (choice === undefined) return ["the endpoint's response has no choice"];
  const { content, refusal } = choice.message;
  if (typeof refusal === "string" && refusal.trim() !== "") return [`the model refused: ${shown(refusal)}`];
  if (choice.finish_reason === "content_filter") return ["the endpoint's content filter withheld the answer"];
  if (choice.finish_reason === "length")
    return ["the model's answer was cut off (finish_reason length) before it was complete"];
  if (content === null || content === undefined || content.trim() === "")
    return ["the model returned an empty answer"];
  return content;
}

/**
 * Why a response the endpoint sent with HTTP 2xx is not a chat completion this reasoner can read
 * (an error object, an event stream, content as a list of parts, anything else), or null. Such
 * a response is an endpoint error: the call fails and no run is made from it.
 */
export function endpointProblem(body: string): string | null {
  const trimmed = body.trimStart();
  if (/^(data|event|id|retry):/.test(trimmed) || trimmed.startsWith(":"))
    return "answered with an event stream (SSE), not one JSON chat completion: streaming is not used";
  const parsed = parseJson(body);
  if (parsed === null) return "answered with a body that is not JSON";
  const value = parsed.value as { error?: unknown; choices?: unknown } | null;
  if (typeof value === "object" && value !== null && !Array.isArray(value) && value.error != null) {
    const error = value.error as { message?: unknown } | string;
    const message =
      typeof error === "string"
        ? error
        : typeof error.message === "string"
          ? error.message
          : canonicalJson(error as JsonValue);
    return `answered with an error object: ${shown(message)}`;
  }
  const choices = (value as { choices?: unknown } | null)?.choices;
  const first = Array.isArray(choices)
    ? (choices[0] as { message?: { content?: unknown } } | undefined)
    : undefined;
  if (Array.isArray(first?.message?.content))
    return "sent the message content as a list of parts; a string is expected";
  const completion = Completion.safeParse(value);
  if (!completion.success) return "answered with JSON that is not a chat completion";
  return null;
}

/**
 * Why a recorded call gave nothing to derive from: no usable chat completion, a refusal, a
 * cut-off or empty answer, or an answer that is not the JSON asked for; null when the answer
 * can be read (whether or not it holds a grounded claim). A run made from such a call never
 * replaces an earlier run (see src/app/run-job.ts).
 */
export function failedModelAnswer(call: ModelCall): string | null {
  const problem = endpointProblem(call.response.body);
  if (problem !== null) return problem;
  const content = contentOf(call.response.body);
  if (Array.isArray(content)) return content.join("; ");
  const answer = answerJson(content);
  if (answer === undefined) return "the model's answer is not JSON";
  if (
    typeof answer !== "object" ||
    answer === null ||
    !Array.isArray((answer as { claims?: unknown }).claims)
  )
    return 'the model\'s answer has no "claims" array';
  return null;
}

/**
 * Where `quote` is in `text`: verbatim, else with each run of whitespace in the quote matching
 * any run of whitespace in the text (a model reflows line breaks and doubled spaces). The
 * match is the exact source text, which is what gets cited.
 */
export function locateQuote(text: string, quote: string): { at: number; matched: string } | null {
  const at = text.indexOf(quote);
  if (at !== -1) return { at, matched: quote };
  const words = quote
    .trim()
    .split(/\s+/)
    .filter((w) => w !== "");
  if (words.length === 0) return null;
  const pattern = new RegExp(words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\s+"), "u");
  const match = pattern.exec(text);
  return match === null ? null : { at: match.index, matched: match[0] };
}

/** Char index in a string -> UTF-8 byte offset. */
const byteOffset = (text: string, index: number) => Buffer.byteLength(text.slice(0, index), "utf8");

interface GroundedClaim {
  statement: string;
  citations: ReasonerCitation[];
}

/** A citation's bytes in its document: the evidence's span start plus the citation's offsets. */
interface SourceSpan {
  doc: string;
  start: number;
  end: number;
}

const overlaps = (a: SourceSpan, b: SourceSpan) => a.doc === b.doc && a.start < b.end && b.start < a.end;

/** Locates each quote of one claim; records why each dropped quote was dropped. */
function groundClaim(
  claim: z.infer<typeof ModelClaim>,
  n: number,
  input: ReasonerInput,
  rejected: string[],
): { grounded: GroundedClaim; quotes: number } {
  const citations: ReasonerCitation[] = [];
  const sources: SourceSpan[] = [];
  const quotes = claim.citations.slice(0, MAX_QUOTES_PER_CLAIM);
  for (const [j, c] of quotes.entries()) {
    const where = `claim ${n}, quote ${j + 1}`;
    const evidence = input.evidence[c.evidence - 1];
    if (evidence === undefined) {
      rejected.push(`${where}: there is no evidence [${c.evidence}]`);
      continue;
    }
    if (c.quote.trim() === "") {
      rejected.push(`${where}: the quote is empty`);
      continue;
    }
    const found = locateQuote(evidence.text, c.quote);
    if (found === null) {
      rejected.push(`${where}: ${shown(c.quote)} is not found in evidence [${c.evidence}]`);
      continue;
    }
    const start = byteOffset(evidence.text, found.at);
    const bytes = Buffer.from(found.matched, "utf8");
    const source = {
      doc: evidence.docId,
      start: evidence.span[0] + start,
      end: evidence.span[0] + start + bytes.length,
    };
    // The same sentence reached through two overlapping passages is one support, not two.
    if (sources.some((s) => overlaps(s, source))) {
      rejected.push(`${where}: quotes source bytes an earlier quote of the claim already cites`);
      continue;
    }
    sources.push(source);
    citations.push({
      evidence_id: evidence.id,
      span: [start, start + bytes.length] as [number, number],
      sha256: sha256Hex(bytes),
    });
  }
  return { grounded: { statement: claim.statement.trim(), citations }, quotes: quotes.length };
}

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
  const rejected: string[] = [];
  const kept: GroundedClaim[] = [];
  let budget = input.maxCitations;
  let quotes = 0;
  let found = 0;
  let relevant = 0;
  const claims = (answer as { claims: unknown[] }).claims;
  if (claims.length > MAX_CLAIMS) rejected.push(`claims after the first ${MAX_CLAIMS} were not read`);
  for (const [i, raw] of claims.slice(0, MAX_CLAIMS).entries()) {
    const n = i + 1;
    const claim = ModelClaim.safeParse(raw);
    if (!claim.success) {
      const issue = claim.error.issues[0];
      rejected.push(
        `claim ${n}: does not follow the contract (${issue?.path.join(".") || "claim"}: ${issue?.message})`,
      );
      continue;
    }
    const { grounded, quotes: asked } = groundClaim(claim.data, n, input, rejected);
    quotes += asked;
    found += grounded.citations.length;
    // Each citation left is a distinct source span (groundClaim drops overlapping ones).
    relevant = Math.max(relevant, grounded.citations.length);
    if (grounded.statement === "") {
      rejected.push(`claim ${n}: the statement is empty`);
      continue;
    }
    const fitting = grounded.citations.slice(0, budget);
    const supports = fitting.length;
    if (supports < input.minSupports) {
      rejected.push(
        fitting.length < grounded.citations.length
          ? `claim ${n}: no room left under max_citations ${input.maxCitations}`
          : `claim ${n}: ${supports} distinct source span(s) quoted, ${input.minSupports} required`,
      );
      continue;
    }
    budget -= fitting.length;
    kept.push({ statement: grounded.statement, citations: fitting });
  }
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
      reasoning_removed: reasoning.removed,
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
