// A scripted OpenAI-compatible chat-completions endpoint for the benchmarks, on 127.0.0.1: every
// POST /v1/chat/completions waits `latencyMs` (the model "thinking"; requests overlap, as they
// do on a real endpoint), then quotes the first eight words of the top passage, so every answer
// is grounded and verifies. Kept in bench/ so `npm run bench` needs nothing from test/.
import { createServer } from "node:http";

/** The passage numbered n (1-based) of the request's user message, as the model sees it. */
function passage(body, n) {
  const user = body.messages?.find((m) => m.role === "user")?.content ?? "";
  const part = user.split(/\n\n(?=\[\d+\] )/).find((p) => p.startsWith(`[${n}] `)) ?? "";
  return part.slice(part.indexOf("\n") + 1);
}

function completion(body) {
  const quote = passage(body, 1).split(/\s+/).slice(0, 8).join(" ");
  const content = JSON.stringify({
    claims: [{ statement: `It says: ${quote}`, citations: [{ evidence: 1, quote }] }],
  });
  return {
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: 1,
    model: body.model ?? "bench-model",
    choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }],
  };
}

/** Starts the endpoint; resolves to its base URL (ending in /v1), a request count and close(). */
export async function startChatServer({ latencyMs }) {
  let requests = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "not found" } }));
        return;
      }
      requests++;
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      setTimeout(() => {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(completion(body)));
      }, latencyMs);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    baseUrl: `http://127.0.0.1:${server.address().port}/v1`,
    requests: () => requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
