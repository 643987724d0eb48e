/**
 * A scripted OpenAI-compatible endpoint on 127.0.0.1 for tests: a real node:http server on an
 * ephemeral port implementing POST /v1/chat/completions. Each request is answered by the next
 * step of a script (the last step repeats), so a test says exactly what the "model" does:
 * answer, refuse, fail with a status, send broken JSON, or never answer.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ChatRequest {
  headers: IncomingHttpHeaders;
  url: string;
  body: { model?: string; messages?: Array<{ role: string; content: string }>; [k: string]: unknown };
}

/** One scripted reply: given the request, write the response (or never end it, to time out). */
export type Step = (request: ChatRequest, res: ServerResponse) => void;

export interface ChatServer {
  /** The base URL, ending in /v1. */
  baseUrl: string;
  port: number;
  requests: ChatRequest[];
  close(): Promise<void>;
}

export function completion(content: string | null, extra: { finish?: string; refusal?: string } = {}) {
  return {
    id: "chatcmpl-test",
    object: "chat.completion",
    created: 1,
    model: "test-model",
    choices: [
      {
        index: 0,
        finish_reason: extra.finish ?? "stop",
        message: {
          role: "assistant",
          content,
          ...(extra.refusal === undefined ? {} : { refusal: extra.refusal }),
        },
      },
    ],
  };
}

/** Replies 200 with a chat completion whose content the function makes from the request. */
export const reply =
  (
    content: (request: ChatRequest) => string | null,
    extra: { finish?: string; refusal?: string } = {},
  ): Step =>
  (request, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(completion(content(request), extra)));
  };

/** Replies with a status and a JSON error body (and optional headers, e.g. retry-after-ms). */
export const fail =
  (status: number, headers: Record<string, string> = {}): Step =>
  (_request, res) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify({ error: { message: `scripted ${status}`, type: "test" } }));
  };

/** Replies with exactly this status, content type and body (a misbehaving server). */
export const raw =
  (status: number, contentType: string, body: string): Step =>
  (_request, res) => {
    res.writeHead(status, { "content-type": contentType });
    res.end(body);
  };

/**
 * Replies 400 (as some llama.cpp builds do) when the request asks for structured output
 * (response_format), and with `then` otherwise.
 */
export const rejectsResponseFormat =
  (then: Step): Step =>
  (request, res) => {
    if (request.body.response_format === undefined) return then(request, res);
    res.writeHead(400, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        error: { message: "response_format json_schema is not supported", type: "invalid_request_error" },
      }),
    );
  };

/** Never answers: the client's time limit must end the wait. */
export const hang: Step = () => {};

/** The passage numbered n in the request's user message (1-based), as the model sees it. */
export function passage(request: ChatRequest, n: number): string {
  const user = request.body.messages?.find((m) => m.role === "user")?.content ?? "";
  const parts = user.split(/\n\n(?=\[\d+\] )/);
  const part = parts.find((p) => p.startsWith(`[${n}] `)) ?? "";
  return part.slice(part.indexOf("\n") + 1);
}

export async function chatServer(script: Step[]): Promise<ChatServer> {
  const requests: ChatRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        fail(404)({ headers: req.headers, url: req.url ?? "", body: {} }, res);
        return;
      }
      const request = {
        headers: req.headers,
        url: req.url,
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
      };
      requests.push(request);
      const step = script[Math.min(requests.length, script.length) - 1] as Step;
      step(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
