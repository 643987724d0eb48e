/**
 * Per-request observability, in hooks so that routes stay as they are: a SERVER span per
 * request (HTTP semantic conventions), active while its handler runs, so the runs and queued
 * jobs a request makes are its children; it is a child of an active span (auto-instrumentation),
 * else of the caller's `traceparent`, else a root. The request log line carries its trace_id,
 * span_id and run_id; a run-creating request is counted in the run metrics.
 */
import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from "@opentelemetry/semantic-conventions";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { RunMetrics } from "../app/ops/prometheus-metrics.js";
import { ATTR, traceFields } from "../app/ops/telemetry.js";
import { errorCodeOf, UNTYPED_ERROR } from "../core/errors.js";
import { PRODUCER } from "../version.js";
import { problemCodeOf } from "./problem.js";

interface RequestTrace {
  span: Span;
  runId?: string;
  /** The status of the run the request made. */
  outcome?: string;
  /** The code of the error the request failed with. */
  error?: string;
}

const traces = new WeakMap<FastifyRequest, RequestTrace>();

/**
 * `runRoutes` names the routes that make a run ("POST /v1/runs"): each response of theirs is a
 * run by its outcome, or a failed one (bad input included) by its error code; 202 (queued) is
 * not a run here (the worker counts it).
 */
export function installRequestSpans(
  app: FastifyInstance,
  options: { metrics: RunMetrics; runRoutes: ReadonlySet<string> },
): void {
  const tracer = trace.getTracer(PRODUCER.name, PRODUCER.version);
  app.addHook("onRequest", async (request) => {
    const active = context.active();
    const parent =
      trace.getSpan(active) === undefined ? propagation.extract(active, request.headers) : active;
    const route = request.routeOptions.url;
    const span = tracer.startSpan(
      route === undefined ? request.method : `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: request.method,
          [ATTR_URL_PATH]: request.url.split("?")[0] ?? "",
          ...(route === undefined ? {} : { [ATTR_HTTP_ROUTE]: route }),
        },
      },
      parent,
    );
    traces.set(request, { span });
  });
  // Fastify calls the handler from this hook's `done`: the handler runs with the span active.
  app.addHook("preHandler", (request, _reply, done) => {
    const found = traces.get(request);
    if (found === undefined) return done();
    context.with(trace.setSpan(context.active(), found.span), done);
  });
  app.addHook("onError", async (request, _reply, error) => {
    const found = traces.get(request);
    if (found !== undefined) found.error = errorCodeOf(error);
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = `${request.method} ${request.routeOptions.url ?? ""}`;
    if (!options.runRoutes.has(route) || reply.statusCode === 202) return;
    const found = traces.get(request);
    const seconds = reply.elapsedTime / 1000;
    if (found?.outcome !== undefined) options.metrics.record(found.outcome, seconds);
    // A client error is the client's (item 5): counted by the code it was answered with, as
    // `rejected`, never as `internal` and never as a failed run.
    else if (reply.statusCode < 500)
      options.metrics.recordFailure(
        problemCodeOf(request) ?? found?.error ?? "E_HTTP_BAD_REQUEST",
        seconds,
        "rejected",
      );
    else options.metrics.recordFailure(found?.error ?? UNTYPED_ERROR, seconds);
  });
}

/** Names the run a request made and its status, for its span, its log line and the metrics. */
export function noteRun(request: FastifyRequest, runId: string, outcome: string): void {
  const found = traces.get(request);
  if (found === undefined) return;
  found.runId = runId;
  found.outcome = outcome;
  found.span.setAttribute(ATTR.RUN_ID, runId);
}

/** Ends the request's span with its status and returns what its log line carries. */
export function endRequestSpan(
  request: FastifyRequest,
  status: number,
): { trace_id?: string; span_id?: string; run_id?: string } {
  const found = traces.get(request);
  if (found === undefined) return {};
  found.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  // A 5xx is the server's error; a 4xx is the client's, and leaves the span's status unset.
  if (status >= 500) found.span.setStatus({ code: SpanStatusCode.ERROR });
  found.span.end();
  traces.delete(request);
  return { ...traceFields(found.span), ...(found.runId === undefined ? {} : { run_id: found.runId }) };
}
