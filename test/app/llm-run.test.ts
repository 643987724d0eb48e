/**
 * The llm reasoner end to end in process, over the network stack: runJob against a scripted
 * chat-completions server on 127.0.0.1 (test/helpers/chat-server.ts). Each failure of the
 * endpoint ends in an insufficient answer with its reason, or in a one-line error with exit
 * code 2 or 3 and nothing published; the key and URL credentials are never written.
 */
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runJob } from "../../src/app/run/run-job.js";
import { CanonError } from "../../src/core/errors.js";
import type { ProblemSpec } from "../../src/core/models/spec.js";
import { MAX_RESPONSE_BYTES } from "../../src/io/model/llm-endpoint.js";
import { readRunDirectory } from "../../src/io/runs/run-reader.js";
import {
  type ChatServer,
  chatServer,
  fail,
  hang,
  passage,
  raw,
  rejectsResponseFormat,
  reply,
  type Step,
} from "../helpers/chat-server.js";
import { tempDir, writeFiles } from "../helpers/tmp.js";

const QUESTION = "How is a trick won in contract bridge?";
const RULE = "a trick is won by the highest card of the suit that was led";
const corpus = tempDir();
writeFiles(corpus, {
  "bridge.md": `# Contract bridge\n\nIn bridge, ${RULE}, unless a trump is played. The declarer plays both hands.\n`,
  "tea.md": "# Tea\n\nThe Japanese tea ceremony is called chado, the way of tea.\n",
});

/** The number of the passage holding the rule, as the model was shown it. */
const ruleAt = (request: Parameters<Step>[0]) => (passage(request, 1).includes(RULE) ? 1 : 2);
const answerWith = (quote: (request: Parameters<Step>[0]) => string) =>
  reply((request) =>
    JSON.stringify({
      claims: [
        {
          statement: "The highest card of the suit led wins.",
          citations: [{ evidence: ruleAt(request), quote: quote(request) }],
        },
      ],
    }),
  );
const good = answerWith(() => RULE);

let server: ChatServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const FAST = { timeoutMs: 400, maxRetries: 1, retryDelayMs: 5, maxRetryDelayMs: 20 };

async function run(
  script: Step[],
  o: {
    env?: NodeJS.ProcessEnv;
    settings?: Partial<typeof FAST>;
    baseUrl?: (s: ChatServer) => string;
    artifactsRoot?: string;
    /** Ask the server already running (its script goes on): the run has the same base URL, so the same id. */
    sameServer?: boolean;
  } = {},
) {
  if (o.sameServer !== true || server === undefined) {
    await server?.close();
    server = await chatServer(script);
  }
  const artifactsRoot = o.artifactsRoot ?? tempDir();
  const spec: ProblemSpec = {
    version: "1",
    description: QUESTION,
    constraints: {
      corpus,
      reasoner: "llm",
      model: "test-model",
      base_url: o.baseUrl === undefined ? server.baseUrl : o.baseUrl(server),
    },
  };
  const job = runJob({
    spec,
    preset: "default",
    seed: 0,
    artifactsRoot,
    model: { settings: { ...FAST, ...o.settings }, env: o.env ?? {} },
  });
  return { job, artifactsRoot, server };
}

const published = (root: string) =>
  existsSync(join(root, "runs")) ? readdirSync(join(root, "runs")).filter((n) => !n.startsWith(".")) : [];

/** The job's error, asserted to be a one-line CanonError with this exit code; nothing published. */
async function failure(
  r: Awaited<ReturnType<typeof run>>,
  exitCode: number,
  before: string[] = [],
): Promise<CanonError> {
  const error = await r.job.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CanonError);
  const canon = error as CanonError;
  expect(canon.code).toBe("E_MODEL_ENDPOINT");
  expect(canon.exitCode).toBe(exitCode);
  expect(canon.message).not.toContain("\n");
  expect(published(r.artifactsRoot)).toEqual(before);
  return canon;
}

const allText = (runDir: string) =>
  [...readRunDirectory(runDir).files.values()].map((b) => Buffer.from(b).toString("utf8")).join("\n");

describe("llm reasoner against a chat-completions endpoint", () => {
  it("a good answer: cited bytes, the call recorded with temperature 0 and the seed, the run passes", async () => {
    const r = await run([good]);
    const result = await r.job;
    expect(result.answer.status).toBe("answered");
    expect(result.answer.answer).toBe("The highest card of the suit led wins.");
    expect(result.answer.claims[0]?.citations[0]?.quote).toBe(RULE);
    expect(result.report.verdict).toBe("pass");
    expect(r.server.requests).toHaveLength(1);
    expect(r.server.requests[0]?.body).toMatchObject({ model: "test-model", temperature: 0, seed: 0 });
    const files = [...result.files.keys()].filter((p) => p.startsWith("model/"));
    expect(files).toHaveLength(1);
  });

  it("an invented quote is dropped: insufficient evidence naming it, and the run still verifies", async () => {
    const r = await run([answerWith(() => "the queen always wins the trick")]);
    const result = await r.job;
    expect(result.answer.status).toBe("insufficient_evidence");
    expect(result.answer.uncertainty).toMatch(
      /"the queen always wins the trick" is not found in evidence \[\d\]/,
    );
    expect(result.report.verdict).toBe("pass");
  });

  it("beside a real quote, an invented one is left out and the answer says so", async () => {
    const both = reply((request) =>
      JSON.stringify({
        claims: [
          {
            statement: "The highest card of the suit led wins.",
            citations: [
              { evidence: ruleAt(request), quote: RULE },
              { evidence: ruleAt(request), quote: "the joker beats every card" },
            ],
          },
        ],
      }),
    );
    const result = await (await run([both])).job;
    expect(result.answer.status).toBe("answered");
    expect(result.answer.claims[0]?.citations).toHaveLength(1);
    expect(result.answer.claims[0]?.confidence).toBe(0.5);
    expect(result.answer.claims[0]?.rejected).toEqual([
      expect.stringMatching(
        /^claim 1, quote 2: "the joker beats every card" is not found in evidence \[\d\]$/,
      ),
    ]);
    expect(result.report.verdict).toBe("pass");
  });

  it("issue 21 item 17: a quote with changed whitespace is matched; the run cites the exact source bytes and verifies", async () => {
    const r = await run([
      answerWith(() => RULE.replace("highest card", "highest\n  card").replace(" of ", "\tof ")),
    ]);
    const result = await r.job;
    expect(result.answer.status).toBe("answered");
    expect(result.answer.claims[0]?.citations[0]?.quote).toBe(RULE);
    expect(result.report.verdict).toBe("pass");
  });

  it("malformed JSON is insufficient evidence, JSON in a code fence is read", async () => {
    const bad = await (await run([reply(() => '{"claims": [{"statement": "The highest')])).job;
    expect(bad.answer.uncertainty).toMatch(/the model's answer is not JSON/);
    await server?.close();
    const fenced = await (
      await run([
        reply((request) => {
          const body = JSON.stringify({
            claims: [
              { statement: "Highest card wins.", citations: [{ evidence: ruleAt(request), quote: RULE }] },
            ],
          });
          return `\`\`\`json\n${body}\n\`\`\``;
        }),
      ])
    ).job;
    expect(fenced.answer.status).toBe("answered");
  });

  it("a refusal is insufficient evidence with the model's words", async () => {
    const result = await (await run([reply(() => null, { refusal: "I cannot help with that." })])).job;
    expect(result.answer.uncertainty).toMatch(/the model refused: "I cannot help with that\."/);
    expect(result.report.verdict).toBe("pass");
  });

  it("429 then success: one bounded retry, honouring retry-after-ms", async () => {
    const r = await run([fail(429, { "retry-after-ms": "5" }), good]);
    expect((await r.job).answer.status).toBe("answered");
    expect(r.server.requests).toHaveLength(2);
  });

  it("429 until the retries run out: exit 3, one line, nothing written", async () => {
    const r = await run([fail(429, { "retry-after": "3600" })], { settings: { maxRetries: 2 } });
    const error = await failure(r, 3);
    // Retry-After asked for an hour; each wait is capped at maxRetryDelayMs.
    expect(error.message).toBe(
      `model endpoint ${r.server.baseUrl}/chat/completions rate limited the request (429) (3 attempts)`,
    );
    expect(r.server.requests).toHaveLength(3);
  });

  it("5xx: retried, then exit 3; 5xx then success answers", async () => {
    const down = await run([fail(503)]);
    expect((await failure(down, 3)).message).toMatch(/failed with HTTP 503 \(2 attempts\)$/);
    await server?.close();
    const flaky = await run([fail(500), good]);
    expect((await flaky.job).answer.status).toBe("answered");
  });

  it("a server that never answers times out: exit 3 naming the time limit", async () => {
    const r = await run([hang], { settings: { timeoutMs: 150, maxRetries: 0 } });
    expect((await failure(r, 3)).message).toMatch(/did not answer within 150 ms \(1 attempt\)$/);
  });

  it("a body that stalls after its headers times out; a body past the size bound is refused (exit 3)", async () => {
    const stall: Step = (_request, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"choices": [');
    };
    const stalled = await run([stall], { settings: { timeoutMs: 200, maxRetries: 0 } });
    expect((await failure(stalled, 3)).message).toMatch(/did not answer within 200 ms/);
    await server?.close();
    // Refused on its declared length, before a byte of it is buffered.
    const huge: Step = (_request, res) => {
      res.writeHead(200, {
        "content-type": "application/json",
        "content-length": String(MAX_RESPONSE_BYTES + 1),
      });
      res.write("{");
    };
    const flooded = await run([huge], { settings: { timeoutMs: 30_000 } });
    expect((await failure(flooded, 3)).message).toMatch(/answered with more than 8388608 bytes$/);
    expect(flooded.server.requests).toHaveLength(1);
  });

  it("401 is not retried and names the key variable (exit 2); a refused connection is exit 2", async () => {
    const r = await run([fail(401)]);
    expect((await failure(r, 2)).message).toMatch(
      /refused the credentials \(HTTP 401\): set CANON_REASON_LLM_API_KEY/,
    );
    expect(r.server.requests).toHaveLength(1);
    await server?.close();
    const closed = await chatServer([good]);
    const gone = closed.baseUrl;
    await closed.close();
    const refused = await run([good], { baseUrl: () => gone, settings: { maxRetries: 0 } });
    expect((await failure(refused, 2)).message).toMatch(/cannot be reached \(ECONNREFUSED\)/);
  });

  it("the API key and URL credentials authenticate the call and are never written into the run", async () => {
    const keyed = await run([good], {
      env: { CANON_REASON_LLM_API_KEY: "sk-secret-123", OPENAI_API_KEY: "sk-other" },
    });
    const result = await keyed.job;
    expect(keyed.server.requests[0]?.headers.authorization).toBe("Bearer sk-secret-123");
    expect(allText(result.runDir)).not.toContain("sk-secret-123");
    await server?.close();

    const fallback = await run([good], { env: { OPENAI_API_KEY: "sk-fallback" } });
    await fallback.job;
    expect(fallback.server.requests[0]?.headers.authorization).toBe("Bearer sk-fallback");
    await server?.close();

    const basic = await run([good], { baseUrl: (s) => s.baseUrl.replace("http://", "http://alice:s3cret@") });
    const withCredentials = await basic.job;
    expect(basic.server.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from("alice:s3cret").toString("base64")}`,
    );
    const text = allText(withCredentials.runDir);
    expect(text).not.toContain("s3cret");
    expect(text).not.toContain("alice");
    expect(text).not.toContain(Buffer.from("alice:s3cret").toString("base64"));
    await server?.close();

    const both = await run([good], {
      env: { CANON_REASON_LLM_API_KEY: "sk-1" },
      baseUrl: (s) => s.baseUrl.replace("http://", "http://alice:s3cret@"),
    });
    const error = await both.job.then(
      () => null,
      (e: unknown) => e as CanonError,
    );
    expect(error?.exitCode).toBe(2);
    expect(error?.message).toMatch(/not both/);
  });
});

/** Every file of a run directory with its bytes, to show a run was left untouched. */
const snapshotOf = (runDir: string) =>
  [...readRunDirectory(runDir).files.entries()]
    .map(([path, bytes]) => `${path}:${Buffer.from(bytes).toString("base64")}`)
    .sort();

const completionWith = (content: unknown) =>
  JSON.stringify({ choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }] });

/**
 * Issue 21 item 14: replies a misbehaving server sends with HTTP 200. Each is an endpoint
 * error (exit 3): nothing is written, and an earlier good run with the same id is untouched.
 */
const MISBEHAVING: Array<[string, Step, RegExp]> = [
  [
    "an error object",
    raw(200, "application/json", '{"error":{"message":"context length exceeded"}}'),
    /error object: "context length exceeded"/,
  ],
  [
    "an error string",
    raw(200, "application/json", '{"error":"model overloaded"}'),
    /error object: "model overloaded"/,
  ],
  [
    "an SSE stream",
    raw(200, "text/event-stream", `data: ${completionWith("{}")}\n\ndata: [DONE]\n\n`),
    /event stream \(SSE\)/,
  ],
  [
    "an SSE stream sent as JSON",
    raw(200, "application/json", 'event: message\ndata: {"x":1}\n\n'),
    /event stream/,
  ],
  [
    "content as a list of parts",
    raw(200, "application/json", completionWith([{ type: "text", text: '{"claims":[]}' }])),
    /list of parts/,
  ],
  ["HTML", raw(200, "text/html", "<html><body>Bad gateway</body></html>"), /not JSON/],
  ["an empty body", raw(200, "application/json", ""), /not JSON/],
  [
    "JSON that is not a chat completion",
    raw(200, "application/json", '{"object":"list","data":[]}'),
    /not a chat completion/,
  ],
  ["no choices", raw(200, "application/json", '{"choices":[]}'), /not a chat completion/],
  // Replies that are chat completions but carry no answer: written only where no run is.
  ["a refusal", reply(() => null, { refusal: "I cannot help with that." }), /the model refused/],
  ["an answer cut off", reply(() => '{"claims": [', { finish: "length" }), /cut off/],
  ["an empty answer", reply(() => "  "), /empty answer/],
  ["prose, no JSON", reply(() => "The highest card wins, I think."), /not JSON/],
];

describe("issue 21 item 14: a run is never replaced by one whose model call failed", () => {
  for (const [name, step, message] of MISBEHAVING)
    it(`item 14: ${name} — exit 3, nothing written, the earlier run untouched`, async () => {
      const first = await (await run([good, step])).job;
      const root = dirname(dirname(first.runDir));
      const before = snapshotOf(first.runDir);
      const r = await run([], { artifactsRoot: root, sameServer: true });
      const error = await failure(r, 3, [first.runId]);
      expect(error.message).toMatch(message);
      expect(snapshotOf(first.runDir)).toEqual(before);
      expect(readdirSync(join(root, "runs")).filter((n) => n.startsWith("."))).toEqual([]);
    });

  it("item 14: a refusal where no run is yet is written as insufficient evidence (and verifies)", async () => {
    const result = await (await run([reply(() => null, { refusal: "No." })])).job;
    expect(result.answer.status).toBe("insufficient_evidence");
    expect(result.report.verdict).toBe("pass");
  });
});

describe("issue 21 item 16: a server that rejects response_format", () => {
  it("item 16: 400 to json_schema: retried once without it; the prose reply is parsed and the mode recorded", async () => {
    const r = await run([rejectsResponseFormat(good)]);
    const result = await r.job;
    expect(r.server.requests.map((q) => q.body.response_format === undefined)).toEqual([false, true]);
    expect(result.answer.status).toBe("answered");
    expect(result.report.verdict).toBe("pass");
    const claim = result.trace.events.find((e) => e.type === "claim_emitted");
    expect(claim?.type === "claim_emitted" && claim.claim.structured.response_format).toBe("prompt");
    const recording = [...result.files.entries()].find(([p]) => p.startsWith("model/"));
    expect(Buffer.from(recording?.[1] ?? []).toString("utf8")).not.toContain("response_format");
  });

  it("item 16: structured output accepted: one request, mode json_schema", async () => {
    const r = await run([good]);
    const result = await r.job;
    expect(r.server.requests).toHaveLength(1);
    const claim = result.trace.events.find((e) => e.type === "claim_emitted");
    expect(claim?.type === "claim_emitted" && claim.claim.structured.response_format).toBe("json_schema");
  });

  it("item 16: a second 400 is the call's failure (exit 2), naming both; only one retry", async () => {
    const r = await run([fail(400)]);
    const error = await failure(r, 2);
    expect(error.message).toMatch(/rejected the request \(HTTP 400\).*retried without response_format after/);
    expect(r.server.requests).toHaveLength(2);
  });

  it("item 16: other client errors are not retried without response_format", async () => {
    for (const status of [401, 404, 422]) {
      const r = await run([fail(status)]);
      await failure(r, 2);
      expect(r.server.requests, String(status)).toHaveLength(1);
    }
  });
});
