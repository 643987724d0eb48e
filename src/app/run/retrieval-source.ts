/**
 * Where a run's retrieval comes from: a corpus (a path or a pinned `sha256:` snapshot) and index
 * parameters in, the prepared backend and the store it was read through out. `runJob` asks its
 * source and nothing else, so the one-shot CLI run, the service's warm cache (retrieval-cache.ts)
 * and an eval's shared backends (eval-retrievals.ts) differ only in what they keep between runs.
 */
import type { CorpusRef } from "../../core/corpus/corpus-ref.js";
import type { IndexParams } from "../../core/retrieval/index-params.js";
import type { RebuildRecords } from "../../core/verify/pinned-index.js";
import { type CorpusLimits, DEFAULT_LIMITS } from "../../io/corpus/corpus-reader.js";
import { type PreparedRetrieval, type Progress, prepareRetrieval } from "../../io/index-cache/index-cache.js";
import { DiskStore } from "../../io/store/content-store.js";

export type { CorpusLimits } from "../../io/corpus/corpus-reader.js";
export { DEFAULT_LIMITS } from "../../io/corpus/corpus-reader.js";
export type { PreparedRetrieval, Progress } from "../../io/index-cache/index-cache.js";
export type { DiskStore } from "../../io/store/content-store.js";

/** A prepared backend and the store that has re-hashed its snapshot and index (the run seals with it). */
export interface SourcedRetrieval {
  store: DiskStore;
  prepared: PreparedRetrieval;
}

export interface PrepareRequest {
  corpus: CorpusRef;
  params: IndexParams;
  limits: CorpusLimits;
  progress?: Progress | undefined;
  /** Rebuilds seen to agree: a cached index one names loads without its consistency pass. */
  rebuilds?: RebuildRecords | undefined;
}

export interface RetrievalSource {
  /** The store a run without retrieval (or before preparing) reads through. */
  readonly store: DiskStore;
  prepare(request: PrepareRequest): Promise<SourcedRetrieval>;
}

/** The retrieval a planned run needs (core/pipeline/job.ts planJob), from its source; null when it needs none. */
export async function retrievalFor(
  source: RetrievalSource,
  request: Omit<PrepareRequest, "limits" | "progress" | "rebuilds"> | null,
  options: Pick<PrepareRequest, "progress" | "rebuilds"> & { limits?: CorpusLimits | undefined } = {},
): Promise<SourcedRetrieval | null> {
  if (request === null) return null;
  return source.prepare({
    ...request,
    limits: options.limits ?? DEFAULT_LIMITS,
    progress: options.progress,
    rebuilds: options.rebuilds,
  });
}

/** Reads (and builds when missing) the snapshot and index from the store for each run: the CLI's `run`. */
export class OneShotSource implements RetrievalSource {
  private opened: DiskStore | undefined;

  constructor(private readonly artifactsRoot: string) {}

  /** Opened on first use: a run reads through one store, whether it retrieves or not. */
  get store(): DiskStore {
    this.opened ??= new DiskStore(this.artifactsRoot);
    return this.opened;
  }

  async prepare({ corpus, params, limits, progress, rebuilds }: PrepareRequest): Promise<SourcedRetrieval> {
    const store = this.store;
    return {
      store,
      prepared: await prepareRetrieval(
        store,
        corpus,
        params,
        limits ?? DEFAULT_LIMITS,
        progress,
        rebuilds === undefined ? {} : { rebuilds },
      ),
    };
  }
}
