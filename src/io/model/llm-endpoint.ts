/**
 * The llm reasoner's one effect: a chat-completions request to an OpenAI-compatible endpoint
 * (OpenAI, Azure, Ollama, vLLM, llama.cpp's server, LM Studio), recorded as it was sent and
 * as it came back. The `openai` client is loaded only here, on first use, so commands that do
 * not call a model never pay for loading it.
 *
 * Retries are ours, not the client's (it runs with maxRetries 0): a timeout, a refused or
 * reset connection, 408, 409, 429 and 5xx are retried up to `maxRetries` times, waiting
 * `retryDelayMs` doubled per attempt, or what Retry-After asks, never longer than
 * `maxRetryDelayMs`: the client would honour any Retry-After, however long. Every failure ends
 * in one line naming the endpoint without credentials, and nothing of the key is ever shown.
 */
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import type { JsonValue } from "../../core/canonical.js";
import { CanonError, InputError } from "../../core/errors.js";
import { MODEL_CALL_VERSION, type ModelCall } from "../../core/models/model-call.js";
import { endpointProblem, withoutCredentials } from "../../core/reason/llm.js";

export interface EndpointSettings {
  /** One attempt's time limit, in milliseconds. */
  timeoutMs: number;
  /** Attempts after the first one, for failures worth retrying. */
  maxRetries: number;
  /** The first wait between attempts; doubled for each further one. */
  retryDelayMs: number;
  /** The longest single wait, also for a server's Retry-After. */
  maxRetryDelayMs: number;
}

export const DEFAULT_ENDPOINT_SETTINGS: EndpointSettings = {
  timeoutMs: 120_000,
  maxRetries: 2,
  retryDelayMs: 500,
  maxRetryDelayMs: 8_000,
};

/** Waits until the next request may start. */
export type Pacer = () => Promise<void>;

/** At most `perSecond` request starts per second (evenly spaced); no bound for 0. */
export function pacer(perSecond: number): Pacer {
  if (perSecond <= 0) return async () => {};
  const gap = 1000 / perSecond;
  let next = 0;
  return async () => {
    const now = performance.now();
    const at = Math.max(now, next);
    next = at + gap;
    if (at > now) await sleep(at - now);
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The API key from the environment: CANON_REASON_LLM_API_KEY, else OPENAI_API_KEY. */
export function apiKeyFrom(env: NodeJS.ProcessEnv): string | undefined {
  const key = env.CANON_REASON_LLM_API_KEY || env.OPENAI_API_KEY;
  return key === undefined || key === "" ? undefined : key;
}

/**
 * A model call that failed. `rejected` holds the HTTP status when the endpoint refused this
 * request itself (400, 413, 422, ...: the request's fault, say its context length, not the
 * configuration's): another request may well succeed, so an eval records the case as failed
 * and goes on, and a 400 may be a server that does not take response_format (see model-call.ts).
 */
export class ModelEndpointError extends CanonError {
  constructor(
    message: string,
    exitCode: 2 | 3,
    readonly rejected: number | undefined,
    cause?: unknown,
  ) {
    super("E_MODEL_ENDPOINT", message, cause === undefined ? { exitCode } : { exitCode, cause });
  }
}

interface Failure {
  retryable: boolean;
  /** The HTTP status of a request the endpoint rejected as such (see ModelEndpointError). */
  rejected?: number;
  /** What happened, for the one-line message (no credentials). */
  what: string;
  exitCode: 2 | 3;
  retryAfterMs?: number;
}

function retryAfter(headers: Headers | undefined): number | undefined {
  const ms = Number.parseFloat(headers?.get("retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const seconds = Number.parseFloat(headers?.get("retry-after") ?? "");
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

const oneLine = (s: string) => {
  const line = s.replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
};

type OpenAIModule = typeof import("openai");

function classify(error: unknown, sdk: OpenAIModule, model: string, timeoutMs: number): Failure {
  if (error instanceof CanonError) throw error;
  if (error instanceof sdk.APIConnectionTimeoutError)
    return { retryable: true, what: `did not answer within ${timeoutMs} ms`, exitCode: 3 };
  if (error instanceof sdk.APIConnectionError) {
    const cause = (error as { cause?: { cause?: { code?: string }; code?: string } }).cause;
    const code = cause?.cause?.code ?? cause?.code ?? "connection failed";
    return { retryable: true, what: `cannot be reached (${code})`, exitCode: 2 };
  }
  if (error instanceof sdk.APIError && error.status !== undefined) {
    const status = error.status;
    const after = retryAfter(error.headers);
    const withAfter = after === undefined ? {} : { retryAfterMs: after };
    if (status === 429)
      return { retryable: true, what: "rate limited the request (429)", exitCode: 3, ...withAfter };
    if (status >= 500 || status === 408 || status === 409)
      return { retryable: true, what: `failed with HTTP ${status}`, exitCode: 3, ...withAfter };
    if (status === 401 || status === 403)
      return {
        retryable: false,
        what: `refused the credentials (HTTP ${status}): set CANON_REASON_LLM_API_KEY (or OPENAI_API_KEY)`,
        exitCode: 2,
      };
    if (status === 404)
      return {
        retryable: false,
        what: `answered HTTP 404 for model ${JSON.stringify(model)}: check --base-url (the base ends in /v1) and --model`,
        exitCode: 2,
      };
    return {
      retryable: false,
      what: `rejected the request (HTTP ${status}): ${oneLine(error.message)}`,
      exitCode: 2,
      rejected: status,
    };
  }
  throw error;
}

/** A chat completion is a few kilobytes; a body past this is refused, never buffered whole. */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/**
 * The body text, read with a bound on its size; a server that stalls after its headers times
 * out like one that never answers.
 */
async function readBody(
  response: Response,
  timeoutMs: number,
  sdk: OpenAIModule,
  endpoint: string,
): Promise<string> {
  const tooLarge = () =>
    new CanonError(
      "E_MODEL_ENDPOINT",
      `model endpoint ${endpoint} answered with more than ${MAX_RESPONSE_BYTES} bytes`,
      {
        exitCode: 3,
      },
    );
  if (Number(response.headers.get("content-length") ?? 0) > MAX_RESPONSE_BYTES) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const reader = response.body?.getReader();
  if (reader === undefined) return "";
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void reader.cancel().catch(() => {});
  }, timeoutMs);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > MAX_RESPONSE_BYTES) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw new sdk.APIConnectionTimeoutError();
  return new TextDecoder("utf-8").decode(Buffer.concat(chunks));
}

/**
 * Sends the request and returns the recording: the request body, the endpoint without
 * credentials, the response status and body text. `baseUrl` may carry user:password: they are
 * sent as HTTP Basic authentication (when no API key is set) and never recorded.
 */
export async function callModel(
  baseUrl: string,
  body: Record<string, JsonValue>,
  settings: EndpointSettings,
  options: { env?: NodeJS.ProcessEnv; pace?: Pacer } = {},
): Promise<ModelCall> {
  const sdk = await import("openai");
  const url = new URL(baseUrl);
  const shownBase = withoutCredentials(baseUrl).replace(/\/+$/, "");
  const endpoint = `${shownBase}/chat/completions`;
  const key = apiKeyFrom(options.env ?? process.env);
  const basic =
    url.username === "" && url.password === ""
      ? undefined
      : Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString(
          "base64",
        );
  if (basic !== undefined && key !== undefined)
    throw new InputError(
      "E_USAGE",
      "give either an API key (CANON_REASON_LLM_API_KEY or OPENAI_API_KEY) or user:password in the base URL, not both",
      { field: "base_url" },
    );
  const client = new sdk.OpenAI({
    // Local servers (Ollama, llama.cpp) need no key; the client insists on one.
    apiKey: key ?? "no-key",
    baseURL: shownBase,
    organization: null,
    project: null,
    maxRetries: 0,
    timeout: settings.timeoutMs,
    logLevel: "off",
    ...(basic === undefined ? {} : { defaultHeaders: { Authorization: `Basic ${basic}` } }),
  });
  const model = typeof body.model === "string" ? body.model : "";
  for (let attempt = 1; ; attempt++) {
    await options.pace?.();
    try {
      const response = await client.chat.completions
        .create(body as unknown as ChatCompletionCreateParamsNonStreaming)
        .asResponse();
      const text = await readBody(response, settings.timeoutMs, sdk, endpoint);
      // HTTP 200 is not enough: an error object, an event stream or content as a list of parts
      // is an endpoint error, never a recording a run is made from.
      const problem = endpointProblem(text);
      if (problem !== null)
        throw new ModelEndpointError(
          `model endpoint ${endpoint} ${problem} (HTTP ${response.status})`,
          3,
          undefined,
        );
      return {
        version: MODEL_CALL_VERSION,
        endpoint,
        request: body,
        response: { status: response.status, body: text },
      };
    } catch (error) {
      const failure = classify(error, sdk, model, settings.timeoutMs);
      if (!failure.retryable || attempt > settings.maxRetries) {
        const tries = failure.retryable ? ` (${attempt} attempt${attempt === 1 ? "" : "s"})` : "";
        // The cause stays attached (never printed): a queue worker tells its own endpoint
        // refusing connections from a job's bad request by it (queue/local-fault.ts).
        throw new ModelEndpointError(
          `model endpoint ${endpoint} ${failure.what}${tries}`,
          failure.exitCode,
          failure.rejected,
          error,
        );
      }
      const backoff = settings.retryDelayMs * 2 ** (attempt - 1);
      await sleep(Math.min(settings.maxRetryDelayMs, failure.retryAfterMs ?? backoff));
    }
  }
}
