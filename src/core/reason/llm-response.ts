/**
 * Reading the llm reasoner's recorded response (llm.ts): whether the endpoint answered with a
 * chat completion at all, the message content without its reasoning blocks, and the answer
 * JSON inside it. The response is hostile input: every way it can fail is a reason, not a throw.
 */
import * as z from "zod";
import { canonicalJson, type JsonValue } from "../canonical.js";
import type { ModelCall } from "../models/model-call.js";

const MAX_SHOWN = 160;
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

export const shown = (s: string) => JSON.stringify(s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s);

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

/** The message content of the recorded response, or the insufficiency it amounts to. */
export function contentOf(body: string): string | string[] {
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
 * replaces an earlier run (see src/app/run/run-job.ts).
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
