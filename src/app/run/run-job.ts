/**
 * One reasoning job end to end, wired to the disk: resolve the corpus into the store,
 * produce the run in memory, verify it, and write it atomically. Shared by `run`, `eval`
 * and the HTTP server so they cannot drift apart.
 */

import { performance } from "node:perf_hooks";
import type { Span } from "@opentelemetry/api";
import type { StepTiming } from "../../core/artifact/timings.js";
import { corpusRefString, parseCorpusRef, snapshotRef } from "../../core/corpus/corpus-ref.js";
import { CanonError, InputError } from "../../core/errors.js";
import type { ModelCall } from "../../core/models/model-call.js";
import type { ProblemSpec } from "../../core/models/spec.js";
import type { TraceEvent } from "../../core/models/trace.js";
import { liveTools, llmInputOf, type ProducedRun, produceRun } from "../../core/pipeline/produce.js";
import { type ResolvedParams, resolveParams } from "../../core/plan/planner.js";
import { extractiveReasoner } from "../../core/reason/extractive.js";
import { failedModelAnswer, llmReasoner, withoutCredentials } from "../../core/reason/llm.js";
import { pickIndexParams } from "../../core/retrieval/index-params.js";
import type { RebuildRecords } from "../../core/verify/pinned-index.js";
import { verifyRun } from "../../core/verify/verifier.js";
import { localRebuildRecords, recordBuiltIndex } from "../../io/index-cache/rebuild-records.js";
import { type WriteRunOptions, writeRun } from "../../io/runs/run-writer.js";
import { atArtifacts, prepareArtifactsDir } from "../../io/store/artifacts.js";
import { PRODUCER } from "../../version.js";
import { loadTelemetry } from "../ops/otel-gate.js";
import { type ModelCallOptions, modelCallFor } from "./model-call.js";
import {
  type CorpusLimits,
  DEFAULT_LIMITS,
  OneShotSource,
  type PreparedRetrieval,
  type Progress,
  type RetrievalSource,
  type SourcedRetrieval,
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

/** The URL the model call goes to: the configured endpoint when there is one and the run names it. */
function endpointOf(spec: ProblemSpec, recorded: string, model: RunModelOptions | undefined): string {
  const endpoint = model?.endpoint;
  if (endpoint === undefined) return spec.constraints.base_url ?? recorded;
  const configured = withoutCredentials(endpoint);
  if (configured !== recorded)
    throw new InputError(
      "E_MODEL_ENDPOINT",
      `the run's model endpoint ${recorded} is not this worker's (${configured}, worker --model-base-url): start workers with the endpoint the eval or service names`,
      { field: "base_url" },
    );
  return endpoint;
}

/**
 * The one rule on replacing runs that is about the model: a run whose model call failed (no
 * readable answer: a refusal, a cut-off or empty reply, no JSON) is written when nothing is at
 * its id, but never replaces an earlier run there. The call is an endpoint error instead (exit 3).
 */
function keepEarlierRun(call: ModelCall | undefined): Pick<WriteRunOptions, "beforeReplace"> {
  const failed = call === undefined ? null : failedModelAnswer(call);
  if (failed === null) return {};
  return {
    beforeReplace: () => {
      throw new CanonError(
        "E_MODEL_ENDPOINT",
        `the model call failed (${failed}): the earlier run with this id is kept, nothing was written`,
        { exitCode: 3 },
      );
    },
  };
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
  prepareArtifactsDir(options.artifactsRoot);
  const telemetry = await loadTelemetry();
  if (telemetry === undefined) return atArtifacts(options.artifactsRoot, () => runJobIn(options, started));
  const { ATTR, traceRunJob } = telemetry;
  return traceRunJob({ [ATTR.PRESET]: options.preset, [ATTR.SEED]: options.seed }, (span) =>
    atArtifacts(options.artifactsRoot, () => runJobIn(options, started, { span, telemetry })),
  );
}

/** The run's span and the wiring that made it, when an SDK is registered. */
interface Traced {
  span: Span;
  telemetry: typeof import("../ops/telemetry.js");
}

/** A spec whose corpus is pinned to its snapshot, and the retrieval that pinned it (null without retrieval). */
export interface PinnedSpec {
  spec: ProblemSpec;
  params: ResolvedParams;
  retrieval: SourcedRetrieval | null;
}

/**
 * The one place a run's parameters are resolved and its corpus pinned: the source prepares the
 * snapshot and index, and the spec names the snapshot, not the path, so the run id does not
 * depend on where the corpus lives.
 */
export async function pinSpec(
  spec: ProblemSpec,
  preset: string,
  source: RetrievalSource,
  options: Pick<RunJobOptions, "limits" | "progress" | "rebuilds"> = {},
): Promise<PinnedSpec> {
  const params = resolveParams(spec, preset);
  const corpus = spec.constraints.corpus;
  if (!params.needs_retrieval) {
    if (corpus !== undefined && parseCorpusRef(corpus).kind === "path")
      throw new InputError("E_SPEC_INVALID", "a corpus is given but needs_retrieval is false", {
        field: "constraints.needs_retrieval",
      });
    return { spec, params, retrieval: null };
  }
  if (corpus === undefined)
    throw new InputError("E_USAGE", "a corpus is required (--corpus PATH)", { field: "corpus" });
  const retrieval = await source.prepare({
    corpus: parseCorpusRef(corpus),
    params: pickIndexParams(params),
    limits: options.limits ?? DEFAULT_LIMITS,
    progress: options.progress,
    rebuilds: options.rebuilds ?? localRebuildRecords(),
  });
  const pinned = corpusRefString(snapshotRef(retrieval.prepared.snapshotHash));
  return { spec: { ...spec, constraints: { ...spec.constraints, corpus: pinned } }, params, retrieval };
}

/** A run for the queue: its spec pinned, and the snapshot's bytes to publish before the job exists. */
export async function pinForQueue(
  spec: ProblemSpec,
  preset: string,
  source: RetrievalSource,
): Promise<{ spec: ProblemSpec; snapshot: Uint8Array | null }> {
  const pinned = await pinSpec(spec, preset, source);
  const retrieval = pinned.retrieval;
  return {
    spec: pinned.spec,
    snapshot: retrieval === null ? null : retrieval.store.get(retrieval.prepared.snapshotHash),
  };
}

async function runJobIn(options: RunJobOptions, started: number, traced?: Traced): Promise<RunJobResult> {
  const source = options.source ?? new OneShotSource(options.artifactsRoot);
  const pinned = await pinSpec(options.spec, options.preset, source, options);
  const { params } = pinned;
  let spec = pinned.spec;
  const store = pinned.retrieval?.store ?? source.store;
  const retrieval = pinned.retrieval?.prepared.backend ?? null;
  const rebuilds = options.rebuilds ?? localRebuildRecords();
  // Built here from the snapshot: the sealing verifier's rebuild would give these very bytes.
  if (pinned.retrieval?.prepared.built && retrieval !== null)
    recordBuiltIndex(rebuilds, retrieval.provenance);
  // user:password in the base URL authenticate the call; the run records the URL without them.
  const baseUrl = params.llm === null ? undefined : endpointOf(spec, params.llm.base_url, options.model);
  if (spec.constraints.base_url !== undefined)
    spec = {
      ...spec,
      constraints: { ...spec.constraints, base_url: withoutCredentials(spec.constraints.base_url) },
    };
  const prepared = performance.now();
  const common = {
    preset: options.preset,
    seed: options.seed,
    producer: PRODUCER,
    provenance: retrieval?.provenance ?? null,
  };
  let dispatcher = liveTools(retrieval);
  let modelCall: ModelCall | undefined;
  if (baseUrl !== undefined) {
    // The model call is an effect: made here, between retrieval and producing the run from its
    // recording. A failed call throws before anything is written.
    const looked = llmInputOf(spec, { ...common, dispatcher });
    dispatcher = looked.dispatcher;
    modelCall = await modelCallFor(looked.input, baseUrl, options.model);
  }
  const steps = new StepClock();
  // Step spans observe the run that is recorded (for an llm run: the pass served from the recording).
  const stepSpans = traced === undefined ? undefined : new traced.telemetry.StepSpans();
  const reasoner = baseUrl === undefined ? extractiveReasoner : llmReasoner;
  let produced: ProducedRun;
  try {
    produced = produceRun(spec, {
      ...common,
      onEvent: (event) => {
        steps.observe(event);
        stepSpans?.observe(event);
      },
      reasoner,
      dispatcher,
      ...(modelCall === undefined ? {} : { modelCall }),
      verify: (files) => verifyRun({ files, store, policy: "audit", stage: "sealing", rebuilds }),
    });
  } finally {
    stepSpans?.abandon();
  }
  options.seal?.(produced);
  const producedAt = performance.now();
  const timings = {
    prepare_ms: prepared - started,
    produce_ms: producedAt - prepared,
  };
  const written = writeRun(options.artifactsRoot, produced.runId, produced.files, {
    volatile: { timings: { ...timings, steps: steps.durations } },
    ...keepEarlierRun(modelCall),
  });
  if (traced?.span.isRecording())
    traced.span.setAttributes(
      traced.telemetry.runAttributes({
        ...produced,
        created: written.created,
        reasoner,
        provenance: common.provenance,
        model: params.llm?.model,
      }),
    );
  return {
    ...produced,
    ...written,
    corpusDocuments: retrieval?.provenance.documents ?? null,
    retrieval: pinned.retrieval?.prepared ?? null,
    timings: { ...timings, total_ms: performance.now() - started },
  };
}
