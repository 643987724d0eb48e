/**
 * The pure part of one reasoning job (app/run/run-job.ts `runJob` makes the effects between its
 * steps). `planJob` resolves the parameters and says which retrieval the run needs; the caller
 * prepares it (the snapshot and index, io/). `modelQuestion` is the llm reasoner's input, which
 * the caller asks the model (an effect); `produceJob` then pins the spec to the snapshot, plans,
 * executes, verifies and seals the run in memory, from everything it is handed.
 */
import { toRunView } from "../artifact/view.js";
import { type CorpusRef, corpusRefString, parseCorpusRef, snapshotRef } from "../corpus/corpus-ref.js";
import { CanonError, InputError } from "../errors.js";
import type { ModelCall } from "../models/model-call.js";
import type { ProblemSpec } from "../models/spec.js";
import type { TraceEvent } from "../models/trace.js";
import { type ResolvedParams, resolveParams } from "../plan/planner.js";
import { extractiveReasoner } from "../reason/extractive.js";
import { failedModelAnswer, llmReasoner, withoutCredentials } from "../reason/llm.js";
import type { Reasoner, ReasonerInput } from "../reason/reasoner.js";
import { type IndexParams, pickIndexParams } from "../retrieval/index-params.js";
import type { StoreReader } from "../verify/check.js";
import { builtIndexRecords, type RebuildRecords } from "../verify/pinned-index.js";
import { verifyParsedRun } from "../verify/verifier.js";
import type { ToolDispatcher } from "./executor.js";
import { liveTools, llmInputOf, type ProducedRun, produceRun, type RetrievalBackend } from "./produce.js";

/** A job's resolved parameters, and the retrieval it needs (null: the spec needs none). */
export interface JobPlan {
  spec: ProblemSpec;
  preset: string;
  params: ResolvedParams;
  retrieval: { corpus: CorpusRef; params: IndexParams } | null;
}

/** The prepared retrieval a job searches: the backend, its snapshot, and whether its index was built just now. */
export interface JobRetrieval {
  backend: RetrievalBackend;
  snapshotHash: string;
  built: boolean;
}

/** What the run records about how it was made, and the endpoint this process calls (a worker's). */
export interface JobSettings {
  seed: number;
  producer: { name: string; version: string };
  /** In place of the spec's base URL (which may carry user:password); see endpointOf. */
  endpoint?: string | undefined;
}

/** The llm reasoner's question: its input, the tool results it saw, and the URL to ask. */
export interface ModelQuestion {
  input: ReasonerInput;
  dispatcher: ToolDispatcher;
  baseUrl: string;
}

export interface ProduceJobOptions extends JobSettings {
  /** The store the sealing verifier reads the snapshot and index through. */
  store: StoreReader;
  /** Index rebuilds already seen to agree (not asked when the index was built just now). */
  rebuilds: RebuildRecords;
  /** The question asked (modelQuestion) and the recorded call (none when the reasoner needed none). */
  asked?: { question: ModelQuestion; call: ModelCall | undefined } | undefined;
  onEvent?: (event: TraceEvent) => void;
}

export interface ProducedJob {
  run: ProducedRun;
  reasoner: Pick<Reasoner, "id" | "version">;
  /**
   * The one rule on replacing runs that is about the model: a run whose model call failed (no
   * readable answer: a refusal, a cut-off or empty reply, no JSON) is written when nothing is at
   * its id, but never replaces an earlier run there. This is the error (exit 3) the writer throws
   * instead; null when the run may replace one.
   */
  replaceRefused: CanonError | null;
}

/** The one place a run's parameters are resolved: a corpus given without retrieval, or none with it, is bad input. */
export function planJob(spec: ProblemSpec, preset: string): JobPlan {
  const params = resolveParams(spec, preset);
  const corpus = spec.constraints.corpus;
  if (!params.needs_retrieval) {
    if (corpus !== undefined && parseCorpusRef(corpus).kind === "path")
      throw new InputError("E_SPEC_INVALID", "a corpus is given but needs_retrieval is false", {
        field: "constraints.needs_retrieval",
      });
    return { spec, preset, params, retrieval: null };
  }
  if (corpus === undefined)
    throw new InputError("E_USAGE", "a corpus is required (--corpus PATH)", { field: "corpus" });
  return {
    spec,
    preset,
    params,
    retrieval: { corpus: parseCorpusRef(corpus), params: pickIndexParams(params) },
  };
}

/** The spec naming its snapshot, not the path, so the run id does not depend on where the corpus lives. */
export function pinCorpus(spec: ProblemSpec, snapshotHash: string | null): ProblemSpec {
  if (snapshotHash === null) return spec;
  const pinned = corpusRefString(snapshotRef(snapshotHash));
  return { ...spec, constraints: { ...spec.constraints, corpus: pinned } };
}

/** The spec the run records: pinned, its base URL without the credentials that authenticate the call. */
function recordedSpec(plan: JobPlan, retrieval: JobRetrieval | null): ProblemSpec {
  const spec = pinCorpus(plan.spec, retrieval?.snapshotHash ?? null);
  const baseUrl = spec.constraints.base_url;
  if (baseUrl === undefined) return spec;
  return { ...spec, constraints: { ...spec.constraints, base_url: withoutCredentials(baseUrl) } };
}

/** The URL the model call goes to: the configured endpoint when there is one and the run names it. */
function endpointOf(spec: ProblemSpec, recorded: string, endpoint: string | undefined): string {
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

function common(plan: JobPlan, retrieval: JobRetrieval | null, settings: JobSettings) {
  return {
    preset: plan.preset,
    seed: settings.seed,
    producer: settings.producer,
    provenance: retrieval?.backend.provenance ?? null,
  };
}

/**
 * The llm reasoner's question (null for the extractive one): planned and executed with a
 * reasoner that only looks, so the caller can make the model call, an effect, between retrieval
 * and producing the run from its recording.
 */
export function modelQuestion(
  plan: JobPlan,
  retrieval: JobRetrieval | null,
  settings: JobSettings,
): ModelQuestion | null {
  if (plan.params.llm === null) return null;
  const baseUrl = endpointOf(plan.spec, plan.params.llm.base_url, settings.endpoint);
  const spec = recordedSpec(plan, retrieval);
  const made = common(plan, retrieval, settings);
  const looked = llmInputOf(spec, { ...made, dispatcher: liveTools(retrieval?.backend ?? null) });
  return { ...looked, baseUrl };
}

/**
 * The run, produced and sealed in memory: the spec pinned, planned, executed (the llm reasoner
 * from the recorded call), and verified by the sealing verifier, which trusts an index built
 * just now from its snapshot (its rebuild would give these very bytes).
 */
export function produceJob(
  plan: JobPlan,
  retrieval: JobRetrieval | null,
  options: ProduceJobOptions,
): ProducedJob {
  const reasoner = plan.params.llm === null ? extractiveReasoner : llmReasoner;
  const rebuilds = retrieval?.built ? builtIndexRecords(retrieval.backend.provenance) : options.rebuilds;
  const call = options.asked?.call;
  const spec = recordedSpec(plan, retrieval);
  const made = common(plan, retrieval, options);
  const run = produceRun(spec, {
    ...made,
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    reasoner,
    dispatcher: options.asked?.question.dispatcher ?? liveTools(retrieval?.backend ?? null),
    ...(call === undefined ? {} : { modelCall: call }),
    // Read back as any reader reads a run (the one adapter), then checked by the sealing verifier.
    verify: (files) =>
      verifyParsedRun(
        { files, store: options.store, policy: "audit", stage: "sealing", rebuilds },
        toRunView(files),
      ),
  });
  const failed = call === undefined ? null : failedModelAnswer(call);
  const replaceRefused =
    failed === null
      ? null
      : new CanonError(
          "E_MODEL_ENDPOINT",
          `the model call failed (${failed}): the earlier run with this id is kept, nothing was written`,
          { exitCode: 3 },
        );
  return { run, reasoner: { id: reasoner.id, version: reasoner.version }, replaceRefused };
}
