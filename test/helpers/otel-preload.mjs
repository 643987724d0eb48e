// A user's OpenTelemetry setup as `node --import` loads it before the CLI (README "Scaling
// out"), with an exporter that appends each finished span as a JSON line to
// $CANON_REASON_TEST_SPANS instead of sending it to a collector.
import { appendFileSync } from "node:fs";
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";

const file = process.env.CANON_REASON_TEST_SPANS;
const exporter = {
  export(spans, done) {
    for (const span of spans)
      appendFileSync(
        file,
        `${JSON.stringify({
          name: span.name,
          trace_id: span.spanContext().traceId,
          span_id: span.spanContext().spanId,
          parent_id: span.parentSpanContext?.spanId ?? null,
          attributes: span.attributes,
        })}\n`,
      );
    done({ code: 0 });
  },
  shutdown: async () => {},
};
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
);
