/**
 * Issue 21, the service section, one named test per item (items 1–2: body-encoding.test.ts;
 * 3: index-builds.test.ts and test/cli/gc.test.ts; 5: metrics.test.ts). Every response here is
 * also held to the served OpenAPI document by the `call` helper (item 8's contract check).
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearerOf, isLoopbackHost, openServerWarning } from "../../src/app/ops/bearer-token.js";
import { uploadsRoot } from "../../src/io/store/debris.js";
import type { Registry } from "../../src/registry/run-registry.js";
import { SqliteRegistry } from "../../src/registry/sqlite.js";
import { CLI, REPO } from "../helpers/cli.js";
import { checked, contractOf, violationOf } from "../helpers/contract.js";
import { call, demoSpec, type Reply, startServer, type TestServer } from "../helpers/http.js";
import { tempDir, writeFiles } from "../helpers/tmp.js";

const TOKEN = "hardening-token-for-tests-0123456789";
let open: TestServer;
let guarded: TestServer;
let corpusRoot: string;

const expectProblem = (r: Reply, status: number, code: string) => {
  expect(r.status, r.text).toBe(status);
  expect(r.type).toMatch(/^application\/problem\+json/);
  expect(r.json().code).toBe(code);
};

beforeAll(async () => {
  corpusRoot = tempDir("canon-hardening-roots-");
  writeFiles(corpusRoot, {
    "good/a.md": "# Tides\n\nTides are caused by the gravity of the Moon and the Sun.\n",
    "bad.jsonl": '{"doc_id":"a","text":"fine"}\n{"doc_id":"b"}\n',
  });
  open = await startServer({ corpusRoots: [corpusRoot], uploadLimit: 64 * 1024, maxUploads: 1 });
  guarded = await startServer({ token: TOKEN });
});
afterAll(async () => {
  await open.close();
  await guarded.close();
});

/** A raw HTTP exchange on a fresh connection: what a fuzzer sends, what comes back. */
function raw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      data += d;
    });
    socket.on("close", () => resolve(data));
    socket.on("error", reject);
  });
}

describe("item 4: uploads are streamed to disk, bounded, limited in number, and swept", () => {
  it("item 4: an upload over the limit is 413 on the bytes read (no Content-Length), and leaves no staging folder", async () => {
    const line = `${JSON.stringify({ doc_id: "x", text: "t".repeat(1000) })}\n`;
    const big = line.repeat(100); // ~100 KB > 64 KiB
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const response = await fetch(`${open.url}/v1/corpora`, {
      method: "POST",
      body: stream,
      headers: { "content-type": "application/x-ndjson" },
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { code: string }).code).toBe("E_HTTP_BODY_TOO_LARGE");
    const declared = await call(open.url, "POST", "/v1/corpora", big, {
      "content-type": "application/x-ndjson",
    });
    expectProblem(declared, 413, "E_HTTP_BODY_TOO_LARGE");
    expect(readdirSync(uploadsRoot(open.root))).toEqual([]);
  });

  it("item 4: uploads are staged inside the artifacts dir, not the OS temp dir, and removed after", async () => {
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith("canon-upload-")).length;
    const r = await call(open.url, "POST", "/v1/corpora", '{"doc_id":"a","text":"Tides and the Moon."}\n', {
      "content-type": "application/x-ndjson",
    });
    expect(r.status).toBe(201);
    expect(r.json().documents).toBe(1);
    // The same bytes again: the cached snapshot, still counted.
    const again = await call(
      open.url,
      "POST",
      "/v1/corpora",
      '{"doc_id":"a","text":"Tides and the Moon."}\n',
      {
        "content-type": "application/x-ndjson",
      },
    );
    expect(again.json()).toEqual(r.json());
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith("canon-upload-")).length).toBe(before);
    expect(existsSync(uploadsRoot(open.root))).toBe(true);
    expect(readdirSync(uploadsRoot(open.root))).toEqual([]);
  });

  it("item 4: beyond --max-uploads at once, an upload is 503 with Retry-After; the slot frees when the first ends", async () => {
    const { hostname, port } = new URL(open.url);
    // The first upload starts and stalls (chunked, never finished yet).
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(
      "POST /v1/corpora HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    const first = '{"doc_id":"a","text":"Slow upload about tides."}\n';
    socket.write(`${Buffer.byteLength(first).toString(16)}\r\n${first}\r\n`);
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      answer += d;
    });
    // Wait until the server has staged it.
    for (let i = 0; i < 100 && readdirSync(uploadsRoot(open.root)).length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(uploadsRoot(open.root)).length).toBe(1);
    const second = await call(open.url, "POST", "/v1/corpora", '{"doc_id":"b","text":"x"}\n', {
      "content-type": "application/x-ndjson",
    });
    expectProblem(second, 503, "E_HTTP_BUSY");
    expect(second.headers.get("retry-after")).toBe("1");
    socket.write("0\r\n\r\n");
    for (let i = 0; i < 200 && !answer.includes("\r\n\r\n"); i++) await new Promise((r) => setTimeout(r, 20));
    socket.destroy();
    expect(answer).toMatch(/^HTTP\/1\.1 201/);
    const third = await call(open.url, "POST", "/v1/corpora", '{"doc_id":"b","text":"x"}\n', {
      "content-type": "application/x-ndjson",
    });
    expect(third.status).toBe(201);
    expect(readdirSync(uploadsRoot(open.root))).toEqual([]);
  });

  it("item 4: a SIGKILL mid-upload leaves a staging folder that the next start removes", async () => {
    const root = tempDir("canon-upload-kill-");
    const start = () => {
      const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--artifacts-dir", root], {
        cwd: REPO,
        stdio: "pipe",
      });
      let out = "";
      child.stdout.setEncoding("utf8");
      const url = new Promise<string>((resolve) => {
        child.stdout.on("data", (d: string) => {
          out += d;
          const found = /"url":"(http:\/\/127\.0\.0\.1:[0-9]+)"/.exec(out)?.[1];
          if (found !== undefined) resolve(found);
        });
      });
      return { child, url };
    };
    const first = start();
    const { hostname, port } = new URL(await first.url);
    const socket = connect(Number(port), hostname);
    socket.on("error", () => {});
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(
      "POST /v1/corpora HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nContent-Length: 1000000\r\n\r\n",
    );
    socket.write('{"doc_id":"a","text":"half an upload');
    for (
      let i = 0;
      i < 200 && (!existsSync(uploadsRoot(root)) || readdirSync(uploadsRoot(root)).length === 0);
      i++
    )
      await new Promise((r) => setTimeout(r, 20));
    const staged = readdirSync(uploadsRoot(root));
    expect(staged).toHaveLength(1);
    expect(staged[0]).toMatch(/^\.tmp-upload-\d+-[0-9a-f]{8}$/);
    await new Promise<void>((resolve) => {
      first.child.once("exit", () => resolve());
      first.child.kill("SIGKILL");
    });
    socket.destroy();
    expect(readdirSync(uploadsRoot(root))).toEqual(staged);
    const second = start();
    await second.url;
    expect(readdirSync(uploadsRoot(root))).toEqual([]);
    await new Promise<void>((resolve) => {
      second.child.once("exit", () => resolve());
      second.child.kill("SIGTERM");
    });
  });

  it("item 4: a charset other than UTF-8 on an upload is 415", async () => {
    const r = await call(open.url, "POST", "/v1/corpora", '{"doc_id":"a","text":"x"}\n', {
      "content-type": "application/x-ndjson; charset=utf-16",
    });
    expectProblem(r, 415, "E_HTTP_MEDIA_TYPE");
  });
});

describe("item 6: /health is liveness, /ready is readiness", () => {
  it("item 6: /ready is 200 when the registry answers, 503 naming what does not, while /health stays 200", async () => {
    expect((await call(open.url, "GET", "/ready")).json()).toEqual({
      status: "ready",
      checks: { registry: { ok: true } },
    });
    const root = tempDir("canon-ready-");
    const real = new SqliteRegistry(root);
    const down = Object.assign(Object.create(real) as Registry, {
      listRuns: () => Promise.reject(Object.assign(new Error("gone"), { code: "E_REGISTRY_UNAVAILABLE" })),
    });
    const queueDown = {
      jobs: { queue: { getJobCounts: () => Promise.reject(new Error("ECONNREFUSED 10.0.0.1:6379")) } },
      registry: real,
    } as never;
    const server = await startServer({ artifactsRoot: root, registry: down, queue: queueDown, token: TOKEN });
    try {
      const ready = await call(server.url, "GET", "/ready");
      expect(ready.status).toBe(503);
      expect(ready.json()).toEqual({
        status: "unavailable",
        checks: {
          registry: { ok: false, error: "E_REGISTRY_UNAVAILABLE" },
          queue: { ok: false, error: "unavailable" },
        },
      });
      // No host or address of a dependency reaches a client.
      expect(ready.text).not.toContain("10.0.0.1");
      // Both are public, like /openapi.json: a probe carries no token.
      expect((await call(server.url, "GET", "/health")).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe("item 7: bearer authentication details", () => {
  it("item 7: a 401 carries WWW-Authenticate: Bearer; the scheme is case-insensitive, the token is not", async () => {
    const missing = await call(guarded.url, "GET", "/v1/runs");
    expectProblem(missing, 401, "E_HTTP_UNAUTHORIZED");
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
    for (const scheme of ["Bearer", "bearer", "BEARER", "bEaReR"])
      expect(
        (await call(guarded.url, "GET", "/v1/runs", undefined, { authorization: `${scheme} ${TOKEN}` }))
          .status,
      ).toBe(200);
    const wrongCase = await call(guarded.url, "GET", "/v1/runs", undefined, {
      authorization: `Bearer ${TOKEN.toUpperCase()}`,
    });
    expectProblem(wrongCase, 401, "E_HTTP_UNAUTHORIZED");
    expect(wrongCase.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
    expect(bearerOf(`Basic ${TOKEN}`)).toBeNull();
    expect(bearerOf(`bearer  ${TOKEN}`)).toBe(TOKEN);
  });

  it("item 7: no token beyond loopback is a loud warning (decided: warn, not refuse); loopback stays quiet", async () => {
    expect(isLoopbackHost("127.0.0.1")).toBe(true);
    expect(isLoopbackHost("::1")).toBe(true);
    expect(isLoopbackHost("localhost")).toBe(true);
    expect(isLoopbackHost("0.0.0.0")).toBe(false);
    expect(openServerWarning("127.0.0.1", undefined)).toBeNull();
    expect(openServerWarning("0.0.0.0", TOKEN)).toBeNull();
    expect(openServerWarning("0.0.0.0", undefined)).toMatch(/^WARNING: .*no CANON_REASON_TOKEN/);
    // The real thing: CANON_REASON_TOKEN= (empty) on 0.0.0.0 says so on stderr and in the log.
    const child = spawn(
      process.execPath,
      [CLI, "serve", "--host", "0.0.0.0", "--port", "0", "--artifacts-dir", tempDir("canon-open-")],
      { cwd: REPO, stdio: "pipe", env: { ...process.env, CANON_REASON_TOKEN: "" } },
    );
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => {
      err += d;
    });
    await new Promise<void>((resolve) => {
      child.stdout.on("data", (d: string) => {
        out += d;
        if (out.includes('"level":40')) resolve();
      });
    });
    const code = await new Promise<number | null>((resolve) => {
      child.once("exit", (c) => resolve(c));
      child.kill("SIGTERM");
    });
    expect(code).toBe(0);
    expect(err).toMatch(/WARNING: listening on 0\.0\.0\.0 with no CANON_REASON_TOKEN/);
    const warned = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((l) => l.level === 40);
    expect(warned).toMatchObject({ authentication: "none", host: "0.0.0.0" });
  });
});

describe("item 8: the HTTP contract", () => {
  it("item 8: a wrong method on a known path is 405 with Allow; an unknown path stays 404", async () => {
    const cases: Array<[string, string, string]> = [
      ["PATCH", "/v1/runs", "GET, HEAD, POST"],
      ["DELETE", `/v1/runs/run_v1_${"0".repeat(64)}`, "GET, HEAD"],
      ["POST", `/v1/items/item_${"0".repeat(32)}`, "DELETE, GET, HEAD, PUT"],
      ["GET", `/v1/runs/run_v1_${"0".repeat(64)}/verify`, "POST"],
      ["PUT", "/health", "GET, HEAD"],
    ];
    for (const [method, path, allow] of cases) {
      const r = await call(open.url, method, path);
      expectProblem(r, 405, "E_HTTP_METHOD_NOT_ALLOWED");
      expect(r.headers.get("allow"), `${method} ${path}`).toBe(allow);
    }
    expectProblem(await call(open.url, "GET", "/v1/nothing"), 404, "E_HTTP_NOT_FOUND");
  });

  it("item 8: malformed HTTP framing is answered as problem+json", async () => {
    for (const request of [
      "GARBAGE\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "POST /v1/runs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    ]) {
      const answer = await raw(open.url, request);
      const [head = "", body = ""] = answer.split("\r\n\r\n");
      expect(head, request.slice(0, 40)).toMatch(/^HTTP\/1\.1 4(00|31) /);
      expect(head.toLowerCase()).toContain("content-type: application/problem+json");
      expect(JSON.parse(body).type).toMatch(/^urn:canon-reason:problem:E_HTTP_/);
    }
  });

  it("item 8: the document declares DELETE 204, public /health /ready /openapi.json, the upload body, optional verify/replay bodies", async () => {
    const doc = (await call(open.url, "GET", "/openapi.json")).json();
    expect(Object.keys(doc.paths["/v1/items/{id}"].delete.responses)).toContain("204");
    for (const path of ["/health", "/ready", "/openapi.json"])
      expect(doc.paths[path].get.security).toEqual([]);
    expect(doc.paths["/v1/runs"].post.security).toBeUndefined();
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(doc.paths["/v1/corpora"].post.requestBody.content).sort()).toEqual([
      "application/jsonl",
      "application/x-ndjson",
    ]);
    expect(doc.paths["/v1/runs/{id}/verify"].post.requestBody.required).toBe(false);
    expect(doc.paths["/v1/runs/{id}/replay"].post.requestBody.required).toBe(false);
    // And the server agrees: DELETE answers 204 with no body, verify without a body is 200.
    const item = (await call(open.url, "POST", "/v1/items", { name: "x", spec: demoSpec() })).json();
    const deleted = await call(open.url, "DELETE", `/v1/items/${item.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");
  });

  it("item 8: the contract check itself catches drift (an undeclared status, media type or field)", async () => {
    const doc = (await call(open.url, "GET", "/openapi.json")).json();
    const contract = contractOf(doc);
    const json = "application/json; charset=utf-8";
    expect(violationOf(contract, "GET", "/health", 201, json, "{}")).toMatch(/status not declared/);
    expect(violationOf(contract, "GET", "/health", 200, "text/html", "<p>")).toMatch(/media type/);
    expect(violationOf(contract, "GET", "/health", 200, json, '{"status":"ok"}')).toMatch(
      /must have required/,
    );
    expect(violationOf(contract, "DELETE", "/v1/items/x", 200, json, "{}")).toMatch(/status not declared/);
    expect(violationOf(contract, "GET", "/v1/nothing", 404, "application/json", "{}")).toMatch(
      /problem\+json/,
    );
    expect(
      violationOf(
        contract,
        "GET",
        "/v1/runs",
        400,
        json,
        '{"type":"x","title":"x","status":400,"detail":"x","code":"x"}',
      ),
    ).toMatch(/media type/);
    expect(checked.count).toBeGreaterThan(10);
  });
});

describe("item 9: no absolute server path in an error", () => {
  it("item 9: a bad corpus file under a corpus root is named relative to the root", async () => {
    const r = await call(open.url, "POST", "/v1/runs", { spec: demoSpec("Why?", { corpus: "bad.jsonl" }) });
    expect(r.status).toBe(400);
    const body = r.json();
    expect(body.file).toBe("bad.jsonl");
    expect(body.line).toBe(2);
    for (const secret of [corpusRoot, open.root, tmpdir()]) expect(r.text).not.toContain(secret);
    expect(r.text).not.toMatch(/"\/(tmp|home|root|var|work)\//);
  });

  it("item 9: a bad upload is named as the upload, never by its staging path", async () => {
    const r = await call(open.url, "POST", "/v1/corpora", '{"doc_id":"a","text":"x"}\n{"doc_id":"b"}\n', {
      "content-type": "application/x-ndjson",
    });
    expect(r.status).toBe(400);
    expect(r.json()).toMatchObject({ file: "upload.jsonl", line: 2 });
    expect(r.text).not.toContain(open.root);
    expect(r.text).not.toContain(".tmp-upload-");
  });
});

describe("item 10: item provenance of a run equal to an earlier one", () => {
  it("item 10: an item run equal to an earlier ad-hoc run keeps the same id and records the item version", async () => {
    const spec = demoSpec("What causes tides?", { corpus: "good" });
    const adHoc = await call(open.url, "POST", "/v1/runs", { spec });
    expect(adHoc.status).toBe(201);
    const runId = adHoc.json().run_id;
    const item = (await call(open.url, "POST", "/v1/items", { name: "tides", spec })).json();
    const fromItem = await call(open.url, "POST", "/v1/runs", { item_id: item.id });
    expect(fromItem.status).toBe(200);
    expect(fromItem.json()).toMatchObject({ run_id: runId, created: false });
    await call(open.url, "PUT", `/v1/items/${item.id}`, { name: "tides v2", spec });
    expect((await call(open.url, "POST", "/v1/runs", { item_id: item.id })).json().run_id).toBe(runId);
    const read = (await call(open.url, "GET", `/v1/runs/${runId}`)).json();
    // First created ad hoc, and produced by item versions 1 and 2 since.
    expect(read.item_id).toBeNull();
    expect(
      read.items.map((s: { item_id: string; item_version: number }) => [s.item_id, s.item_version]),
    ).toEqual([
      [item.id, 1],
      [item.id, 2],
    ]);
  });
});
