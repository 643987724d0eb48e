/**
 * A recorded model call (docs/design.md §3.4, §4): the exact chat-completions request the llm reasoner
 * sent and the endpoint's response body as it arrived. Stored in the run as
 * `model/<sha256>.json` (canonical JSON, named by the sha256 of its bytes) and referenced from
 * the derive step's output, so frozen replay and the verifier re-derive the answer from it
 * without the model. The endpoint is recorded without credentials; the API key never is.
 */
import * as z from "zod";
import { JsonObject, Sha256Hex } from "./common.js";

export const MODEL_CALL_VERSION = "1";

/** Where a run keeps a recording: named by the sha256 of its file bytes, like evidence. */
export const MODEL_CALL_FILE = /^model\/[0-9a-f]{64}\.json$/;
export const modelCallPath = (sha256: string) => `model/${sha256}.json`;

export const ModelCall = z.strictObject({
  version: z.literal(MODEL_CALL_VERSION),
  /** The chat-completions URL the request went to, without user:password. */
  endpoint: z.string(),
  /** The request body, exactly as sent: model, temperature, seed, messages, response_format. */
  request: JsonObject,
  /** The HTTP status and the response body as text, exactly as received (parsed only when derived). */
  response: z.strictObject({ status: z.int(), body: z.string() }),
});
export type ModelCall = z.infer<typeof ModelCall>;

/** How the trace names a recording: its path in the run and the sha256 of its bytes. */
export const ModelCallRef = z.strictObject({
  path: z.string().regex(MODEL_CALL_FILE, "expected model/<sha256>.json"),
  sha256: Sha256Hex,
});
export type ModelCallRef = z.infer<typeof ModelCallRef>;
