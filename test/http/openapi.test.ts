/**
 * The OpenAPI document is generated from the zod schemas the server validates with, and pinned
 * in docs/openapi.json: this fails when the served document drifts from the pinned one
 * (regenerate with `npm run openapi` and review the diff).
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiText } from "../../src/http/openapi.js";
import { call, startServer, type TestServer } from "../helpers/http.js";

const PINNED = new URL("../../docs/openapi.json", import.meta.url);
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

describe("OpenAPI", () => {
  it("the served document is the pinned one, byte for byte", async () => {
    const served = await call(server.url, "GET", "/openapi.json");
    expect(served.status).toBe(200);
    expect(openApiText(served.json())).toBe(readFileSync(PINNED, "utf8"));
  });

  it("is OpenAPI 3.1 and describes every route with its request schema", async () => {
    const doc = (await call(server.url, "GET", "/openapi.json")).json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/health",
      "/metrics",
      "/openapi.json",
      "/ready",
      "/v1/corpora",
      "/v1/items",
      "/v1/items/{id}",
      "/v1/jobs/{id}",
      "/v1/runs",
      "/v1/runs/{id}",
      "/v1/runs/{id}/answer",
      "/v1/runs/{id}/evidence/{sha256}",
      "/v1/runs/{id}/manifest",
      "/v1/runs/{id}/replay",
      "/v1/runs/{id}/report",
      "/v1/runs/{id}/trace",
      "/v1/runs/{id}/verify",
    ]);
    const create = doc.paths["/v1/runs"].post.requestBody.content["application/json"].schema;
    expect(JSON.stringify(create)).toContain("top_k");
    // Every operation documents its errors as problem+json.
    for (const operations of Object.values(doc.paths) as Array<Record<string, { responses: object }>>)
      for (const op of Object.values(operations))
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["4XX", "5XX"]));
    expect(doc.components.schemas.Problem.properties.type.type).toBe("string");
  });
});
