/** Every route over real HTTP on loopback: success and error codes, problem+json bodies. */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, demoSpec, type Reply, startServer, type TestServer } from "../helpers/http.js";

let server: TestServer;
let runId: string;
const RUN_ABSENT = `run_v1_${"0".repeat(64)}`;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

const expectProblem = (r: Reply, status: number, code: string) => {
  expect(r.type).toMatch(/^application\/problem\+json/);
  const body = r.json();
  expect(body).toMatchObject({ status, code, type: `urn:canon-reason:problem:${code}` });
  expect(r.status).toBe(status);
};

describe("service routes", () => {
  it("GET /health", async () => {
    const r = await call(server.url, "GET", "/health");
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ status: "ok" });
  });

  it("POST /v1/runs creates a verified run, then finds the same one", async () => {
    const first = await call(server.url, "POST", "/v1/runs", { spec: demoSpec() });
    expect(first.status).toBe(201);
    const body = first.json();
    expect(body.run_id).toMatch(/^run_v1_[0-9a-f]{64}$/);
    expect(body.verification.verdict).toBe("pass");
    expect(body.claims.length).toBeGreaterThan(0);
    runId = body.run_id;
    const again = await call(server.url, "POST", "/v1/runs", { spec: demoSpec(), preset: "default" });
    expect(again.status).toBe(200);
    expect(again.json()).toMatchObject({ run_id: runId, created: false });
  });

  it("POST /v1/runs errors: bad spec, unknown preset, missing corpus, unknown item", async () => {
    expectProblem(
      await call(server.url, "POST", "/v1/runs", { spec: { version: "1" } }),
      400,
      "E_HTTP_VALIDATION",
    );
    expectProblem(
      await call(server.url, "POST", "/v1/runs", { spec: demoSpec(), preset: "nope" }),
      400,
      "E_HTTP_VALIDATION",
    );
    expectProblem(await call(server.url, "POST", "/v1/runs", {}), 400, "E_HTTP_VALIDATION");
    expectProblem(
      await call(server.url, "POST", "/v1/runs", { spec: demoSpec("Why?", { corpus: "no-such-corpus" }) }),
      404,
      "E_CORPUS_PATH",
    );
    expectProblem(
      await call(server.url, "POST", "/v1/runs", {
        spec: demoSpec("Why?", { corpus: `sha256:${"a".repeat(64)}` }),
      }),
      404,
      "E_CORPUS_PATH",
    );
    expectProblem(
      await call(server.url, "POST", "/v1/runs", { item_id: `item_${"0".repeat(32)}` }),
      404,
      "E_ITEM_NOT_FOUND",
    );
  });

  it("a sha256: snapshot already in the store is a corpus", async () => {
    const manifest = (await call(server.url, "GET", `/v1/runs/${runId}/trace`)).text;
    const snapshot = /"corpus_snapshot":"([0-9a-f]{64})"/.exec(manifest)?.[1];
    expect(snapshot).toBeDefined();
    const r = await call(server.url, "POST", "/v1/runs", {
      spec: demoSpec(undefined, { corpus: `sha256:${snapshot}` }),
    });
    expect(r.status).toBe(200);
    expect(r.json().run_id).toBe(runId);
  });

  it("GET /v1/runs and /v1/runs/{id}", async () => {
    const list = await call(server.url, "GET", "/v1/runs?limit=5");
    expect(list.status).toBe(200);
    expect(list.json().runs.map((r: { run_id: string }) => r.run_id)).toEqual([runId]);
    const one = await call(server.url, "GET", `/v1/runs/${runId}`);
    expect(one.status).toBe(200);
    expect(one.json()).toMatchObject({ run_id: runId, recorded_verdict: "pass", status: "answered" });
    expectProblem(await call(server.url, "GET", `/v1/runs/${RUN_ABSENT}`), 404, "E_RUN_NOT_FOUND");
    expectProblem(await call(server.url, "GET", "/v1/runs/run_v1_XYZ"), 400, "E_HTTP_VALIDATION");
  });

  it("trace, manifest, answer and evidence are the exact bytes", async () => {
    const trace = await call(server.url, "GET", `/v1/runs/${runId}/trace`);
    expect(trace.status).toBe(200);
    expect(trace.type).toMatch(/^application\/x-ndjson/);
    expect(trace.text.endsWith("\n")).toBe(true);
    const manifest = await call(server.url, "GET", `/v1/runs/${runId}/manifest`);
    expect(manifest.json().run_id).toBe(runId);
    const answer = await call(server.url, "GET", `/v1/runs/${runId}/answer`);
    expect(answer.json().run_id).toBe(runId);
    const files: string[] = (await call(server.url, "GET", `/v1/runs/${runId}`)).json().files;
    const hash =
      files.find((f) => f.startsWith("evidence/"))?.slice("evidence/".length, -".txt".length) ?? "";
    const evidence = await fetch(`${server.url}/v1/runs/${runId}/evidence/${hash}`);
    expect(evidence.status).toBe(200);
    const bytes = new Uint8Array(await evidence.arrayBuffer());
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(hash);
    expectProblem(
      await call(server.url, "GET", `/v1/runs/${runId}/evidence/${"f".repeat(64)}`),
      404,
      "E_HTTP_NOT_FOUND",
    );
    expectProblem(await call(server.url, "GET", `/v1/runs/${RUN_ABSENT}/trace`), 404, "E_RUN_NOT_FOUND");
  });

  it("verify and replay", async () => {
    const verify = await call(server.url, "POST", `/v1/runs/${runId}/verify`);
    expect(verify.status).toBe(200);
    expect(verify.json().passed).toBe(true);
    const strict = await call(server.url, "POST", `/v1/runs/${runId}/verify`, { policy: "strict" });
    expect(strict.status).toBe(200);
    const frozen = await call(server.url, "POST", `/v1/runs/${runId}/replay`);
    expect(frozen.json()).toMatchObject({ mode: "frozen", identical: true, divergence: null });
    const live = await call(server.url, "POST", `/v1/runs/${runId}/replay`, { live: true });
    expect(live.json()).toMatchObject({ mode: "live", identical: true });
    expectProblem(
      await call(server.url, "POST", `/v1/runs/${runId}/replay`, { live: "yes" }),
      400,
      "E_HTTP_VALIDATION",
    );
    expectProblem(await call(server.url, "POST", `/v1/runs/${RUN_ABSENT}/verify`), 404, "E_RUN_NOT_FOUND");
  });

  it("items: create, read, version, run from, list, delete", async () => {
    const created = await call(server.url, "POST", "/v1/items", { name: "tides", spec: demoSpec() });
    expect(created.status).toBe(201);
    const item = created.json();
    expect(item.version).toBe(1);
    const updated = await call(server.url, "PUT", `/v1/items/${item.id}`, {
      name: "tides",
      spec: demoSpec("What is photosynthesis?"),
    });
    expect(updated.json().version).toBe(2);
    expect((await call(server.url, "GET", `/v1/items/${item.id}`)).json().spec.description).toBe(
      "What is photosynthesis?",
    );
    const fromOld = await call(server.url, "POST", "/v1/runs", { item_id: item.id, item_version: 1 });
    expect(fromOld.json().run_id).toBe(runId);
    const fromNew = await call(server.url, "POST", "/v1/runs", { item_id: item.id });
    expect(fromNew.status).toBe(201);
    const entry = (await call(server.url, "GET", `/v1/runs/${fromNew.json().run_id}`)).json();
    expect(entry).toMatchObject({ item_id: item.id, item_version: 2 });
    expect((await call(server.url, "GET", "/v1/items")).json().items).toHaveLength(1);
    expect((await call(server.url, "DELETE", `/v1/items/${item.id}`)).status).toBe(204);
    expectProblem(await call(server.url, "GET", `/v1/items/${item.id}`), 404, "E_ITEM_NOT_FOUND");
    expectProblem(await call(server.url, "DELETE", `/v1/items/${item.id}`), 404, "E_ITEM_NOT_FOUND");
    expectProblem(
      await call(server.url, "PUT", `/v1/items/${item.id}`, { name: "x", spec: demoSpec() }),
      404,
      "E_ITEM_NOT_FOUND",
    );
    expectProblem(await call(server.url, "GET", "/v1/items/item_nope"), 400, "E_HTTP_VALIDATION");
    expectProblem(
      await call(server.url, "POST", "/v1/items", { name: "", spec: demoSpec() }),
      400,
      "E_HTTP_VALIDATION",
    );
  });

  it("unknown routes are problem+json 404", async () => {
    expectProblem(await call(server.url, "GET", "/v2/nothing"), 404, "E_HTTP_NOT_FOUND");
  });
});

describe("a damaged run", () => {
  it("verify answers 200 with passed: false; replay of an unreadable trace is a 409 verdict, never a 500", async () => {
    const { appendFileSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const created = await call(server.url, "POST", "/v1/runs", {
      spec: demoSpec("What is photosynthesis?"),
      seed: 7,
    });
    const id = created.json().run_id as string;
    const dir = join(server.root, "runs", id);
    appendFileSync(join(dir, "answer.json"), " ");
    const verify = await call(server.url, "POST", `/v1/runs/${id}/verify`);
    expect(verify.status).toBe(200);
    expect(verify.json().passed).toBe(false);
    expect(verify.json().report.verdict).toBe("fail");
    writeFileSync(join(dir, "trace.jsonl"), "not json\n");
    const replay = await call(server.url, "POST", `/v1/runs/${id}/replay`);
    expectProblem(replay, 409, "E_NOT_A_RUN");
  });
});

describe("the service and the CLI agree", () => {
  it("the same spec gives the CLI's run id, and a warm request reuses the loaded index", async () => {
    const { runCli } = await import("../helpers/cli.js");
    const { tempDir } = await import("../helpers/tmp.js");
    const { join } = await import("node:path");
    const { DEMO_ROOT } = await import("../helpers/http.js");
    const cli = runCli([
      "run",
      "What causes tides?",
      "--corpus",
      join(DEMO_ROOT, "corpus"),
      "--artifacts-dir",
      tempDir(),
      "--json",
    ]);
    expect(cli.status, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout).run_id).toBe(runId);

    const fresh = await startServer();
    try {
      const first = await call(fresh.url, "POST", "/v1/runs", { spec: demoSpec("How do vaccines work?") });
      const second = await call(fresh.url, "POST", "/v1/runs", { spec: demoSpec("What is photosynthesis?") });
      expect([first.status, second.status]).toEqual([201, 201]);
      const health = (await call(fresh.url, "GET", "/health")).json();
      expect(health.retrieval_cache).toMatchObject({ hits: 1, misses: 1 });
    } finally {
      await fresh.close();
    }
  });
});

describe("corpus upload", () => {
  const jsonl = [
    { doc_id: "moon", text: "Tides are caused mainly by the gravitational pull of the Moon on the oceans." },
    { doc_id: "sun", text: "The Sun also pulls on the oceans, which makes spring tides higher." },
  ]
    .map((d) => JSON.stringify(d))
    .join("\n");
  const ndjson = { "content-type": "application/x-ndjson" };

  it("POST /v1/corpora snapshots a JSONL body; runs can name it by hash", async () => {
    const up = await call(server.url, "POST", "/v1/corpora", jsonl, ndjson);
    expect(up.status, up.text).toBe(201);
    const { corpus, documents } = up.json();
    expect(corpus).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(documents).toBe(2);
    const run = await call(server.url, "POST", "/v1/runs", {
      spec: demoSpec("What causes tides?", { corpus }),
    });
    expect(run.status).toBe(201);
    const verified = await call(server.url, "POST", `/v1/runs/${run.json().run_id}/verify`);
    expect(verified.json().passed).toBe(true);
  });

  it("refuses JSON bodies there, JSONL elsewhere, and bad lines", async () => {
    expectProblem(await call(server.url, "POST", "/v1/corpora", { doc_id: "x" }), 415, "E_HTTP_MEDIA_TYPE");
    expectProblem(await call(server.url, "POST", "/v1/runs", jsonl, ndjson), 415, "E_HTTP_MEDIA_TYPE");
    expectProblem(await call(server.url, "POST", "/v1/corpora", "{not json\n", ndjson), 400, "E_CORPUS_LINE");
    expectProblem(await call(server.url, "POST", "/v1/corpora", "\n", ndjson), 400, "E_CORPUS_EMPTY");
  });
});
