/**
 * The guards over real HTTP (docs/design.md §8, §9): every input is hostile. Traversal in ids and corpus
 * paths, symlink escapes, oversized and chunked bodies, media types, tokens, rate limits,
 * page sizes, malformed JSON and unknown fields all end in a 4xx problem, never a read
 * outside the roots and never a 500.
 */
import { cpSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  call,
  DEMO_ROOT,
  demoSpec,
  postChunked,
  type Reply,
  startServer,
  type TestServer,
} from "../helpers/http.js";
import { tempDir, writeFiles } from "../helpers/tmp.js";

const TOKEN = "s3cret-token-for-tests-0123456789";
const auth = { authorization: `Bearer ${TOKEN}` };

let open: TestServer;
let guarded: TestServer;
let runId: string;
let corpusRoot: string;

const expectProblem = (r: Reply, status: number, code?: string) => {
  expect(r.status, r.text).toBe(status);
  expect(r.type).toMatch(/^application\/problem\+json/);
  if (code !== undefined) expect(r.json().code).toBe(code);
};

beforeAll(async () => {
  // A corpus root holding the demo corpus, a symlink out of the root, and one that stays inside.
  corpusRoot = tempDir("canon-roots-");
  const outside = tempDir("canon-outside-");
  writeFiles(outside, { "secret.txt": "top secret text that must never be indexed\n" });
  cpSync(join(DEMO_ROOT, "corpus"), join(corpusRoot, "corpus"), { recursive: true });
  symlinkSync(outside, join(corpusRoot, "escape"));
  symlinkSync(join(corpusRoot, "corpus"), join(corpusRoot, "inside"));
  open = await startServer({ corpusRoots: [corpusRoot], bodyLimit: 4096, uploadLimit: 16_384 });
  guarded = await startServer({ token: TOKEN, rateLimit: { max: 5, windowMs: 60_000 } });
  const created = await call(open.url, "POST", "/v1/runs", { spec: demoSpec() });
  expect(created.status).toBe(201);
  runId = created.json().run_id;
});
afterAll(async () => {
  await open.close();
  await guarded.close();
});

describe("ids", () => {
  it.each([
    "/v1/runs/..%2F..%2Fetc%2Fpasswd",
    "/v1/runs/%2E%2E",
    "/v1/runs/run_v1_..%2F..%2F..",
    `/v1/runs/run_v1_${"a".repeat(63)}G`,
    `/v1/runs/RUN_V1_${"a".repeat(64)}`,
    `/v1/runs/run_v1_${"a".repeat(64)}%00`,
    "/v1/runs/..%2F..%2Fetc/trace",
    "/v1/runs/%E0%A4%A",
    "/v1/items/..%2F..%2Fregistry.sqlite",
  ])("GET %s is refused", async (path) => {
    const r = await call(open.url, "GET", path);
    expect([400, 404, 414]).toContain(r.status);
    expect(r.type).toMatch(/^application\/problem\+json/);
  });

  it("an overlong id is refused without echoing it", async () => {
    const r = await call(open.url, "GET", `/v1/runs/${"x".repeat(5000)}`);
    expectProblem(r, 414, "E_HTTP_URI_TOO_LONG");
    expect(r.text.length).toBeLessThan(500);
  });

  it("evidence names are 64 hex digits, nothing else", async () => {
    for (const name of ["..%2F..%2Fspec.json", "..%2Fmanifest", `${"a".repeat(64)}.txt`])
      expectProblem(await call(open.url, "GET", `/v1/runs/${runId}/evidence/${name}`), 400);
  });
});

describe("corpus paths", () => {
  it.each([
    ["/etc", 400, "E_CORPUS_PATH"],
    ["../corpus", 400, "E_CORPUS_PATH"],
    ["corpus/../../x", 400, "E_CORPUS_PATH"],
    ["corpus\\..\\..", 400, "E_CORPUS_PATH"],
    ["C:/Windows", 400, "E_CORPUS_PATH"],
    ["escape", 403, "E_CORPUS_FORBIDDEN"],
    ["escape/secret.txt", 403, "E_CORPUS_FORBIDDEN"],
    ["no-such", 404, "E_CORPUS_PATH"],
  ])("%s is refused %i", async (corpus, status, code) => {
    expectProblem(
      await call(open.url, "POST", "/v1/runs", { spec: demoSpec("Why?", { corpus }) }),
      status,
      code,
    );
  });

  it("a symlink that stays inside its root is followed", async () => {
    const r = await call(open.url, "POST", "/v1/runs", { spec: demoSpec(undefined, { corpus: "inside" }) });
    // The run id pins the snapshot, not the path: the same run as through "corpus".
    expect(r.json().run_id).toBe(runId);
  });
});

describe("bodies", () => {
  it("a body over the limit is refused 413, with or without Content-Length", async () => {
    const big = { spec: demoSpec("x".repeat(10_000)) };
    expectProblem(await call(open.url, "POST", "/v1/runs", big), 413, "E_HTTP_BODY_TOO_LARGE");
    const chunked = await postChunked(open.url, "/v1/runs", 64, 1024);
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).code).toBe("E_HTTP_BODY_TOO_LARGE");
  });

  it("a corpus upload has its own limit, enforced on chunked bodies too", async () => {
    const chunked = await postChunked(open.url, "/v1/corpora", 32, 1024, "application/x-ndjson");
    expect(chunked.status).toBe(413);
    const line = `${JSON.stringify({ doc_id: "a", text: "x".repeat(8000) })}\n`;
    const fits = await call(open.url, "POST", "/v1/corpora", line, {
      "content-type": "application/x-ndjson",
    });
    expect(fits.status, fits.text).toBe(201);
  });

  it("only JSON bodies: other media types get 415", async () => {
    expectProblem(await call(open.url, "POST", "/v1/runs", "spec=1", { "content-type": "text/plain" }), 415);
    expectProblem(
      await call(open.url, "POST", "/v1/runs", "a=1", {
        "content-type": "application/x-www-form-urlencoded",
      }),
      415,
      "E_HTTP_MEDIA_TYPE",
    );
    expectProblem(
      await call(open.url, "POST", "/v1/items", "<x/>", { "content-type": "application/xml" }),
      415,
    );
  });

  it("malformed JSON, prototype keys and unknown fields are 400", async () => {
    expectProblem(await call(open.url, "POST", "/v1/runs", "{not json"), 400, "E_HTTP_BAD_REQUEST");
    expectProblem(await call(open.url, "POST", "/v1/runs", ""), 400);
    expectProblem(await call(open.url, "POST", "/v1/runs", '{"__proto__":{"x":1},"spec":{}}'), 400);
    expectProblem(
      await call(open.url, "POST", "/v1/runs", { spec: demoSpec(), extra: 1 }),
      400,
      "E_HTTP_VALIDATION",
    );
    expectProblem(
      await call(open.url, "POST", "/v1/runs", { spec: { ...demoSpec(), colour: "red" } }),
      400,
      "E_HTTP_VALIDATION",
    );
    expectProblem(
      await call(open.url, "POST", "/v1/runs", { spec: { ...demoSpec(), id: `spec_v1_${"0".repeat(64)}` } }),
      400,
      "E_HTTP_VALIDATION",
    );
    expectProblem(await call(open.url, "POST", "/v1/runs", [1, 2]), 400, "E_HTTP_VALIDATION");
  });

  it("caps on top_k, chunk_chars, the question and the seed", async () => {
    for (const body of [
      { spec: demoSpec("Why?", { top_k: 1000 }) },
      { spec: demoSpec("Why?", { chunk_chars: 1_000_000 }) },
      { spec: demoSpec("Why?", { chunk_chars: 20 }) },
      { spec: demoSpec("y".repeat(2001)) },
      { spec: demoSpec("   ") },
      { spec: demoSpec(), seed: 2 ** 53 },
      { spec: demoSpec(), seed: -1 },
    ])
      expectProblem(await call(open.url, "POST", "/v1/runs", body), 400, "E_HTTP_VALIDATION");
  });

  it("constraints that clash are bad input from the pipeline, 400", async () => {
    const r = await call(open.url, "POST", "/v1/runs", {
      spec: demoSpec("Why?", { chunk_chars: 200, overlap_chars: 500 }),
    });
    expectProblem(r, 400);
  });
});

describe("pages", () => {
  it("page sizes are capped and cursors checked", async () => {
    for (const query of [
      "limit=100000",
      "limit=0",
      "limit=-1",
      "limit=abc",
      "cursor=../x",
      "cursor=1e99",
      "other=1",
    ])
      expectProblem(await call(open.url, "GET", `/v1/runs?${query}`), 400, "E_HTTP_VALIDATION");
    expect((await call(open.url, "GET", "/v1/runs?limit=100")).status).toBe(200);
  });
});

describe("token and rate limit", () => {
  it("a token guards /v1 (missing or wrong: 401), never /health", async () => {
    const server = await startServer({ token: TOKEN });
    try {
      expect((await call(server.url, "GET", "/health")).status).toBe(200);
      expect((await call(server.url, "GET", "/openapi.json")).status).toBe(200);
      expectProblem(await call(server.url, "GET", "/v1/runs"), 401, "E_HTTP_UNAUTHORIZED");
      expectProblem(
        await call(server.url, "GET", "/v1/runs", undefined, { authorization: "Bearer wrong" }),
        401,
      );
      expectProblem(
        await call(server.url, "GET", "/v1/runs", undefined, { authorization: `Bearer ${TOKEN}x` }),
        401,
      );
      expectProblem(
        await call(server.url, "GET", "/v1/runs", undefined, { authorization: `Basic ${TOKEN}` }),
        401,
      );
      expectProblem(await call(server.url, "GET", "/v1/runs", undefined, { authorization: TOKEN }), 401);
      expect((await call(server.url, "GET", "/v1/runs", undefined, auth)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("counts every request once, rejected ones included, and answers 429 with Retry-After", async () => {
    // Five per window per key: two wrong-token requests count against the address.
    expectProblem(await call(guarded.url, "GET", "/v1/runs"), 401);
    expectProblem(
      await call(guarded.url, "GET", "/v1/runs", undefined, { authorization: "Bearer nope" }),
      401,
    );
    for (let i = 0; i < 3; i++) expect((await call(guarded.url, "GET", "/health")).status).toBe(200);
    const limited = await call(guarded.url, "GET", "/health");
    expectProblem(limited, 429, "E_HTTP_RATE_LIMITED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // The token has its own bucket.
    for (let i = 0; i < 5; i++)
      expect((await call(guarded.url, "GET", "/v1/runs", undefined, auth)).status).toBe(200);
    expectProblem(await call(guarded.url, "GET", "/v1/runs", undefined, auth), 429);
  });
});
