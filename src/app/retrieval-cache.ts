/**
 * A bounded LRU of prepared retrieval backends (a parsed snapshot and its deserialized BM25
 * index), so a long-running process — the HTTP service — answers a warm request without
 * re-reading the snapshot and the index from the store. Keyed by the snapshot hash and every
 * index parameter and limit, i.e. by what the bytes of the index depend on, so a hit is the
 * backend a rebuild would make. A corpus given as a path is snapshotted through the checked
 * corpus-input ref (docs/operations/security-and-safety.md, the store); only then is the prepared backend looked up.
 */
import { canonicalJson } from "../core/canonical.js";
import { parseCorpusRef, snapshotRef } from "../core/corpus/corpus-ref.js";
import type { IndexParams } from "../core/retrieval/index-params.js";
import type { CorpusLimits } from "../io/corpus-reader.js";
import { type PreparedRetrieval, prepareRetrieval, snapshotCorpus } from "../io/retrieval-backend.js";
import type { DiskStore } from "../io/store.js";

export class RetrievalCache {
  private readonly entries = new Map<string, { store: DiskStore; prepared: Promise<PreparedRetrieval> }>();
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  stats() {
    return { size: this.size, capacity: this.capacity, hits: this.hits, misses: this.misses };
  }

  /**
   * The backend for this corpus and these parameters, and the store it was loaded through:
   * that store has already re-hashed the snapshot and the index, so a run sealed with it does
   * not read and hash them again. Bounded with the entry, so the store's cache is too.
   */
  async prepare(store: DiskStore, corpus: string, params: IndexParams, limits: CorpusLimits): Promise<Warm> {
    const ref = parseCorpusRef(corpus);
    const hash = ref.kind === "snapshot" ? ref.hash : (await snapshotCorpus(store, ref.path, limits)).hash;
    const key = canonicalJson({ hash, params, limits });
    const cached = this.entries.get(key);
    if (cached !== undefined) {
      // Most recently used moves to the end of the insertion order.
      this.entries.delete(key);
      this.entries.set(key, cached);
      this.hits++;
      return { store: cached.store, prepared: await cached.prepared };
    }
    this.misses++;
    // The promise is cached, so concurrent requests for one index build or load it once.
    const pending = prepareRetrieval(store, snapshotRef(hash), params, limits);
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

interface Warm {
  store: DiskStore;
  prepared: PreparedRetrieval;
}
