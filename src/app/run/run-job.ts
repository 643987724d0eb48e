/**
 * One reasoning job end to end, wired to the disk: resolve the corpus into the store,
 * produce the run in memory, verify it, and write it atomically. Shared by `run`, `eval`
 * and the HTTP server so they cannot drift apart. The pure steps are core/pipeline/job.ts's;
 * this module makes the effects between them, one phase at a time (docs/architecture.md).
 */

import { performance } from "node:perf_hooks";
import type { Span } from "@opentelemetry/api";
import type { StepTiming } from "../../core/artifact/timings.js";
import { InputError } from "../../core/errors.js";
import type { ProblemSpec } from "../../core/models/spec.js";
import type { TraceEvent } from "../../core/models/trace.js";
import { modelQuestion, type ProducedJob, pinCorpus, planJob, produceJob } from "../../core/pipeline/job.js";
import type { ProducedRun } from "../../core/pipeline/produce.js";
import type { RebuildRecords } from "../../core/verify/pinned-index.js";
import { localRebuildRecords, recordBuiltIndex } from "../../io/index-cache/rebuild-records.js";
import { writeRun } from "../../io/runs/run-writer.js";
import { inArtifactsDir } from "../../io/store/artifacts.js";
import { PRODUCER } from "../../version.js";
import { loadTelemetry } from "../ops/otel-gate.js";
import { type ModelCallOptions, modelCallFor } from "./model-call.js";
import {
  type CorpusLimits,
  OneShotSource,
  type PreparedRetrieval,
  type Progress,
  type RetrievalSource,
  retrievalFor,
} from "./retrieval-source.js";

export interface RunJobOptions {
  spec: ProblemSpec;
  preset: string;
  seed: number;
  artifactsRoot: string;
  limits?: CorpusLimits;
  progress?: Progress;
  /** Called with the produced files before they are written, e.g. to add a signature. */
  seal?: (run: ProducedRun) => void;
  /**
   * Where the snapshot and index come from: the service's warm cache, an eval's shared backends;
   * by default read (or built) from the store under the artifacts root for this run alone.
   */
  source?: RetrievalSource;
  /** How the llm reasoner reaches its endpoint: time limits, retries, pacing, the key's environment. */
  model?: RunModelOptions;
  /** Index rebuilds already seen to agree (default: this user's local records, io/index-cache/rebuild-records.ts). */
  rebuilds?: RebuildRecords;
}

export interface RunModelOptions extends ModelCallOptions {
  /**
   * The one endpoint this process calls (a worker's --model-base-url, which may carry
   * user:password), in place of the spec's base URL. A run whose base URL, without credentials,
   * is another one is bad input: it is never sent to an endpoint it does not name.
   */
  endpoint?: string;
}

export interface RunJobResult extends ProducedRun {
  runDir: string;
  created: boolean;
  /** The same run was in place, signed, and was kept with its signature (see writeRun). */
  signatureKept?: true;
  /** How many documents the corpus snapshot holds (null without retrieval): an empty or mis-read corpus shows. */
  corpusDocuments: number | null;
  /** The retrieval the run searched (null without retrieval): an eval ranks documents with it. */
  retrieval: PreparedRetrieval | null;
  timings: Record<string, number>;
}

/** What the CLI's `run --json` and the service's `POST /v1/runs` both report about a run. */
export function runSummary(result: RunJobResult) {
  return {
    run_id: result.runId,
    status: result.answer.status,
    answer: result.answer.answer,
    uncertainty: result.answer.uncertainty,
    claims: result.answer.claims,
    verification: {
      verdict: result.report.verdict,
      summary: result.report.summary,
      failures: result.report.failures,
    },
  };
}

/** Each step's wall-clock duration, taken from its step_started and step_finished events. */
class StepClock {
  readonly durations: StepTiming[] = [];
  private readonly started = new Map<string, number>();

  observe(event: TraceEvent): void {
    if (event.type === "step_started") this.started.set(event.node_id, performance.now());
    if (event.type !== "step_finished") return;
    const since = this.started.get(event.node_id);
    if (since === undefined) return;
    const ms = Math.round((performance.now() - since) * 1000) / 1000;
    this.durations.push({ node_id: event.node_id, kind: event.kind, ms });
  }
}

export async function runJob(options: RunJobOptions): Promise<RunJobResult> {
  const started = performance.now();
  // The seed is part of the run id: above 2^53 - 1 two seeds would share one number.
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) {
    throw new InputError(
      "E_USAGE",
      `must be an integer in [0, ${Number.MAX_SAFE_INTEGER}], got ${options.seed}`,
      {
        field: "seed",
      },
    );
  }
  const telemetry = await loadTelemetry();
  const job = (traced?: Traced) =>
    inArtifactsDir(options.artifactsRoot, () => runJobIn(options, started, traced));
  if (telemetry === undefined) return job();
  const { ATTR, traceRunJob } = telemetry;
  return traceRunJob({ [ATTR.PRESET]: options.preset, [ATTR.SEED]: options.seed }, (span) =>
    job({ span, telemetry }),
  );
}

/** The run's span and the wiring that made it, when an SDK is registered. */
interface Traced {
  span: Span;
  telemetry: typeof import("../ops/telemetry.js");
}

/** A run for the queue: its spec pinned, and the snapshot's bytes to publish before the job exists. */
export async function pinForQueue(
  spec: ProblemSpec,
  preset: string,
  source: RetrievalSource,
): Promise<{ spec: ProblemSpec; snapshot: Uint8Array | null }> {
  const plan = planJob(spec, preset);
  const sourced = await retrievalFor(source, plan.retrieval);
  if (sourced === null) return { spec, snapshot: null };
  const hash = sourced.prepared.snapshotHash;
  return { spec: pinCorpus(spec, hash), snapshot: sourced.store.get(hash) };
}

/**
 * The job inside its artifacts dir (runJob opened it), in phases, each one descent from here:
 * core: the parameters and the retrieval the run needs; io: the snapshot and index from the
 * run's source; the model call (llm runs only); core: the run pinned, produced, verified and
 * sealed in memory; io: the run written and the index build recorded; the run span's
 * attributes. docs/architecture.md ("CLI run") names the modules of each.
 */
async function runJobIn(options: RunJobOptions, started: number, traced?: Traced): Promise<RunJobResult> {
  const plan = planJob(options.spec, options.preset);
  const source = options.source ?? new OneShotSource(options.artifactsRoot);
  const rebuilds = options.rebuilds ?? localRebuildRecords();
  const sourced = await retrievalFor(source, plan.retrieval, { ...options, rebuilds });
  const retrieval = sourced?.prepared ?? null;
  const prepared = performance.now();
  const settings = { seed: options.seed, producer: PRODUCER, endpoint: options.model?.endpoint };
  // The model call is an effect: made here, between retrieval and producing the run from its
  // recording. A failed call throws before anything is written.
  const question = modelQuestion(plan, retrieval, settings);
  const call =
    question === null ? undefined : await modelCallFor(question.input, question.baseUrl, options.model);
  const steps = new StepClock();
  // Step spans observe the run that is recorded (for an llm run: the pass served from the recording).
  const stepSpans = traced === undefined ? undefined : new traced.telemetry.StepSpans();
  let job: ProducedJob;
  try {
    job = produceJob(plan, retrieval, {
      ...settings,
      store: sourced?.store ?? source.store,
      rebuilds,
      asked: question === null ? undefined : { question, call },
      onEvent: (event) => {
        steps.observe(event);
        stepSpans?.observe(event);
      },
    });
  } finally {
    stepSpans?.abandon();
  }
  const produced = job.run;
  options.seal?.(produced);
  const producedAt = performance.now();
  const timings = {
    prepare_ms: prepared - started,
    produce_ms: producedAt - prepared,
  };
  const refused = job.replaceRefused;
  const written = writeRun(options.artifactsRoot, produced.runId, produced.files, {
    volatile: { timings: { ...timings, steps: steps.durations } },
    ...(refused === null
      ? {}
      : {
          beforeReplace: () => {
            throw refused;
          },
        }),
  });
  // Built here from the snapshot: a later verification on this machine need not rebuild it.
  if (retrieval?.built) recordBuiltIndex(rebuilds, retrieval.backend.provenance);
  const provenance = retrieval?.backend.provenance ?? null;
  if (traced?.span.isRecording())
    traced.span.setAttributes(
      traced.telemetry.runAttributes({
        ...produced,
        created: written.created,
        reasoner: job.reasoner,
        provenance,
        model: plan.params.llm?.model,
      }),
    );
  return {
    ...produced,
    ...written,
    corpusDocuments: provenance?.documents ?? null,
    retrieval,
    timings: { ...timings, total_ms: performance.now() - started },
  };
}
