/**
 * Whether to load the OpenTelemetry wiring at all. `run` must start fast (docs/operations/performance-and-scaling.md, start-up), and the API
 * alone costs a measurable share of a warm run's instructions while doing nothing: without a
 * registered SDK every span is a no-op. Every copy of `@opentelemetry/api` 1.x keeps what is
 * registered (tracer provider, context manager, propagator) on one process-wide object under
 * this symbol, which is how copies share an SDK; until something registers, it is absent.
 */
const API_GLOBAL = Symbol.for("opentelemetry.js.api.1");

export const telemetryRegistered = (): boolean =>
  (globalThis as Record<symbol, unknown>)[API_GLOBAL] !== undefined;

/** The span wiring when an SDK (or any OpenTelemetry global) is registered; undefined otherwise. */
export function loadTelemetry(): Promise<typeof import("./telemetry.js")> | undefined {
  return telemetryRegistered() ? import("./telemetry.js") : undefined;
}
