/**
 * The service's observability surfaces over a real loopback port: GET /metrics in Prometheus
 * text format counting the runs it makes, guarded by the token when one is set; a SERVER span
 * per request that is the parent of the run it makes (and follows the caller's traceparent);
 * and the request log line carrying trace_id, span_id and run_id.
 */
import { Writable } from "node:stream";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RUN_SPAN } from "../../src/app/ops/telemetry.js";
import { call, demoSpec, startServer, type TestServer } from "../helpers/http.js";
import { idOf, parentOf, parsePrometheus, sampleValue, startTracing } from "../helpers/otel.js";

const TOKEN = "metrics-token-for-tests-0123456789";
const tracing = startTracing();
const logged: Array<Record<string, unknown>> = [];
const stream = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split("\n")) if (line.trim() !== "") logged.push(JSON.parse(line));
    done();
  },
});
let server: TestServer;
let guarded: TestServer;
beforeAll(async () => {
  server = await startServer({ logger: { level: "info", stream } });
  guarded = await startServer({ token: TOKEN });
});
afterAll(async () => {
  await server.close();
  await guarded.close();
  await tracing.stop();
});
beforeEach(() => tracing.reset());

const scrape = async (target = server, headers: Record<string, string> = {}) => {
  const r = await call(target.url, "GET", "/metrics", undefined, headers);
  expect(r.status).toBe(200);
  expect(r.type).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheus(r.text);
};

describe("GET /metrics", () => {
  it("is Prometheus text and counts a run by outcome, with its duration", async () => {
    const before = await scrape();
    expect(sampleValue(before, "canon_reason_runs_total", { outcome: "answered" }) ?? 0).toBe(0);
    expect(sampleValue(before, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    const r = await call(server.url, "POST", "/v1/runs", {
      spec: demoSpec("How is a trick won in contract bridge?"),
    });
    expect(r.status).toBe(201);
    const after = await scrape();
    expect(sampleValue(after, "canon_reason_runs_total", { outcome: "answered" })).toBe(1);
    expect(sampleValue(after, "canon_reason_run_duration_seconds_count", { outcome: "answered" })).toBe(1);
    expect(
      sampleValue(after, "canon_reason_run_duration_seconds_bucket", { outcome: "answered", le: "+Inf" }),
    ).toBe(1);
    // No queue: no queue gauge.
    expect(after.some((s) => s.name === "canon_reason_queue_jobs")).toBe(false);
  });

  it("issue 21 item 5: a client error is counted by its code as rejected, never as internal or failed", async () => {
    const before = await scrape();
    const rejected = [
      await call(server.url, "POST", "/v1/runs", {
        spec: demoSpec("What causes tides?", { corpus: "no-such-corpus" }),
      }),
      // 400 E_HTTP_VALIDATION (a typo), 415 (a media type), 400 E_ENCODING (bytes).
      await call(server.url, "POST", "/v1/runs", { spec: { version: "1", descripton: "typo" } }),
      await call(server.url, "POST", "/v1/runs", "spec=1", {
        "content-type": "application/x-www-form-urlencoded",
      }),
      await call(server.url, "POST", "/v1/runs", { spec: demoSpec("\ud800") }),
    ];
    const codes = rejected.map((r) => r.json().code);
    expect(codes).toEqual(["E_CORPUS_PATH", "E_HTTP_VALIDATION", "E_HTTP_MEDIA_TYPE", "E_ENCODING"]);
    const samples = await scrape();
    const delta = (name: string, labels: Record<string, string>) =>
      (sampleValue(samples, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
    expect(delta("canon_reason_runs_total", { outcome: "rejected" })).toBe(4);
    expect(delta("canon_reason_runs_total", { outcome: "failed" })).toBe(0);
    expect(delta("canon_reason_run_failures_total", { code: "internal" })).toBe(0);
    for (const code of codes) expect(delta("canon_reason_run_failures_total", { code }), code).toBe(1);
  });

  it("hostile requests: another method is refused, a query string is ignored, nothing else matches", async () => {
    for (const method of ["POST", "PUT", "DELETE"]) {
      const r = await call(server.url, method, "/metrics", method === "DELETE" ? undefined : {});
      // Issue 21 item 8: a known path with another method is 405 naming the allowed ones.
      expect(r.status, method).toBe(405);
      expect(r.headers.get("allow")).toBe("GET, HEAD");
      expect(r.type).toContain("application/problem+json");
    }
    const withQuery = await call(server.url, "GET", "/metrics?name[]=x&%ff=%00");
    expect(withQuery.status).toBe(200);
    expect(() => parsePrometheus(withQuery.text)).not.toThrow();
    expect((await call(server.url, "GET", "/metrics/../metrics/x")).status).toBe(404);
    expect((await call(server.url, "GET", "/metricsx")).status).toBe(404);
  });

  it("with a token set, a scrape needs it (Authorization: Bearer), unlike /health", async () => {
    expect((await call(guarded.url, "GET", "/metrics")).status).toBe(401);
    expect(
      (await call(guarded.url, "GET", "/metrics", undefined, { authorization: "Bearer wrong-token-000000" }))
        .status,
    ).toBe(401);
    expect((await call(guarded.url, "GET", `/metrics?token=${TOKEN}`)).status).toBe(401);
    await scrape(guarded, { authorization: `Bearer ${TOKEN}` });
    expect((await call(guarded.url, "GET", "/health")).status).toBe(200);
  });
});

describe("request spans and the request log", () => {
  it("a request's SERVER span is the run span's parent and follows the caller's traceparent; the log line names all three ids", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const callerSpan = "00f067aa0ba902b7";
    logged.length = 0;
    const r = await call(
      server.url,
      "POST",
      "/v1/runs",
      { spec: demoSpec("How is a trick won in contract bridge?"), seed: 7 },
      { traceparent: `00-${traceId}-${callerSpan}-01` },
    );
    expect(r.status).toBe(201);
    const runId = r.json().run_id;
    const spans = tracing.spans();
    const request = spans.find((s) => s.name === "POST /v1/runs");
    const run = spans.find((s) => s.name === RUN_SPAN);
    expect(request?.spanContext().traceId).toBe(traceId);
    expect(request && parentOf(request)).toBe(callerSpan);
    expect(request?.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/v1/runs",
      "http.response.status_code": 201,
      "canon_reason.run.id": runId,
    });
    expect(run && parentOf(run)).toBe(request && idOf(request));
    const line = logged.find((l) => l.msg === "request" && l.url === "/v1/runs");
    expect(line).toMatchObject({
      trace_id: traceId,
      span_id: request && idOf(request),
      run_id: runId,
      status: 201,
    });
  });

  it("a refused or unknown request still has its span and trace ids in the log", async () => {
    logged.length = 0;
    const r = await call(server.url, "GET", "/nowhere");
    expect(r.status).toBe(404);
    const span = tracing.spans().find((s) => s.name === "GET");
    expect(span?.attributes["http.response.status_code"]).toBe(404);
    const line = logged.find((l) => l.msg === "request" && l.url === "/nowhere");
    expect(line?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(line?.run_id).toBeUndefined();
  });
});
