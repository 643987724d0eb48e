/**
 * OpenTelemetry spans for runs, through `@opentelemetry/api` only: a no-op until the process
 * registers an SDK (README "Scaling out"). The pure core knows nothing of this; it hands each
 * trace event to an observer (produceRun's `onEvent`), and this module turns those events into
 * spans at the edge. Nothing here feeds anything fingerprinted: run ids and bytes are the same
 * with tracing on or off.
 *
 * Names follow the OpenTelemetry GenAI semantic conventions where they cover a thing (the
 * `gen_ai.retrieval` span, the inference span of a model call, token usage), taken from
 * `@opentelemetry/semantic-conventions/incubating`; what they do not cover (citations,
 * verification, check counts, steps) is named under the one prefix `canon_reason.`.
 *
 * Spans:
 *   canon_reason.run                     one per run (INTERNAL)
 *     chat <model>                       the llm reasoner's model call (CLIENT, gen_ai inference)
 *     canon_reason.step <kind>           one per plan step, in plan order
 *       retrieval                        each retrieve tool call (gen_ai.retrieval, INTERNAL)
 */
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_DATA_SOURCE_ID,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_SEED,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_REQUEST_TOP_K,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_RETRIEVAL_DOCUMENTS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_OPERATION_NAME_VALUE_RETRIEVAL,
  GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
} from "@opentelemetry/semantic-conventions/incubating";
import { RETRIEVE_TOOL } from "../../core/artifact/names.js";
import { errorCodeOf } from "../../core/errors.js";
import type { ModelCall } from "../../core/models/model-call.js";
import type { RetrievePayload, Trace, TraceEvent } from "../../core/models/trace.js";
import type { VerificationReport } from "../../core/models/verification-report.js";
import { PRODUCER } from "../../version.js";

/** Our own attribute names (what the GenAI conventions do not cover), all under `canon_reason.`. */
export const ATTR = {
  RUN_ID: "canon_reason.run.id",
  RUN_CREATED: "canon_reason.run.created",
  PRESET: "canon_reason.preset",
  SEED: "canon_reason.seed",
  CORPUS_SNAPSHOT: "canon_reason.corpus.snapshot",
  INDEX_HASH: "canon_reason.index.hash",
  REASONER_ID: "canon_reason.reasoner.id",
  REASONER_VERSION: "canon_reason.reasoner.version",
  ANSWER_STATUS: "canon_reason.answer.status",
  CITATION_DOCUMENTS: "canon_reason.citation.documents",
  CITATION_SPAN_STARTS: "canon_reason.citation.span_starts",
  CITATION_SPAN_ENDS: "canon_reason.citation.span_ends",
  CITATION_SHA256: "canon_reason.citation.sha256",
  VERIFICATION_VERDICT: "canon_reason.verification.verdict",
  VERIFICATION_CHECKS: "canon_reason.verification.checks",
  VERIFICATION_PASSED: "canon_reason.verification.checks_passed",
  VERIFICATION_FAILED: "canon_reason.verification.checks_failed",
  STEP_NODE: "canon_reason.step.node_id",
  STEP_KIND: "canon_reason.step.kind",
  EVIDENCE_COUNT: "canon_reason.step.evidence",
  CLAIM_ID: "canon_reason.step.claim_id",
  INSUFFICIENT_REASON: "canon_reason.step.insufficient_reason",
  CLAIMS_VALIDATED: "canon_reason.step.claims_validated",
  CLAIMS_REJECTED: "canon_reason.step.claims_rejected",
  ERROR_CODE: "canon_reason.error.code",
  JOB_ID: "canon_reason.job.id",
  JOB_KIND: "canon_reason.job.kind",
  JOB_ATTEMPT: "canon_reason.job.attempt",
} as const;

export const RUN_SPAN = "canon_reason.run";
export const STEP_SPAN = "canon_reason.step";

const tracer = () => trace.getTracer(PRODUCER.name, PRODUCER.version);

/** Marks the span failed with the error's stable code ("internal" for a bug) and ends it. */
export function endWithError(span: Span, error: unknown): void {
  const code = errorCodeOf(error);
  span.recordException(error instanceof Error ? error : String(error));
  span.setAttributes({ [ATTR_ERROR_TYPE]: code, [ATTR.ERROR_CODE]: code });
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: (error as Error | undefined)?.message ?? String(error),
  });
  span.end();
}

/** Runs `fn` inside a new active span, ending it (failed, with the error's code, on a throw). */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes },
  fn: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  const span = tracer().startSpan(name, options, parent);
  try {
    const value = await context.with(trace.setSpan(parent, span), () => fn(span));
    span.end();
    return value;
  } catch (error) {
    endWithError(span, error);
    throw error;
  }
}

/** `trace_id` and `span_id` of the active span (or the one given) for a log line; none without one. */
export function traceFields(span: Span | undefined = trace.getActiveSpan()): {
  trace_id?: string;
  span_id?: string;
} {
  const ctx = span?.spanContext();
  if (ctx === undefined || !trace.isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}

/**
 * The active trace context as the propagator writes it (W3C `traceparent` with the SDK's
 * default), as JSON: carried beside a queued job, never in what its id hashes. Undefined when
 * there is nothing to carry (no SDK, no active span).
 */
export function traceCarrier(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (Object.keys(carrier).length === 0) return undefined;
  const text = JSON.stringify(carrier);
  // Baggage comes from a client's request headers: an oversized carrier is not stored in Redis
  // (the worker would ignore it anyway), the job then runs unparented.
  return text.length > MAX_CARRIER_CHARS ? undefined : text;
}

const MAX_CARRIER_CHARS = 4096;

/**
 * The context a carrier names, or the root context. The carrier arrives from Redis, so it is
 * hostile: anything but a small JSON object of strings is ignored (a job still runs, unparented).
 */
export function contextOfCarrier(carrier: unknown): Context {
  if (typeof carrier !== "string" || carrier.length > MAX_CARRIER_CHARS) return ROOT_CONTEXT;
  let parsed: unknown;
  try {
    parsed = JSON.parse(carrier);
  } catch {
    return ROOT_CONTEXT;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return ROOT_CONTEXT;
  const fields = Object.entries(parsed).filter(
    (entry): entry is [string, string] => typeof entry[1] === "string",
  );
  return propagation.extract(ROOT_CONTEXT, Object.fromEntries(fields));
}

const endpointAttributes = (endpoint: string): Attributes => {
  try {
    const url = new URL(endpoint);
    const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
    return { [ATTR_SERVER_ADDRESS]: url.hostname, [ATTR_SERVER_PORT]: port };
  } catch {
    return {};
  }
};

/** What the recorded response says about the call: id, model, finish reasons and token usage. */
function responseAttributes(call: ModelCall): Attributes {
  let body: unknown;
  try {
    body = JSON.parse(call.response.body);
  } catch {
    return {};
  }
  if (typeof body !== "object" || body === null) return {};
  const b = body as {
    id?: unknown;
    model?: unknown;
    choices?: unknown;
    usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
  };
  const attributes: Attributes = {};
  if (typeof b.id === "string") attributes[ATTR_GEN_AI_RESPONSE_ID] = b.id;
  if (typeof b.model === "string") attributes[ATTR_GEN_AI_RESPONSE_MODEL] = b.model;
  if (Array.isArray(b.choices)) {
    const reasons = b.choices.flatMap((c: { finish_reason?: unknown } | null) =>
      typeof c?.finish_reason === "string" ? [c.finish_reason] : [],
    );
    if (reasons.length > 0) attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = reasons;
  }
  const input = b.usage?.prompt_tokens;
  const output = b.usage?.completion_tokens;
  if (Number.isSafeInteger(input)) attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS] = input as number;
  if (Number.isSafeInteger(output)) attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = output as number;
  return attributes;
}

/**
 * The model call as a GenAI inference span (`chat <model>`, CLIENT): the request's model,
 * temperature and seed, the endpoint's host, and what the recorded response reports, token
 * usage included. The wire protocol is OpenAI's chat completions, hence the provider name.
 */
export function tracedModelCall(
  request: { model?: unknown; temperature?: unknown; seed?: unknown },
  endpoint: string,
  call: () => Promise<ModelCall>,
): Promise<ModelCall> {
  const model = typeof request.model === "string" ? request.model : "";
  const attributes: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT,
    [ATTR_GEN_AI_PROVIDER_NAME]: GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
    ...endpointAttributes(endpoint),
  };
  if (model !== "") attributes[ATTR_GEN_AI_REQUEST_MODEL] = model;
  if (typeof request.temperature === "number")
    attributes[ATTR_GEN_AI_REQUEST_TEMPERATURE] = request.temperature;
  if (typeof request.seed === "number") attributes[ATTR_GEN_AI_REQUEST_SEED] = request.seed;
  const name =
    model === "" ? GEN_AI_OPERATION_NAME_VALUE_CHAT : `${GEN_AI_OPERATION_NAME_VALUE_CHAT} ${model}`;
  return inSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    const recorded = await call();
    span.setAttributes(responseAttributes(recorded));
    return recorded;
  });
}

/**
 * Turns one run's trace events into step spans (and retrieval spans inside them) under the
 * run span, as the executor records them. Events are observed synchronously, in order.
 */
export class StepSpans {
  private readonly steps = new Map<string, Span>();
  private readonly calls = new Map<string, Span>();

  /** Under the active span (the run's). */
  constructor(private readonly parent: Context = context.active()) {}

  observe(event: TraceEvent): void {
    if (event.type === "step_started") {
      const span = tracer().startSpan(
        `${STEP_SPAN} ${event.kind}`,
        { attributes: { [ATTR.STEP_NODE]: event.node_id, [ATTR.STEP_KIND]: event.kind } },
        this.parent,
      );
      this.steps.set(event.node_id, span);
      return;
    }
    const step = this.steps.get(event.node_id);
    if (step === undefined) return;
    if (event.type === "tool_called" && event.call.tool === RETRIEVE_TOOL) {
      const topK = event.call.args.top_k;
      this.calls.set(
        event.call.id,
        tracer().startSpan(
          GEN_AI_OPERATION_NAME_VALUE_RETRIEVAL,
          {
            attributes: {
              [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_RETRIEVAL,
              ...(typeof topK === "number" ? { [ATTR_GEN_AI_REQUEST_TOP_K]: topK } : {}),
            },
          },
          trace.setSpan(this.parent, step),
        ),
      );
    } else if (event.type === "tool_returned") {
      const span = this.calls.get(event.result.call_id);
      if (span === undefined) return;
      this.calls.delete(event.result.call_id);
      if (event.result.ok && span.isRecording()) {
        const payload = event.result.payload as RetrievePayload;
        span.setAttributes({
          [ATTR_GEN_AI_DATA_SOURCE_ID]: `sha256:${payload.provenance.corpus_snapshot}`,
          [ATTR.INDEX_HASH]: payload.provenance.index_hash,
          // Spans hold no structured values: the documents as the JSON string the convention allows.
          [ATTR_GEN_AI_RETRIEVAL_DOCUMENTS]: JSON.stringify(
            payload.hits.map((hit) => ({ id: hit.doc_id, score: hit.score })),
          ),
        });
      } else if (!event.result.ok) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: event.result.error ?? "the tool failed" });
      }
      span.end();
    } else if (event.type === "step_finished") {
      step.setAttributes(stepAttributes(event));
      step.end();
      this.steps.delete(event.node_id);
    }
  }

  /** Ends what a failed run left open (a tool that threw, a step that never finished). */
  abandon(): void {
    for (const span of [...this.calls.values(), ...this.steps.values()]) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: "the run failed" });
      span.end();
    }
    this.calls.clear();
    this.steps.clear();
  }
}

function stepAttributes(event: Extract<TraceEvent, { type: "step_finished" }>): Attributes {
  const output = event.output;
  switch (output.type) {
    case "gather":
      return { [ATTR.EVIDENCE_COUNT]: output.evidence_ids.length };
    case "derive":
      return {
        [ATTR.REASONER_ID]: output.reasoner.id,
        [ATTR.REASONER_VERSION]: output.reasoner.version,
        [ATTR.CLAIM_ID]: output.claim_id,
      };
    case "insufficient_evidence":
      return {
        [ATTR.REASONER_ID]: output.reasoner.id,
        [ATTR.REASONER_VERSION]: output.reasoner.version,
        [ATTR.INSUFFICIENT_REASON]: output.reason,
      };
    case "verify":
      return {
        [ATTR.CLAIMS_VALIDATED]: output.decisions.filter((d) => d.status === "validated").length,
        [ATTR.CLAIMS_REJECTED]: output.decisions.filter((d) => d.status === "rejected").length,
      };
    case "finalize":
      return { [ATTR.ANSWER_STATUS]: output.status };
    default:
      return {};
  }
}

/** What the run span reports once the run exists: ids, pins, reasoner, citations, verification. */
export function runAttributes(run: {
  runId: string;
  created: boolean;
  trace: Trace;
  report: VerificationReport;
  answer: { status: string };
  reasoner: { id: string; version: string };
  provenance: { corpus_snapshot: string; index_hash: string } | null;
  model: string | undefined;
}): Attributes {
  const documents = new Map<string, string>();
  const starts: number[] = [];
  const ends: number[] = [];
  const shas: string[] = [];
  const docs: string[] = [];
  for (const e of run.trace.events) {
    if (e.type === "evidence_registered") documents.set(e.evidence.id, e.evidence.doc_id);
    if (e.type === "step_finished" && e.output.type === "derive")
      for (const c of e.output.citations) {
        docs.push(documents.get(c.evidence_id) ?? "");
        starts.push(c.span[0]);
        ends.push(c.span[1]);
        shas.push(c.sha256);
      }
  }
  return {
    [ATTR.RUN_ID]: run.runId,
    [ATTR.RUN_CREATED]: run.created,
    [ATTR.REASONER_ID]: run.reasoner.id,
    [ATTR.REASONER_VERSION]: run.reasoner.version,
    [ATTR.ANSWER_STATUS]: run.answer.status,
    ...(run.provenance === null
      ? {}
      : {
          [ATTR.CORPUS_SNAPSHOT]: run.provenance.corpus_snapshot,
          [ATTR.INDEX_HASH]: run.provenance.index_hash,
        }),
    ...(run.model === undefined ? {} : { [ATTR_GEN_AI_REQUEST_MODEL]: run.model }),
    [ATTR.CITATION_DOCUMENTS]: docs,
    [ATTR.CITATION_SPAN_STARTS]: starts,
    [ATTR.CITATION_SPAN_ENDS]: ends,
    [ATTR.CITATION_SHA256]: shas,
    [ATTR.VERIFICATION_VERDICT]: run.report.verdict,
    [ATTR.VERIFICATION_CHECKS]: run.report.summary.checks,
    [ATTR.VERIFICATION_PASSED]: run.report.summary.passed,
    [ATTR.VERIFICATION_FAILED]: run.report.summary.failed,
  };
}

/** The span around one run: child of whatever is active (a request, a job), else a root. */
export function traceRunJob<T>(attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return inSpan(RUN_SPAN, { kind: SpanKind.INTERNAL, attributes }, fn);
}
