/**
 * POST /v1/runs with the llm reasoner: the operator names the model endpoint (modelBaseUrl,
 * `serve --model-base-url`); a request may choose the reasoner, model and temperature, but
 * never a base_url (the server's key would go to whatever host it names). A failing endpoint
 * is a 502 problem, and nothing is published.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type ChatServer, chatServer, fail, passage, reply } from "../helpers/chat-server.js";
import { isCleanError, runCli } from "../helpers/cli.js";
import { call, demoSpec, startServer, type TestServer } from "../helpers/http.js";
import { tempDir } from "../helpers/tmp.js";

const QUESTION = "How is a trick won in contract bridge?";
const RULE = "a trick is won by the highest card of the suit that was led";
const model = reply((request) => {
  const n = [1, 2, 3, 4, 5].find((i) => passage(request, i).includes(RULE)) ?? 1;
  return JSON.stringify({
    claims: [{ statement: "Highest card wins.", citations: [{ evidence: n, quote: RULE }] }],
  });
});

let endpoint: ChatServer | undefined;
let service: TestServer | undefined;
afterEach(async () => {
  await service?.close();
  await endpoint?.close();
  service = undefined;
  endpoint = undefined;
});

describe("POST /v1/runs, reasoner llm", () => {
  it("runs against the operator's endpoint; a request's base_url and wrong types are 400", async () => {
    endpoint = await chatServer([model]);
    service = await startServer({ modelBaseUrl: endpoint.baseUrl });
    const llm = { reasoner: "llm", model: "test-model" };
    const created = await call(service.url, "POST", "/v1/runs", { spec: demoSpec(QUESTION, llm) });
    expect(created.status).toBe(201);
    expect(created.json()).toMatchObject({ status: "answered", answer: "Highest card wins." });
    expect(endpoint.requests).toHaveLength(1);

    const named = await call(service.url, "POST", "/v1/runs", {
      spec: demoSpec(QUESTION, { ...llm, base_url: "http://169.254.169.254/v1" }),
    });
    expect(named.status).toBe(400);
    expect(named.text).toContain("base_url");
    for (const bad of [
      { reasoner: 1 },
      { ...llm, model: ["m"] },
      { ...llm, model: "" },
      { ...llm, temperature: "0" },
    ]) {
      const response = await call(service.url, "POST", "/v1/runs", { spec: demoSpec(QUESTION, bad) });
      expect(response.status, JSON.stringify(bad)).toBe(400);
    }
    const noModel = await call(service.url, "POST", "/v1/runs", {
      spec: demoSpec(QUESTION, { reasoner: "llm" }),
    });
    expect(noModel.status).toBe(400);
    expect(noModel.json().detail).toMatch(/needs a model/);
    expect(endpoint.requests).toHaveLength(1);
  });

  it("an endpoint that fails is 502 Bad Gateway, with nothing published", async () => {
    endpoint = await chatServer([fail(401)]);
    service = await startServer({ modelBaseUrl: endpoint.baseUrl });
    const response = await call(service.url, "POST", "/v1/runs", {
      spec: demoSpec(QUESTION, { reasoner: "llm", model: "test-model" }),
    });
    expect(response.status).toBe(502);
    expect(response.json().code).toBe("E_MODEL_ENDPOINT");
    const list = await call(service.url, "GET", "/v1/runs");
    expect(list.json().runs).toEqual([]);
  });

  it("serve refuses a --model-base-url that is not an http(s) base URL (exit 2, before binding)", () => {
    for (const url of ["not a url", "file:///etc/passwd", "http://127.0.0.1:1/v1?x=1"]) {
      const result = runCli(["serve", "--port", "0", "--artifacts-dir", tempDir(), "--model-base-url", url], {
        timeoutMs: 30_000,
      });
      expect(result.status, url).toBe(2);
      expect(result.stderr).toMatch(/field "--model-base-url": must be an http:\/\/ or https:\/\/ URL/);
      expect(isCleanError(result)).toBe(true);
    }
  });
});
