/**
 * OpenTelemetry spans of a run, with a real SDK in memory: the run span, one child per plan
 * step, the gen_ai.retrieval span inside the gather step, the model call as a GenAI inference
 * span with the recorded token usage, and the attributes named in README "Scaling out". With
 * tracing on, the run id and every byte of the run are what they are with it off.
 */
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { telemetryRegistered } from "../../src/app/ops/otel-gate.js";
import { contextOfCarrier, RUN_SPAN, traceCarrier } from "../../src/app/ops/telemetry.js";
import { runJob } from "../../src/app/run/run-job.js";
import type { ProblemSpec } from "../../src/core/models/spec.js";
import { chatServer, completion, passage } from "../helpers/chat-server.js";
import { DEMO_CORPUS } from "../helpers/cli.js";
import { idOf, parentOf, startTracing } from "../helpers/otel.js";
import { tempDir, writeFiles } from "../helpers/tmp.js";

const demo: ProblemSpec = {
  version: "1",
  description: "How is a trick won in contract bridge?",
  constraints: { corpus: DEMO_CORPUS },
};
const runDemo = () => runJob({ spec: demo, preset: "default", seed: 0, artifactsRoot: tempDir() });

// Before any SDK is registered: the API is a no-op, and this is the run as it is without tracing.
const untraced = await runDemo();
const tracing = startTracing();
afterAll(() => tracing.stop());
beforeEach(() => tracing.reset());

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const one = (spans: ReadableSpan[], name: string) => {
  const found = named(spans, name);
  expect(found, name).toHaveLength(1);
  return found[0] as ReadableSpan;
};

describe("spans of a run", () => {
  it("the wiring loads once an SDK is registered (the gate runJob and the model call consult)", () => {
    expect(telemetryRegistered()).toBe(true);
  });

  it("an extractive demo run: a run span, a span per plan step under it, the retrieval inside gather", async () => {
    const result = await runDemo();
    const spans = tracing.spans();
    const run = one(spans, RUN_SPAN);
    expect(parentOf(run)).toBeUndefined();
    expect(run.kind).toBe(SpanKind.INTERNAL);
    const provenance = result.trace.events.flatMap((e) =>
      e.type === "tool_returned"
        ? [(e.result.payload as { provenance: Record<string, string> }).provenance]
        : [],
    )[0];
    expect(run.attributes).toMatchObject({
      "canon_reason.run.id": result.runId,
      "canon_reason.preset": "default",
      "canon_reason.seed": 0,
      "canon_reason.reasoner.id": "extractive",
      "canon_reason.answer.status": result.answer.status,
      "canon_reason.corpus.snapshot": provenance?.corpus_snapshot,
      "canon_reason.index.hash": provenance?.index_hash,
      "canon_reason.verification.verdict": "pass",
      "canon_reason.verification.checks": result.report.summary.checks,
      "canon_reason.verification.checks_passed": result.report.summary.passed,
      "canon_reason.verification.checks_failed": 0,
    });
    // Each citation: its document, byte span and sha256, in parallel arrays.
    const cites = result.trace.events.flatMap((e) =>
      e.type === "step_finished" && e.output.type === "derive" ? e.output.citations : [],
    );
    expect(cites.length).toBeGreaterThan(0);
    expect(run.attributes["canon_reason.citation.sha256"]).toEqual(cites.map((c) => c.sha256));
    expect(run.attributes["canon_reason.citation.span_starts"]).toEqual(cites.map((c) => c.span[0]));
    expect(run.attributes["canon_reason.citation.span_ends"]).toEqual(cites.map((c) => c.span[1]));
    const docs = run.attributes["canon_reason.citation.documents"] as string[];
    expect(docs.length).toBe(cites.length);
    expect(docs.every((d) => d.endsWith(".md"))).toBe(true);

    // One step span per plan step, in plan order, all children of the run span.
    const started = result.trace.events.filter((e) => e.type === "step_started");
    const steps = spans
      .filter((s) => s.name.startsWith("canon_reason.step "))
      .sort((a, b) => (a.startTime[0] - b.startTime[0]) * 1e9 + (a.startTime[1] - b.startTime[1]));
    expect(steps.map((s) => s.attributes["canon_reason.step.node_id"])).toEqual(
      started.map((e) => e.node_id),
    );
    expect(steps.map((s) => s.name)).toEqual(started.map((e) => `canon_reason.step ${e.kind}`));
    for (const step of steps) expect(parentOf(step)).toBe(idOf(run));
    expect(one(steps, "canon_reason.step finalize").attributes["canon_reason.answer.status"]).toBe(
      "answered",
    );

    // The gen_ai.retrieval span: name and operation "retrieval", the documents with their scores.
    const retrieval = one(spans, "retrieval");
    const gatherer = steps.find((s) => idOf(s) === parentOf(retrieval));
    expect(gatherer).toBeDefined();
    const hits = result.trace.events.flatMap((e) =>
      e.type === "tool_returned"
        ? (e.result.payload as { hits: Array<{ doc_id: string; score: number }> }).hits
        : [],
    );
    expect(retrieval.attributes).toMatchObject({
      "gen_ai.operation.name": "retrieval",
      "gen_ai.data_source.id": `sha256:${provenance?.corpus_snapshot}`,
      "canon_reason.index.hash": provenance?.index_hash,
    });
    expect(JSON.parse(retrieval.attributes["gen_ai.retrieval.documents"] as string)).toEqual(
      hits.map((h) => ({ id: h.doc_id, score: h.score })),
    );
    expect(hits.length).toBeGreaterThan(0);
  });

  it("tracing changes nothing recorded: the same run id and the same bytes, file by file", async () => {
    const traced = await runDemo();
    expect(tracing.spans().length).toBeGreaterThan(0);
    expect(traced.runId).toBe(untraced.runId);
    expect([...traced.files.keys()].sort()).toEqual([...untraced.files.keys()].sort());
    for (const [path, bytes] of untraced.files)
      expect(Buffer.from(traced.files.get(path) ?? []).equals(Buffer.from(bytes)), path).toBe(true);
  });

  it("a run under an active span is its child; a failed run's span is an error with the code", async () => {
    const parent = trace.getTracer("test").startSpan("request");
    await context.with(trace.setSpan(context.active(), parent), () => runDemo());
    parent.end();
    expect(parentOf(one(tracing.spans(), RUN_SPAN))).toBe(idOf(parent as unknown as ReadableSpan));

    tracing.reset();
    const bad: ProblemSpec = {
      ...demo,
      constraints: { corpus: tempDir(), top_k: 3, chunk_chars: 10, overlap_chars: 20 },
    };
    await expect(
      runJob({ spec: bad, preset: "default", seed: 0, artifactsRoot: tempDir() }),
    ).rejects.toThrow();
    const failed = one(tracing.spans(), RUN_SPAN);
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes["canon_reason.error.code"]).toBe("E_SPEC_INVALID");
  });

  it("an llm run: the model call is a GenAI inference span with the model and the recorded token usage", async () => {
    const RULE = "a trick is won by the highest card of the suit that was led";
    const corpus = tempDir();
    writeFiles(corpus, {
      "bridge.md": `# Contract bridge\n\nIn bridge, ${RULE}, unless a trump is played.\n`,
      "tea.md": "# Tea\n\nThe Japanese tea ceremony is called chado, the way of tea.\n",
    });
    const server = await chatServer([
      (request, res) => {
        const n = passage(request, 1).includes(RULE) ? 1 : 2;
        const content = JSON.stringify({
          claims: [
            {
              statement: "The highest card of the suit led wins.",
              citations: [{ evidence: n, quote: RULE }],
            },
          ],
        });
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            ...completion(content),
            usage: { prompt_tokens: 321, completion_tokens: 45, total_tokens: 366 },
          }),
        );
      },
    ]);
    try {
      const result = await runJob({
        spec: {
          version: "1",
          description: "How is a trick won in contract bridge?",
          constraints: { corpus, reasoner: "llm", model: "test-model", base_url: server.baseUrl },
        },
        preset: "default",
        seed: 0,
        artifactsRoot: tempDir(),
        model: { env: {} },
      });
      expect(result.answer.status).toBe("answered");
      const spans = tracing.spans();
      const run = one(spans, RUN_SPAN);
      const chat = one(spans, "chat test-model");
      expect(parentOf(chat)).toBe(idOf(run));
      expect(chat.kind).toBe(SpanKind.CLIENT);
      expect(chat.attributes).toMatchObject({
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "test-model",
        "gen_ai.request.temperature": 0,
        "gen_ai.request.seed": 0,
        "gen_ai.response.model": "test-model",
        "gen_ai.response.id": "chatcmpl-test",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 321,
        "gen_ai.usage.output_tokens": 45,
        "server.address": "127.0.0.1",
        "server.port": server.port,
      });
      expect(run.attributes).toMatchObject({
        "canon_reason.reasoner.id": "llm",
        "gen_ai.request.model": "test-model",
        "canon_reason.run.id": result.runId,
      });
      const derive = one(spans, "canon_reason.step derive");
      expect(derive.attributes["canon_reason.reasoner.id"]).toBe("llm");
      expect(parentOf(derive)).toBe(idOf(run));
    } finally {
      await server.close();
    }
  });
});

describe("the trace carrier of a queued job", () => {
  it("carries the active span's context and gives it back", () => {
    const span = trace.getTracer("test").startSpan("submit");
    const carrier = context.with(trace.setSpan(context.active(), span), () => traceCarrier());
    span.end();
    expect(carrier).toMatch(/^\{"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]"\}$/);
    const back = trace.getSpanContext(contextOfCarrier(carrier));
    expect(back?.traceId).toBe(span.spanContext().traceId);
    expect(back?.spanId).toBe(span.spanContext().spanId);
    expect(back?.isRemote).toBe(true);
    // Nothing active: nothing to carry.
    expect(context.with(ROOT_CONTEXT, () => traceCarrier())).toBeUndefined();
  });

  it("a hostile carrier (not JSON, not an object, not strings, huge, a bad traceparent) is ignored", () => {
    const good = `00-${"a".repeat(32)}-${"b".repeat(16)}-01`;
    for (const carrier of [
      undefined,
      42,
      "",
      "not json",
      "[]",
      "null",
      JSON.stringify({ traceparent: 7 }),
      JSON.stringify({ traceparent: "00-zz-01" }),
      JSON.stringify({ traceparent: `00-${"0".repeat(32)}-${"b".repeat(16)}-01` }),
      JSON.stringify({ traceparent: good, pad: "x".repeat(5000) }),
      "\udc00\ud800",
    ])
      expect(trace.getSpanContext(contextOfCarrier(carrier)), String(carrier).slice(0, 40)).toBeUndefined();
    expect(trace.getSpanContext(contextOfCarrier(JSON.stringify({ traceparent: good })))?.traceId).toBe(
      "a".repeat(32),
    );
  });
});
