/**
 * The llm reasoner, version 1, frozen: kept so runs it made still re-derive and replay (the
 * verifier and frozen replay look a run's reasoner up by id and version). New runs use
 * version 2 (./llm.ts). Do not change: a run's recorded derivation depends on every line.
 *
 * Version 1 located quotes verbatim, counted supports by evidence item, parsed the content
 * as is (no reasoning blocks removed) and sent every passage whole.
 */
import * as z from "zod";
import { canonicalJson, type JsonValue, sha256Hex } from "../canonical.js";
import { CanonError } from "../errors.js";
import type { Derivation, ReasonerCitation, ReasonerInput } from "./reasoner.js";

const LLM_REASONER_ID = "llm";

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

function systemPrompt(minSupports: number, maxCitations: number): string {
  return [
    "You answer a question using only the numbered evidence passages you are given.",
    'Reply with JSON only, of the form {"claims": [{"statement": "...", "citations": [{"evidence": 1, "quote": "..."}]}]}.',
    "Each claim is one sentence that answers the question.",
    `Each claim cites at least ${minSupports} different evidence passage(s), and all claims together at most ${maxCitations} quote(s).`,
    "A citation names the number of the passage and quotes a span of that passage verbatim: the same characters, spacing and punctuation.",
    "Quotes that are not found verbatim in their passage are discarded, and so is a claim left without enough of them.",
    'If the evidence does not answer the question, reply {"claims": []}.',
  ].join("\n");
}

function userPrompt(input: ReasonerInput): string {
  const passages = input.evidence.map((e, i) => `[${i + 1}] ${e.docId}\n${e.text}`);
  return `Question: ${input.question}\n\nEvidence:\n\n${passages.join("\n\n")}`;
}

function llmOf(input: ReasonerInput): NonNullable<ReasonerInput["llm"]> {
  if (input.llm === undefined)
    throw new CanonError("E_PLAN_INVALID", 'the llm reasoner needs a derive step with reasoner "llm"', {
      exitCode: 3,
    });
  return input.llm;
}

/** The exact chat-completions request body for this input: a pure function of the trace and plan. */
function chatRequest(input: ReasonerInput): Record<string, JsonValue> {
  const llm = llmOf(input);
  return {
    model: llm.model,
    temperature: llm.temperature,
    seed: llm.seed,
    messages: [
      { role: "system", content: systemPrompt(input.minSupports, input.maxCitations) },
      { role: "user", content: userPrompt(input) },
    ],
    response_format: {
      type: "json_schema",
      json_schema: { name: "grounded_answer", strict: true, schema: ANSWER_SCHEMA },
    },
  };
}

/** Too little evidence to satisfy min_supports_per_claim: no call is made, the answer is insufficient. */
function needsModelCall(input: ReasonerInput): boolean {
  return input.evidence.length > 0 && input.evidence.length >= input.minSupports;
}

/**
 * Why a recording cannot stand for this input's call, or null when it can: it must hold exactly
 * the request this input makes (a recording of another question or evidence is refused).
 */
function recordingMismatch(input: ReasonerInput): string | null {
  const call = llmOf(input).call;
  if (!needsModelCall(input))
    return call === undefined ? null : "a model call is recorded where none was needed";
  if (call === undefined) return "no model call is recorded";
  if (canonicalJson(call.recording.request) !== canonicalJson(chatRequest(input)))
    return `${call.ref.path} holds a request other than the one this question and evidence make`;
  return null;
}

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

/**
 * The answer JSON inside the message content: as is, inside a ```json code fence, or between
 * the first "{" and the last "}" (endpoints without structured output wrap it in prose).
 */
function answerJson(content: string): unknown {
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

/** Char index in a string -> UTF-8 byte offset. */
const byteOffset = (text: string, index: number) => Buffer.byteLength(text.slice(0, index), "utf8");

interface GroundedClaim {
  statement: string;
  citations: ReasonerCitation[];
}

/** Locates each quote of one claim; records why each dropped quote was dropped. */
function groundClaim(
  claim: z.infer<typeof ModelClaim>,
  n: number,
  input: ReasonerInput,
  rejected: string[],
): { grounded: GroundedClaim; quotes: number } {
  const citations: ReasonerCitation[] = [];
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
    const at = evidence.text.indexOf(c.quote);
    if (at === -1) {
      rejected.push(`${where}: ${shown(c.quote)} is not found verbatim in evidence [${c.evidence}]`);
      continue;
    }
    const start = byteOffset(evidence.text, at);
    const bytes = Buffer.from(c.quote, "utf8");
    const citation = {
      evidence_id: evidence.id,
      span: [start, start + bytes.length] as [number, number],
      sha256: sha256Hex(bytes),
    };
    const duplicate = citations.some(
      (d) => d.evidence_id === citation.evidence_id && d.span[0] === start && d.span[1] === citation.span[1],
    );
    if (!duplicate) citations.push(citation);
  }
  return { grounded: { statement: claim.statement.trim(), citations }, quotes: quotes.length };
}

const distinctEvidence = (citations: readonly ReasonerCitation[]) =>
  new Set(citations.map((c) => c.evidence_id)).size;

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
function deriveFromRecording(input: ReasonerInput): Derivation {
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
  const content = contentOf(llm.call.recording.response.body);
  if (Array.isArray(content)) return insufficient(input, content.join("; "), 0);
  const answer = answerJson(content);
  if (answer === undefined) return insufficient(input, "the model's answer is not JSON", 0);
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
    relevant = Math.max(relevant, distinctEvidence(grounded.citations));
    if (grounded.statement === "") {
      rejected.push(`claim ${n}: the statement is empty`);
      continue;
    }
    const fitting = grounded.citations.slice(0, budget);
    const supports = distinctEvidence(fitting);
    if (supports < input.minSupports) {
      rejected.push(
        fitting.length < grounded.citations.length
          ? `claim ${n}: no room left under max_citations ${input.maxCitations}`
          : `claim ${n}: ${supports} piece(s) of evidence quoted verbatim, ${input.minSupports} required`,
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
    },
    modelCall: llm.call.ref,
  };
}

export const llmReasonerV1 = {
  id: LLM_REASONER_ID,
  version: "1",
  derive: deriveFromRecording,
  recordingMismatch,
} as const;
