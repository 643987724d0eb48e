/**
 * A SERVER span per request (HTTP semantic conventions), the parent of the runs and queued jobs
 * the request makes: a child of an active span (auto-instrumentation), else of the caller's
 * `traceparent`, else a root. The request log line carries its trace_id, span_id and run_id.
 */
import {
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from "@opentelemetry/semantic-conventions";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ATTR, traceFields } from "../app/telemetry.js";
import { PRODUCER } from "../version.js";

interface RequestTrace {
  span: Span;
  runId?: string;
}

const traces = new WeakMap<FastifyRequest, RequestTrace>();

export function installRequestSpans(app: FastifyInstance): void {
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
}

/** The context a handler runs its work in: the request's span active. */
export function requestContext(request: FastifyRequest): Context {
  const found = traces.get(request);
  return found === undefined ? context.active() : trace.setSpan(context.active(), found.span);
}

/** Names the run a request made, for its span and its log line. */
export function noteRun(request: FastifyRequest, runId: string): void {
  const found = traces.get(request);
  if (found === undefined) return;
  found.runId = runId;
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
