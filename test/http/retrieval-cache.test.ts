/** The warm-run LRU: bounded, most recently used kept, one load for concurrent requests. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RetrievalCache } from "../../src/app/run/retrieval-cache.js";
import { PRESETS } from "../../src/core/plan/planner.js";
import type { IndexParams } from "../../src/core/retrieval/index-params.js";
import { DEFAULT_LIMITS } from "../../src/io/corpus/corpus-reader.js";
import { DiskStore } from "../../src/io/store/content-store.js";
import { DEMO_ROOT } from "../helpers/http.js";
import { tempDir } from "../helpers/tmp.js";

const base = PRESETS.default as unknown as IndexParams;
const params = (chunk_chars: number): IndexParams => ({
  analyzer: base.analyzer,
  bm25_k1: base.bm25_k1,
  bm25_b: base.bm25_b,
  chunk_chars,
  overlap_chars: 0,
  index_titles: base.index_titles,
});

describe("RetrievalCache", () => {
  it("keeps at most `capacity` backends, evicting the least recently used", async () => {
    const store = new DiskStore(tempDir());
    const corpus = join(DEMO_ROOT, "corpus");
    const cache = new RetrievalCache(2);
    const [a] = await Promise.all([
      cache.prepare(store, corpus, params(300), DEFAULT_LIMITS),
      cache.prepare(store, corpus, params(300), DEFAULT_LIMITS),
    ]);
    expect(cache.stats()).toMatchObject({ size: 1, hits: 1, misses: 1 });
    await cache.prepare(store, corpus, params(400), DEFAULT_LIMITS);
    // Touch 300, so 400 is the least recently used when 500 arrives.
    const again = await cache.prepare(
      store,
      `sha256:${a.prepared.snapshotHash}`,
      params(300),
      DEFAULT_LIMITS,
    );
    expect(again.prepared).toBe(a.prepared);
    await cache.prepare(store, corpus, params(500), DEFAULT_LIMITS);
    expect(cache.size).toBe(2);
    await cache.prepare(store, corpus, params(300), DEFAULT_LIMITS);
    expect(cache.stats()).toMatchObject({ hits: 3, misses: 3 });
    await cache.prepare(store, corpus, params(400), DEFAULT_LIMITS);
    expect(cache.stats()).toMatchObject({ size: 2, misses: 4 });
  });
});
