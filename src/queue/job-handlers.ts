/**
 * What a worker does with each kind of job (worker.ts takes the jobs, handles faults, and
 * publishes): a case job answers one eval case with the same `runCase` a local eval uses; a run
 * job makes one run of a spec whose corpus is a snapshot. Both share the worker's prepared
 * snapshots (parsed corpus and index), kept across jobs: a job neither opens a fresh store nor
 * re-hashes its snapshot. A snapshot missing from the local store is fetched from the registry
 * (and re-hashed) once. `recorded` finds a job already done: its record in the registry, whose
 * run still exists there and verifies.
 */
import { dirname } from "node:path";
import { UnrecoverableError } from "bullmq";
import {
  type CaseResult,
  type EvalInput,
  type EvalOptions,
  EvalRetrievals,
  rejectedByEndpoint,
  runCase,
} from "../app/eval/eval.js";
import { type PgRegistry, registryCacheRoot } from "../app/registry.js";
import type { EndpointSettings, Pacer } from "../app/run/model-call.js";
import { runJob } from "../app/run/run-job.js";
import { snapshotHashOf } from "../app/run/run-spec.js";
import { DiskStore } from "../app/store/artifacts.js";
import { verifyRunDirectory } from "../app/verify/verify.js";
import { InputError } from "../core/errors.js";
import { type CaseJobData, type JobData, type JobResult, REJECTED_CASE, type RunJobData } from "./queue.js";

/** How many prepared snapshots a worker keeps (each holds a parsed corpus and its index). */
const RETRIEVALS_KEPT = 4;

/** A computed job: its run (in `artifactsRoot`), the result to record, and the store holding the run's pinned objects. */
export interface ComputedJob {
  runId: string;
  result: JobResult;
  status: string;
  store: DiskStore;
}

export interface JobHandlers {
  compute(data: JobData): Promise<ComputedJob>;
  recorded(jobId: string): Promise<JobResult | null>;
}

export function jobHandlers(options: {
  registry: PgRegistry;
  artifactsRoot: string;
  model: { endpoint: string; settings: EndpointSettings; maxRps: number };
  /** One pace for all the jobs in hand: --max-rps bounds the worker, not each job. */
  pace: Pacer;
}): JobHandlers {
  const root = options.artifactsRoot;
  const store = new DiskStore(root);
  const retrievals = new Map<string, EvalRetrievals>();
  const { endpoint, settings } = options.model;
  const pace = options.pace;

  /** The snapshot in the local store, fetched (and re-hashed) from the registry when missing. */
  const ensureSnapshot = async (hash: string) => {
    if (store.has(hash)) return;
    const bytes = await options.registry.getObject(hash);
    if (bytes === null)
      throw new InputError("E_STORE_MISSING", `the registry holds no corpus snapshot sha256:${hash}`);
    store.put(bytes);
  };

  const retrievalsFor = (snapshot: string, evalOptions: EvalOptions) => {
    let found = retrievals.get(snapshot);
    if (found === undefined) {
      const input: EvalInput = { kind: "suite", name: "queue", corpus: "", cases: [] };
      found = new EvalRetrievals(input, evalOptions, snapshot);
      retrievals.set(snapshot, found);
      for (const key of retrievals.keys()) {
        if (retrievals.size <= RETRIEVALS_KEPT) break;
        retrievals.delete(key);
      }
    }
    return found;
  };

  const runCaseJob = async (data: CaseJobData): Promise<ComputedJob> => {
    await ensureSnapshot(data.snapshot);
    const evalOptions: EvalOptions = {
      artifactsRoot: root,
      preset: data.preset,
      overrides: data.overrides,
      workers: 1,
      model: { settings, maxRps: options.model.maxRps, endpoint },
    };
    const retrievals = retrievalsFor(data.snapshot, evalOptions);
    let result: CaseResult & { run_id: string };
    try {
      result = await runCase(data.case, retrievals, evalOptions, pace);
    } catch (error) {
      // The endpoint rejected this one request (say its context is too long): the case fails
      // for good and the eval goes on; the submitter records it as failed (queue/eval.ts).
      if (rejectedByEndpoint(error)) throw new UnrecoverableError(`${REJECTED_CASE}${error.message}`);
      throw error;
    }
    return { runId: result.run_id, result, status: result.status, store: retrievals.store };
  };

  const runRunJob = async (data: RunJobData): Promise<ComputedJob> => {
    const corpus = data.spec.constraints.corpus;
    let source: EvalRetrievals | undefined;
    if (corpus !== undefined) {
      const hash = snapshotHashOf(corpus);
      if (hash === null)
        throw new InputError("E_USAGE", "a queued run's corpus must be a sha256: snapshot", {
          field: "corpus",
        });
      await ensureSnapshot(hash);
      // The snapshot's parsed corpus and index, prepared once per worker and shared by its run
      // jobs as by its case jobs: a run job does not open a fresh store and re-hash the snapshot.
      source = retrievalsFor(hash, { artifactsRoot: root, preset: data.preset, overrides: {}, workers: 1 });
    }
    const produced = await runJob({
      spec: data.spec,
      preset: data.preset,
      seed: data.seed,
      artifactsRoot: root,
      ...(source === undefined ? {} : { source }),
      model: { settings, pace, endpoint },
    });
    return {
      runId: produced.runId,
      result: { run_id: produced.runId, created: produced.created },
      status: produced.answer.status,
      store: source?.store ?? store,
    };
  };

  /** A recorded result whose run still exists in the registry and verifies: nothing to do. */
  const recorded = async (jobId: string): Promise<JobResult | null> => {
    const record = await options.registry.jobRecord(jobId);
    if (record === null) return null;
    const runDir = await options.registry.materializeRun(record.runId, registryCacheRoot(root));
    if (runDir === null) return null;
    const report = verifyRunDirectory(runDir, { policy: "audit", storeRoot: dirname(dirname(runDir)) });
    return report.verdict === "pass" ? (record.result as JobResult) : null;
  };

  return {
    compute: (data) => (data.kind === "case" ? runCaseJob(data) : runRunJob(data)),
    recorded,
  };
}
