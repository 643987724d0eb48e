/**
 * The retrieval of one eval (docs/design.md §7): its options, the spec each case runs, and the
 * backends its cases share (one per worker thread), handed to runJob as its retrieval source.
 */
import { canonicalJson } from "../../core/canonical.js";
import { corpusRefString, parseCorpusRef, snapshotRef } from "../../core/corpus/corpus-ref.js";
import type { ProblemSpec } from "../../core/models/spec.js";
import type { IndexParams } from "../../core/retrieval/index-params.js";
import { DEFAULT_LIMITS } from "../../io/corpus/corpus-reader.js";
import type { EvalCase, EvalInput } from "../../io/eval/eval-input.js";
import { type PreparedRetrieval, type Progress, prepareRetrieval } from "../../io/index-cache/index-cache.js";
import type { EndpointSettings } from "../../io/model/llm-endpoint.js";
import { DiskStore } from "../../io/store/content-store.js";
import type { PrepareRequest, RetrievalSource, SourcedRetrieval } from "../run/retrieval-source.js";
import { indexParamsOf } from "../run/run-spec.js";

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

/** The spec a case runs: its constraints, the command's overrides, the corpus pinned to the snapshot. */
export function specOf(c: EvalCase, snapshot: string, overrides: ProblemSpec["constraints"]): ProblemSpec {
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
export class EvalRetrievals implements RetrievalSource {
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
    return (await this.get(indexParamsOf(spec, this.options.preset))).snapshotHash;
  }

  /** As runJob's source: this eval's snapshot from its shared backends, any other corpus read through its store. */
  async prepare({ corpus, params, limits, progress }: PrepareRequest): Promise<SourcedRetrieval> {
    const own = corpus.kind === "snapshot" && corpus.hash === this.snapshot;
    return {
      store: this.store,
      prepared: own
        ? await this.get(params)
        : await prepareRetrieval(this.store, corpus, params, limits, progress),
    };
  }
}
