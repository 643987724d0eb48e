/**
 * src/app/run/retrieval-cache.ts in process against a temporary store: the service's bounded LRU of
 * prepared retrieval backends. A warm request is a hit on the same backend (and marks its
 * snapshot and index used, for gc); concurrent requests for one index build it once; the least
 * recently used entry goes past capacity; builds beyond maxBuilds wait; a failed build is not
 * cached; a set the index policy refuses is refused before anything is built or cached.
 */
import { statSync, utimesSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RetrievalCache } from "../../src/app/run/retrieval-cache.js";
import { IndexPolicy } from "../../src/app/store/index-policy.js";
import { resolveParams } from "../../src/core/plan/planner.js";
import { type IndexParams, pickIndexParams } from "../../src/core/retrieval/index-params.js";
import { DEFAULT_LIMITS } from "../../src/io/corpus/corpus-reader.js";
import { DiskStore } from "../../src/io/store/content-store.js";
import { rejection } from "../helpers/canon-error.js";
import { SMALL_CORPUS } from "../helpers/produce.js";
import { tempDir, writeFiles } from "../helpers/tmp.js";

const DEFAULT: IndexParams = pickIndexParams(
  resolveParams({ version: "1", description: "q", constraints: {} }, "default"),
);
const chunked = (chunk: number): IndexParams => ({ ...DEFAULT, chunk_chars: chunk, overlap_chars: 0 });

function setUp() {
  const root = tempDir();
  const corpus = tempDir();
  writeFiles(corpus, SMALL_CORPUS);
  return { store: new DiskStore(root), corpus };
}

describe("RetrievalCache", () => {
  it("a warm request is a hit on the same backend, by path or by snapshot, and marks its objects used", async () => {
    const { store, corpus } = setUp();
    const cache = new RetrievalCache(4);
    const cold = await cache.prepare(store, corpus, DEFAULT, DEFAULT_LIMITS);
    expect(cache.stats()).toEqual({ size: 1, capacity: 4, hits: 0, misses: 1 });
    const old = new Date(Date.now() - 3 * 3600_000);
    const index = store.objectPath(cold.prepared.indexHash);
    utimesSync(index, old, old);
    const warm = await cache.prepare(store, `sha256:${cold.prepared.snapshotHash}`, DEFAULT, DEFAULT_LIMITS);
    expect(warm.prepared).toBe(cold.prepared);
    expect(warm.store).toBe(cold.store);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
    expect(Date.now() - statSync(index).mtimeMs).toBeLessThan(3600_000);
  });

  it("concurrent requests for one index build it once", async () => {
    const { store, corpus } = setUp();
    const cache = new RetrievalCache(4);
    const all = await Promise.all(
      Array.from({ length: 5 }, () => cache.prepare(store, corpus, DEFAULT, DEFAULT_LIMITS)),
    );
    expect(new Set(all.map((w) => w.prepared)).size).toBe(1);
    expect(cache.stats()).toMatchObject({ size: 1, misses: 1, hits: 4 });
  });

  it("drops the least recently used entry past capacity", async () => {
    const { store, corpus } = setUp();
    const cache = new RetrievalCache(2);
    await cache.prepare(store, corpus, chunked(300), DEFAULT_LIMITS);
    await cache.prepare(store, corpus, chunked(400), DEFAULT_LIMITS);
    await cache.prepare(store, corpus, chunked(300), DEFAULT_LIMITS); // 300 is now the most recent
    await cache.prepare(store, corpus, chunked(500), DEFAULT_LIMITS); // evicts 400
    expect(cache.stats()).toMatchObject({ size: 2, hits: 1, misses: 3 });
    await cache.prepare(store, corpus, chunked(300), DEFAULT_LIMITS);
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 3 });
    await cache.prepare(store, corpus, chunked(400), DEFAULT_LIMITS);
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 4, size: 2 });
  });

  it("runs at most maxBuilds builds at once; the rest wait their turn", async () => {
    const { store, corpus } = setUp();
    const cache = new RetrievalCache(8, { maxBuilds: 1 });
    const { prepared } = await cache.prepare(store, corpus, DEFAULT, DEFAULT_LIMITS);
    // By snapshot, a request reaches the build queue without awaiting anything first.
    const snapshot = `sha256:${prepared.snapshotHash}`;
    const all = [300, 400, 500].map((c) => cache.prepare(store, snapshot, chunked(c), DEFAULT_LIMITS));
    expect(cache.builds()).toEqual({ running: 1, waiting: 2, max: 1 });
    await Promise.all(all);
    expect(cache.builds()).toEqual({ running: 0, waiting: 0, max: 1 });
    expect(cache.stats()).toMatchObject({ size: 4, misses: 4 });
    expect(new RetrievalCache(1, { maxBuilds: 0 }).builds().max).toBe(1);
  });

  it("a failed build is not cached: the next request tries again", async () => {
    const { store } = setUp();
    const cache = new RetrievalCache(4);
    const missing = `sha256:${"e".repeat(64)}`;
    expect((await rejection(cache.prepare(store, missing, DEFAULT, DEFAULT_LIMITS))).code).toBe(
      "E_STORE_MISSING",
    );
    expect(cache.size).toBe(0);
    await rejection(cache.prepare(store, missing, DEFAULT, DEFAULT_LIMITS));
    expect(cache.stats()).toMatchObject({ misses: 2, hits: 0 });
  });

  it("a set the index policy refuses is refused before it is built or cached", async () => {
    const { store, corpus } = setUp();
    const cache = new RetrievalCache(4, { policy: new IndexPolicy({ quota: 1 }) });
    await cache.prepare(store, corpus, DEFAULT, DEFAULT_LIMITS); // a preset's set: always
    await cache.prepare(store, corpus, chunked(300), DEFAULT_LIMITS); // the one counted set
    const refused = await rejection(cache.prepare(store, corpus, chunked(400), DEFAULT_LIMITS));
    expect(refused.code).toBe("E_INDEX_PARAMS_REFUSED");
    expect(cache.stats()).toMatchObject({ size: 2, misses: 2 });
  });
});
