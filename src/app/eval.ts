/**
 * Evaluation runs (docs/design.md §7): every case is a real run, written like any other; metrics are
 * computed from the suite's judgments. Cases may run in worker threads; results are ordered
 * by case and contain nothing time-dependent, so any worker count gives identical cases.jsonl
 * and summary.json. Wall time and topology go to timings.json, which nothing compares.
 */

import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import * as z from "zod";
import { canonicalJson } from "../core/canonical.js";
import { corpusRefString, parseCorpusRef, snapshotRef } from "../core/corpus/corpus-ref.js";
import { CanonError, type ErrorCode, type ErrorLocation, InputError } from "../core/errors.js";
import {
  answerHit,
  auroc,
  citationPrecision,
  expectedCalibrationError,
  type Judged,
  mean,
  mrrAt,
  ndcgAt,
  rationalePrecision,
  recallAt,
  reliabilityTable,
  riskCoverage,
  riskCoverageArea,
} from "../core/eval/metrics.js";
import { Constraints, type ProblemSpec } from "../core/models/spec.js";
import type { Trace } from "../core/models/trace.js";
import { resolveParams } from "../core/plan/planner.js";
import { withoutCredentials } from "../core/reason/llm.js";
import { type IndexParams, pickIndexParams } from "../core/retrieval/index-params.js";
import { zodToInputError } from "../core/zod-errors.js";
import { DEFAULT_LIMITS } from "../io/corpus/corpus-reader.js";
import type { EvalCase, EvalInput } from "../io/eval/eval-input.js";
import { EVAL_FILES, prepareEvalOutputFolder, publishEvalOutput } from "../io/eval/eval-output.js";
import { type PreparedRetrieval, type Progress, prepareRetrieval } from "../io/index-cache/index-cache.js";
import { type EndpointSettings, ModelEndpointError, type Pacer, pacer } from "../io/model/llm-endpoint.js";
import { atArtifacts, prepareArtifactsDir } from "../io/store/artifacts.js";
import { DiskStore } from "../io/store/content-store.js";
import { runJob } from "./run-job.js";

/** Ranking depth for Recall@100: documents, each ranked by its best chunk. */
const DOC_DEPTH = 100;

export interface EvalOptions {
  artifactsRoot: string;
  preset: string;
  /** Constraints that override the suite's and each case's (e.g. --top-k, --analyzer). */
  overrides: ProblemSpec["constraints"];
  workers: number;
  progress?: Progress;
  /**
   * The llm reasoner's endpoint settings and request-rate bound (requests per second over the
   * whole eval, split evenly among the workers; 0 for none). Plain data: it crosses to workers.
   * `endpoint`: a queue worker's own endpoint, called in place of the cases' base URL (see runJob).
   */
  model?: { settings: EndpointSettings; maxRps: number; endpoint?: string };
}

export interface CaseResult {
  case_id: string;
  /** Null for a failed case: its model call was rejected, so no run was made. */
  run_id: string | null;
  /** "failed": the endpoint rejected this case's request (see runCaseOrFailure); `error` says why. */
  status: "answered" | "insufficient_evidence" | "failed";
  verdict: "pass" | "fail";
  retrieved: string[];
  cited: string[];
  /** Whether the suite expects an answer (`expected.answerable`, true unless said otherwise). */
  answerable: boolean;
  /** The claim's confidence, or the best candidate's when the answer was insufficient (0 without one). */
  confidence: number;
  metrics: Record<string, number | null>;
  /** Why the case failed (status "failed" only). */
  error?: string;
}

const CASE_METRICS = [
  "ndcg_at_10",
  "recall_at_100",
  "mrr_at_10",
  "citation_precision",
  "rationale_precision",
  "answer_hit",
  "insufficient",
  "unanswerable_insufficient",
  "answerable_answered",
  "verification_pass",
] as const;

/**
 * Runs one case; when the endpoint rejects that case's request (HTTP 400, 413, 422: say its
 * context is too long), the case is recorded as failed with the reason and the eval goes on.
 * Nothing of the case is written (the call fails before its run is). Every other failure (the
 * endpoint unreachable, refusing the key, failing 5xx after retries) still ends the eval: it
 * would fail every case alike.
 */
export async function runCaseOrFailure(
  c: EvalCase,
  retrievals: EvalRetrievals,
  options: EvalOptions,
  pace?: Pacer,
): Promise<CaseResult> {
  try {
    return await runCase(c, retrievals, options, pace);
  } catch (error) {
    if (!rejectedByEndpoint(error)) throw error;
    return failedCase(c, error.message);
  }
}

/** Whether the endpoint rejected this one request as such (HTTP 400, 413, 422): the case fails, the eval goes on. */
export function rejectedByEndpoint(error: unknown): error is ModelEndpointError {
  return error instanceof ModelEndpointError && error.rejected !== undefined;
}

/** The result of a case whose model call the endpoint rejected: counted, never measured. */
export function failedCase(c: Pick<EvalCase, "case_id" | "expected">, error: string): CaseResult {
  return {
    case_id: c.case_id,
    run_id: null,
    status: "failed",
    verdict: "fail",
    retrieved: [],
    cited: [],
    answerable: c.expected.answerable !== false,
    confidence: 0,
    // Not measured: a failed case is counted (summary.failed_cases), never averaged in.
    metrics: Object.fromEntries(CASE_METRICS.map((k) => [k, null])),
    error,
  };
}

/** The confidence a run reports: its claim's, else the one its derive step judged insufficient. */
function confidenceOf(result: {
  answer: { claims: ReadonlyArray<{ confidence: number }> };
  trace: Trace;
}): number {
  const claim = result.answer.claims[0];
  if (claim !== undefined) return claim.confidence;
  for (const e of result.trace.events)
    if (e.type === "step_finished" && e.output.type === "insufficient_evidence")
      return e.output.confidence ?? 0;
  return 0;
}

function specOf(c: EvalCase, snapshot: string, overrides: ProblemSpec["constraints"]): ProblemSpec {
  return {
    version: "1",
    description: c.description,
    constraints: { ...c.constraints, ...overrides, corpus: corpusRefString(snapshotRef(snapshot)) },
  };
}

/**
 * The retrieval backends of one eval (one per worker thread), keyed by index parameters. Cases
 * normally share one index, loaded from the store once; a case that sets its own index
 * parameters gets its own, so its run and its ranking metrics use the same index.
 */
export class EvalRetrievals {
  private readonly byParams = new Map<string, Promise<PreparedRetrieval>>();
  private snapshot: string | null;
  /**
   * One store for every case: it keeps the objects it has read and re-hashed, so each case's
   * sealing verifier reuses the snapshot and index bytes (and the index parsed from them)
   * instead of reading, hashing and checking 15 MB again per case.
   */
  readonly store: DiskStore;

  /** `snapshot`: the corpus snapshot hash when already known (workers), so the corpus is not re-read. */
  constructor(
    private readonly input: EvalInput,
    private readonly options: EvalOptions,
    snapshot: string | null = null,
  ) {
    this.snapshot = snapshot;
    this.store = new DiskStore(options.artifactsRoot);
  }

  /** The backend for these index parameters; the first call snapshots the corpus, later ones reuse it. */
  async get(params: IndexParams): Promise<PreparedRetrieval> {
    const key = canonicalJson(params);
    let prepared = this.byParams.get(key);
    if (prepared === undefined) {
      const corpus = this.snapshot === null ? parseCorpusRef(this.input.corpus) : snapshotRef(this.snapshot);
      // Only the first index (built before the cases start) may show progress: a later one
      // would take over the cases' progress bar.
      const progress = this.byParams.size === 0 ? this.options.progress : undefined;
      prepared = prepareRetrieval(this.store, corpus, params, DEFAULT_LIMITS, progress);
      this.byParams.set(key, prepared);
    }
    const ready = await prepared;
    this.snapshot = ready.snapshotHash;
    return ready;
  }

  /** The corpus snapshot hash, preparing the index of the first case if nothing is prepared yet. */
  async snapshotHash(): Promise<string> {
    if (this.snapshot !== null) return this.snapshot;
    const first = this.input.cases[0] as EvalCase;
    const spec = specOf(first, "0".repeat(64), this.options.overrides);
    return (await this.get(pickIndexParams(resolveParams(spec, this.options.preset)))).snapshotHash;
  }
}

/** The overrides as the summary records them: a base URL without user:password. */
function publicOverrides(overrides: ProblemSpec["constraints"]): ProblemSpec["constraints"] {
  return overrides.base_url === undefined
    ? overrides
    : { ...overrides, base_url: withoutCredentials(overrides.base_url) };
}

/** Runs one case as a real run and scores it. Pure apart from the run it writes. */
export async function runCase(
  c: EvalCase,
  retrievals: EvalRetrievals,
  options: EvalOptions,
  pace?: Pacer,
): Promise<CaseResult & { run_id: string }> {
  const spec = specOf(c, await retrievals.snapshotHash(), options.overrides);
  const prepared = await retrievals.get(pickIndexParams(resolveParams(spec, options.preset)));
  const result = await runJob({
    spec,
    preset: options.preset,
    seed: 0,
    artifactsRoot: options.artifactsRoot,
    prepared,
    store: retrievals.store,
    ...(options.model === undefined
      ? {}
      : {
          model: {
            settings: options.model.settings,
            ...(pace === undefined ? {} : { pace }),
            ...(options.model.endpoint === undefined ? {} : { endpoint: options.model.endpoint }),
          },
        }),
  });
  const query = spec.constraints.query ?? spec.description;
  // Separate from the run, which only retrieves top_k chunks: the same index and query, to depth
  // 100 documents, each ranked by its best chunk (what rankDocuments takes from a deep enough chunk ranking).
  const index = prepared.backend.index;
  const ranked = index.searchDocuments(query, DOC_DEPTH).map((h) => h.docId);
  const cited = result.answer.claims.flatMap((claim) => claim.citations.map((q) => q.doc_id));
  const relevant = c.expected.relevant ?? {};
  const answerable = c.expected.answerable !== false;
  const insufficient = result.answer.status === "insufficient_evidence";
  const confidence = confidenceOf(result);
  return {
    case_id: c.case_id,
    run_id: result.runId,
    status: result.answer.status,
    verdict: result.report.verdict,
    retrieved: ranked.slice(0, 10),
    cited,
    answerable,
    confidence,
    metrics: {
      ndcg_at_10: ndcgAt(ranked, relevant, 10),
      recall_at_100: recallAt(ranked, relevant, 100),
      mrr_at_10: mrrAt(ranked, relevant, 10),
      citation_precision: citationPrecision(cited, relevant),
      rationale_precision: rationalePrecision(
        result.answer.claims.flatMap((claim) => claim.citations),
        c.rationales,
      ),
      answer_hit: answerHit(result.answer.answer, c.expected.answer_contains),
      insufficient: insufficient ? 1 : 0,
      unanswerable_insufficient: answerable ? null : insufficient ? 1 : 0,
      answerable_answered: answerable ? (insufficient ? 0 : 1) : null,
      verification_pass: result.report.verdict === "pass" ? 1 : 0,
      correct: correctness(answerable, insufficient, confidence, cited, relevant),
    },
  };
}

/**
 * Whether the case's best answer was right, for calibration: an answer citing a relevant
 * document first is right; any answer to an unanswerable case, and a case with no candidate at
 * all, is not. An answerable case declined with a candidate is unknown (null), since the
 * candidate's document is not an answer: run the eval with `--min-confidence 0` to judge every
 * case. Cases without judgments are unknown too.
 */
function correctness(
  answerable: boolean,
  insufficient: boolean,
  confidence: number,
  cited: readonly string[],
  relevant: Readonly<Record<string, number>>,
): number | null {
  if (!answerable) return 0;
  if (insufficient) return confidence === 0 ? 0 : null;
  if (!Object.values(relevant).some((g) => g > 0)) return null;
  return (relevant[cited[0] ?? ""] ?? 0) > 0 ? 1 : 0;
}

/** The judged cases (correct known), in suite order. */
function judged(cases: readonly CaseResult[]): Judged[] {
  return cases.flatMap((c) => {
    const correct = c.metrics.correct;
    return correct === 0 || correct === 1 ? [{ confidence: c.confidence, correct }] : [];
  });
}

/** Thresholds the summary's risk–coverage table is given at: 0.05 to 0.95, and 0. */
const CURVE_THRESHOLDS = [0, ...Array.from({ length: 19 }, (_, i) => (i + 1) / 20)];

/**
 * Calibration of the judged cases: the reliability table (10 bins) and the risk–coverage curve
 * at fixed thresholds (what answering only cases at or above each confidence would cover, and
 * how many of those answers would be wrong).
 */
export function calibrationOf(cases: readonly CaseResult[]) {
  const js = judged(cases);
  const curve = riskCoverage(js);
  return {
    judged_cases: js.length,
    reliability: reliabilityTable(js),
    risk_coverage: CURVE_THRESHOLDS.map((t) => {
      const p = curve.filter((q) => q.threshold >= t).at(-1);
      return { threshold: t, coverage: p?.coverage ?? 0, risk: p?.risk ?? null };
    }),
  };
}

/**
 * summary.json: what the suite, preset and overrides determine, and nothing else. The worker
 * count and the queue are left out on purpose (they change how long an eval takes, never its
 * results), so a local and a distributed eval of one suite write the same bytes.
 */
export function summarize(input: EvalInput, cases: readonly CaseResult[], options: EvalOptions) {
  const m = (key: string) => mean(cases.map((c) => c.metrics[key] ?? null));
  return {
    suite: input.name,
    kind: input.kind,
    cases: cases.length,
    /** Cases whose model call the endpoint rejected: no run, no metrics, listed in cases.jsonl. */
    failed_cases: cases.filter((c) => c.status === "failed").length,
    config: { preset: options.preset, overrides: publicOverrides(options.overrides) },
    metrics: {
      ndcg_at_10: m("ndcg_at_10"),
      recall_at_100: m("recall_at_100"),
      mrr_at_10: m("mrr_at_10"),
      citation_precision: m("citation_precision"),
      rationale_precision: m("rationale_precision"),
      answer_hit_rate: m("answer_hit"),
      insufficiency_rate: m("insufficient"),
      /** Share of cases marked `answerable: false` answered "insufficient evidence". */
      unanswerable_insufficient_rate: m("unanswerable_insufficient"),
      /** Share of the other (answerable) cases that were answered. */
      answerable_answered_rate: m("answerable_answered"),
      /** How well confidence separates answerable from unanswerable cases (0.5 = not at all). */
      confidence_auroc: (() => {
        // A failed case has no confidence of its own (no run): it is counted, never scored.
        const scored = cases.filter((c) => c.status !== "failed");
        const value = auroc(scored.map((c) => ({ answerable: c.answerable, confidence: c.confidence })));
        return { mean: value, cases: value === null ? 0 : scored.length };
      })(),
      verification_pass_rate: m("verification_pass"),
      /** Share of judged cases whose best answer was right (see `correct`). */
      judged_accuracy: m("correct"),
      /** Expected calibration error of confidence against `correct` (10 bins; lower is better). */
      calibration_ece: (() => {
        const js = judged(cases);
        return { mean: expectedCalibrationError(js), cases: js.length };
      })(),
      /** Area under the risk–coverage curve (lower is better). */
      risk_coverage_area: (() => {
        const js = judged(cases);
        return { mean: riskCoverageArea(js), cases: js.length };
      })(),
    },
    calibration: calibrationOf(cases),
  };
}

export type EvalSummary = ReturnType<typeof summarize>;

/** Where the cases ran: worker threads of this process, or workers behind a queue. */
export type EvalTopology = { workers: number } | { queue: true };

/** timings.json: time is real but volatile; it is reported, never gated, never compared. */
export function evalTimings(cases: number, seconds: number, topology: EvalTopology) {
  return {
    seconds: Math.round(seconds * 1000) / 1000,
    run_time_ms_per_case: cases === 0 ? null : Math.round((seconds * 1000 * 100) / cases) / 100,
    workers: "workers" in topology ? topology.workers : null,
    queue: "queue" in topology,
  };
}

export type EvalTimings = ReturnType<typeof evalTimings>;

/** What an eval produces: its cases in suite order, summary.json and timings.json. */
export interface EvalOutcome {
  cases: CaseResult[];
  summary: EvalSummary;
  timings: EvalTimings;
}

/**
 * Resolves every case's parameters before any run is written, so clashing constraints (say a
 * case's overlap_chars against --chunk-chars) are bad input naming the case, not a failure
 * half-way through (docs/design.md §9).
 */
/** Overrides come from flags: held to the schema of a spec's constraints, named as such. */
const Overrides = z.strictObject({ constraints: Constraints });

export function checkCases(input: EvalInput, options: EvalOptions): void {
  const overrides = Overrides.safeParse({ constraints: options.overrides });
  if (!overrides.success) throw zodToInputError(overrides.error, "E_USAGE", "<command line>");
  for (const c of input.cases) {
    try {
      resolveParams(specOf(c, "0".repeat(64), options.overrides), options.preset);
    } catch (error) {
      // Only a clash of constraints is the case's fault; a bad --preset is the command's.
      if (!(error instanceof InputError) || !error.where.field?.startsWith("constraints.")) throw error;
      throw new InputError(
        error.code,
        `case ${JSON.stringify(c.case_id)}: ${error.message}`,
        { ...c.where, ...(error.where.field === undefined ? {} : { field: error.where.field }) },
        error,
      );
    }
  }
}

/** A worker's failure, rebuilt in the parent with its code and exit status (bad input stays exit 2). */
function workerFailure(error: unknown): Error {
  if (typeof error === "object" && error !== null && "canon" in error) {
    const { code, message, exitCode, where } = (error as { canon: WorkerFailure }).canon;
    return new CanonError(code, message, { exitCode, where });
  }
  return error instanceof Error ? error : new Error(String(error));
}

export interface WorkerFailure {
  code: ErrorCode;
  message: string;
  exitCode: 1 | 2 | 3;
  where: ErrorLocation;
}

export async function runEval(input: EvalInput, options: EvalOptions): Promise<EvalOutcome> {
  const started = performance.now();
  checkCases(input, options);
  prepareArtifactsDir(options.artifactsRoot);
  return atArtifacts(options.artifactsRoot, () => runEvalIn(input, options, started));
}

async function runEvalIn(input: EvalInput, options: EvalOptions, started: number): Promise<EvalOutcome> {
  // Built (or loaded) here once, before any worker starts, so workers only ever load it.
  const retrievals = new EvalRetrievals(input, options);
  const snapshot = await retrievals.snapshotHash();
  const results: CaseResult[] = new Array(input.cases.length);
  options.progress?.start("cases", input.cases.length);
  let done = 0;
  const tick = () => options.progress?.update(++done);
  if (options.workers <= 1) {
    const pace = pacer(options.model?.maxRps ?? 0);
    for (const [i, c] of input.cases.entries()) {
      results[i] = await runCaseOrFailure(c, retrievals, options, pace);
      tick();
    }
  } else {
    // Cases are dealt round-robin; each worker loads the cached index from the store itself.
    const shards = Array.from({ length: Math.min(options.workers, input.cases.length) }, (_, w) =>
      input.cases.map((c, i) => ({ c, i })).filter(({ i }) => i % options.workers === w),
    );
    await Promise.all(
      shards.map(
        (shard) =>
          new Promise<void>((resolveShard, reject) => {
            const worker = new Worker(new URL("./eval-case-thread.js", import.meta.url), {
              workerData: {
                input: { ...input, cases: shard.map((s) => s.c) },
                indices: shard.map((s) => s.i),
                snapshot,
                options: { ...options, progress: undefined },
                // Each worker paces its own requests at its share of the bound.
                maxRps: (options.model?.maxRps ?? 0) / shards.length,
              },
            });
            worker.on("message", (m: { index: number; result: CaseResult } | { canon: WorkerFailure }) => {
              if ("canon" in m) return reject(workerFailure(m));
              results[m.index] = m.result;
              tick();
            });
            worker.on("error", (error) => reject(workerFailure(error)));
            worker.on("exit", (code) =>
              code === 0 ? resolveShard() : reject(new Error(`eval worker exited with code ${code}`)),
            );
          }),
      ),
    );
  }
  options.progress?.stop();
  return {
    cases: results,
    summary: summarize(input, results, options),
    timings: evalTimings(results.length, (performance.now() - started) / 1000, { workers: options.workers }),
  };
}

/**
 * Checks the output folder before any case runs: a file in the way of --out, or a folder
 * holding something else than eval output, is found at once (see prepareEvalOutputFolder).
 */
export function prepareEvalOutput(out: string): void {
  prepareEvalOutputFolder(out);
}

/**
 * Writes cases.jsonl (canonical JSON, one case per line), summary.json and timings.json, and
 * publishes them together with one rename of a staging folder (see publishEvalOutput).
 */
export function writeEvalOutput(out: string, outcome: EvalOutcome): void {
  publishEvalOutput(out, {
    [EVAL_FILES.cases]: outcome.cases.map((c) => `${canonicalJson(c)}\n`).join(""),
    [EVAL_FILES.summary]: `${JSON.stringify(outcome.summary, null, 2)}\n`,
    [EVAL_FILES.timings]: `${JSON.stringify(outcome.timings, null, 2)}\n`,
  });
}
