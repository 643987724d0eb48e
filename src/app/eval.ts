/**
 * Evaluation runs (SPEC §7): every case is a real run, written like any other; metrics are
 * computed from the suite's judgments. Cases may run in worker threads; results are ordered
 * by case and contain nothing time-dependent, so any worker count gives identical cases.jsonl.
 */
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { canonicalJson } from "../core/canonical.js";
import {
  answerHit,
  citationPrecision,
  documentRanking,
  mean,
  mrrAt,
  ndcgAt,
  rationalePrecision,
  recallAt,
} from "../core/eval/metrics.js";
import type { ProblemSpec } from "../core/models/spec.js";
import { indexParamsOf, resolveParams } from "../core/plan/planner.js";
import { DEFAULT_LIMITS } from "../io/corpus-reader.js";
import type { EvalCase, EvalInput } from "../io/eval-input.js";
import { type PreparedRetrieval, type Progress, prepareRetrieval } from "../io/retrieval-backend.js";
import { DiskStore } from "../io/store.js";
import { runJob } from "./run-job.js";

/** Ranking depth for Recall@100: documents, each ranked by its best chunk among the top chunks. */
const DOC_DEPTH = 100;
const CHUNK_DEPTH = 1000;

export interface EvalOptions {
  artifactsRoot: string;
  preset: string;
  /** Constraints that override the suite's and each case's (e.g. --top-k, --analyzer). */
  overrides: ProblemSpec["constraints"];
  workers: number;
  progress?: Progress;
}

export interface CaseResult {
  case_id: string;
  run_id: string;
  status: "answered" | "insufficient_evidence";
  verdict: "pass" | "fail";
  retrieved: string[];
  cited: string[];
  metrics: Record<string, number | null>;
}

function specOf(c: EvalCase, snapshot: string, overrides: ProblemSpec["constraints"]): ProblemSpec {
  return {
    version: "1",
    description: c.description,
    constraints: { ...c.constraints, ...overrides, corpus: `sha256:${snapshot}` },
  };
}

export async function prepareEval(input: EvalInput, options: EvalOptions): Promise<PreparedRetrieval> {
  const first = input.cases[0] as EvalCase;
  const params = resolveParams(specOf(first, "0".repeat(64), options.overrides), options.preset);
  return prepareRetrieval(
    new DiskStore(options.artifactsRoot),
    input.corpus,
    indexParamsOf(params),
    DEFAULT_LIMITS,
  );
}

/** Runs one case as a real run and scores it. Pure apart from the run it writes. */
export async function runCase(
  c: EvalCase,
  prepared: PreparedRetrieval,
  options: EvalOptions,
): Promise<CaseResult> {
  const spec = specOf(c, prepared.snapshotHash, options.overrides);
  // A case with its own index parameters gets its own index; the shared one would refuse the call.
  const own = canonicalJson(indexParamsOf(resolveParams(spec, options.preset)));
  const p = prepared.backend.provenance;
  const shared = canonicalJson({
    analyzer: p.analyzer.name,
    bm25_k1: p.k1,
    bm25_b: p.b,
    chunk_chars: p.chunk_chars,
    overlap_chars: p.overlap_chars,
  });
  const result = await runJob({
    spec,
    preset: options.preset,
    seed: 0,
    artifactsRoot: options.artifactsRoot,
    ...(own === shared ? { prepared } : {}),
  });
  const query = spec.constraints.query ?? spec.description;
  const ranked = documentRanking(
    prepared.backend.index.search(query, CHUNK_DEPTH).map((h) => h.docId),
    DOC_DEPTH,
  );
  const cited = result.answer.claims.flatMap((claim) => claim.citations.map((q) => q.doc_id));
  const relevant = c.expected.relevant ?? {};
  return {
    case_id: c.case_id,
    run_id: result.runId,
    status: result.answer.status,
    verdict: result.report.verdict,
    retrieved: ranked.slice(0, 10),
    cited,
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
      insufficient: result.answer.status === "insufficient_evidence" ? 1 : 0,
      verification_pass: result.report.verdict === "pass" ? 1 : 0,
    },
  };
}

export function summarize(
  input: EvalInput,
  cases: readonly CaseResult[],
  options: EvalOptions,
  seconds: number,
) {
  const m = (key: string) => mean(cases.map((c) => c.metrics[key] ?? null));
  return {
    suite: input.name,
    kind: input.kind,
    cases: cases.length,
    config: { preset: options.preset, overrides: options.overrides },
    metrics: {
      ndcg_at_10: m("ndcg_at_10"),
      recall_at_100: m("recall_at_100"),
      mrr_at_10: m("mrr_at_10"),
      citation_precision: m("citation_precision"),
      rationale_precision: m("rationale_precision"),
      answer_hit_rate: m("answer_hit"),
      insufficiency_rate: m("insufficient"),
      verification_pass_rate: m("verification_pass"),
    },
    // Time is real but volatile: it is reported, never gated, never part of cases.jsonl.
    volatile: {
      seconds: Math.round(seconds * 1000) / 1000,
      run_time_ms_per_case:
        cases.length === 0 ? null : Math.round((seconds * 1000 * 100) / cases.length) / 100,
      workers: options.workers,
    },
  };
}

export async function runEval(input: EvalInput, options: EvalOptions) {
  const started = performance.now();
  const prepared = await prepareEval(input, options);
  const results: CaseResult[] = new Array(input.cases.length);
  options.progress?.start("cases", input.cases.length);
  let done = 0;
  const tick = () => options.progress?.update(++done);
  if (options.workers <= 1) {
    for (const [i, c] of input.cases.entries()) {
      results[i] = await runCase(c, prepared, options);
      tick();
    }
  } else {
    // Cases are dealt round-robin; each worker loads the cached index from the store itself.
    const shards = Array.from({ length: options.workers }, (_, w) =>
      input.cases.map((c, i) => ({ c, i })).filter(({ i }) => i % options.workers === w),
    );
    await Promise.all(
      shards.map(
        (shard) =>
          new Promise<void>((resolveShard, reject) => {
            const worker = new Worker(new URL("./eval-worker.js", import.meta.url), {
              workerData: {
                input: { ...input, cases: shard.map((s) => s.c) },
                indices: shard.map((s) => s.i),
                options: { ...options, progress: undefined },
              },
            });
            worker.on("message", (m: { index: number; result: CaseResult }) => {
              results[m.index] = m.result;
              tick();
            });
            worker.on("error", reject);
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
    summary: summarize(input, results, options, (performance.now() - started) / 1000),
  };
}
