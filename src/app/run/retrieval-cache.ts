/**
 * A bounded LRU of prepared retrieval backends (a parsed snapshot and its deserialized BM25
 * index), so a long-running process — the HTTP service — answers a warm request without
 * re-reading the snapshot and the index from the store. Keyed by the snapshot hash and every
 * index parameter and limit, i.e. by what the bytes of the index depend on, so a hit is the
 * backend a rebuild would make. A corpus given as a path is snapshotted through the checked
 * corpus-input ref (docs/operations/security-and-safety.md, the store); only then is the prepared backend looked up.
 */
import { canonicalJson } from "../../core/canonical.js";
import { corpusRefString, parseCorpusRef, snapshotRef } from "../../core/corpus/corpus-ref.js";
import type { IndexParams } from "../../core/retrieval/index-params.js";
import type { CorpusLimits } from "../../io/corpus/corpus-reader.js";
import { snapshotCorpus } from "../../io/corpus/corpus-snapshot.js";
import { type PreparedRetrieval, prepareRetrieval } from "../../io/index-cache/index-cache.js";
import { DiskStore } from "../../io/store/content-store.js";
import type { IndexPolicy } from "../store/index-policy.js";
import type { RetrievalSource, SourcedRetrieval } from "./retrieval-source.js";

export interface RetrievalCacheOptions {
  /** Index builds (or loads) at once; more wait their turn. Default 1. */
  maxBuilds?: number;
  /** Which parameter sets may be built per corpus (none: any). */
  policy?: IndexPolicy | undefined;
  /** Collect index shards in worker threads, keeping the event loop free (issue 21, item 3). */
  offThread?: boolean;
}

export class RetrievalCache {
  private readonly entries = new Map<string, { store: DiskStore; prepared: Promise<PreparedRetrieval> }>();
  hits = 0;
  misses = 0;
  private building = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly maxBuilds: number;

  constructor(
    readonly capacity: number,
    private readonly options: RetrievalCacheOptions = {},
  ) {
    this.maxBuilds = Math.max(1, options.maxBuilds ?? 1);
  }

  /** Runs `fn` when fewer than `maxBuilds` builds are running. */
  private async bounded<T>(fn: () => Promise<T>): Promise<T> {
    if (this.building >= this.maxBuilds) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.building++;
    try {
      return await fn();
    } finally {
      this.building--;
      this.waiting.shift()?.();
    }
  }

  get size(): number {
    return this.entries.size;
  }

  stats() {
    return { size: this.size, capacity: this.capacity, hits: this.hits, misses: this.misses };
  }

  /** Index builds (or loads) running now, and waiting for their turn. */
  builds() {
    return { running: this.building, waiting: this.waiting.length, max: this.maxBuilds };
  }

  /** This cache as one request's retrieval source: a miss is read through a fresh store under `artifactsRoot`. */
  source(artifactsRoot: string): RetrievalSource {
    const store = new DiskStore(artifactsRoot);
    return {
      store,
      prepare: ({ corpus, params, limits }) => this.prepare(store, corpusRefString(corpus), params, limits),
    };
  }

  /**
   * The backend for this corpus and these parameters, and the store it was loaded through:
   * that store has already re-hashed the snapshot and the index, so a run sealed with it does
   * not read and hash them again. Bounded with the entry, so the store's cache is too.
   */
  async prepare(
    store: DiskStore,
    corpus: string,
    params: IndexParams,
    limits: CorpusLimits,
  ): Promise<SourcedRetrieval> {
    const ref = parseCorpusRef(corpus);
    const hash = ref.kind === "snapshot" ? ref.hash : (await snapshotCorpus(store, ref.path, limits)).hash;
    const key = canonicalJson({ hash, params, limits });
    const cached = this.entries.get(key);
    if (cached !== undefined) {
      // Most recently used moves to the end of the insertion order.
      this.entries.delete(key);
      this.entries.set(key, cached);
      this.hits++;
      const prepared = await cached.prepared;
      // In use now: a concurrent `gc` must not take what this request's run will pin.
      cached.store.touch(prepared.snapshotHash);
      cached.store.touch(prepared.indexHash);
      return { store: cached.store, prepared };
    }
    // Refused before anything is built or cached (E_INDEX_PARAMS_REFUSED).
    this.options.policy?.admit(store.root, hash, params);
    this.misses++;
    // The promise is cached, so concurrent requests for one index build or load it once.
    const pending = this.bounded(() =>
      prepareRetrieval(store, snapshotRef(hash), params, limits, undefined, {
        offThread: this.options.offThread === true,
      }),
    );
    this.entries.set(key, { store, prepared: pending });
    pending.catch(() => this.entries.delete(key));
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return { store, prepared: await pending };
  }
}
