/**
 * A build split into shards (what worker threads collect) merges into the same bytes as the
 * single-thread build, wherever the documents are cut.
 */
import { describe, expect, it } from "vitest";
import { CanonError } from "../../../src/core/errors.js";
import {
  buildIndex,
  collectShard,
  type IndexDocument,
  mergeShards,
  validateBm25Params,
} from "../../../src/core/retrieval/bm25/bm25-build.js";
import { serializeIndex } from "../../../src/core/retrieval/bm25/bm25-format.js";
import { type Bm25Params, impactOf, lengthNorm } from "../../../src/core/retrieval/bm25/bm25-index.js";

const PARAMS: Bm25Params = {
  k1: 1.2,
  b: 0.75,
  chunkChars: 60,
  overlapChars: 15,
  analyzer: "english",
  titles: true,
};

const DOCS: IndexDocument[] = Array.from({ length: 40 }, (_, d) => ({
  docId: `doc-${(d * 7) % 40}`,
  ...(d % 4 === 0 ? {} : { title: `Title ${d % 5} Ünïcode` }),
  text: Array.from({ length: 5 + ((d * 13) % 40) }, (_, i) => `word${(i * d) % 53} tide${d % 9}`).join(" "),
}));

describe("shards merge into the single-thread index", () => {
  it("gives the same bytes for every split into two and three shards, empty shards included", () => {
    const single = Buffer.from(serializeIndex(buildIndex(DOCS, PARAMS)));
    for (let cut = 0; cut <= DOCS.length; cut += 3) {
      const two = mergeShards(
        [collectShard(DOCS.slice(0, cut), PARAMS), collectShard(DOCS.slice(cut), PARAMS)],
        PARAMS,
      );
      expect(Buffer.from(serializeIndex(two)).equals(single)).toBe(true);
      const mid = Math.floor((cut + DOCS.length) / 2);
      const three = mergeShards(
        [DOCS.slice(0, cut), DOCS.slice(cut, mid), DOCS.slice(mid)].map((docs) => collectShard(docs, PARAMS)),
        PARAMS,
      );
      expect(Buffer.from(serializeIndex(three)).equals(single)).toBe(true);
    }
  });

  it("keeps a term frequency of 65,535 and more exactly, in one shard or several", () => {
    // Postings store frequencies in 16 bits, with the rare larger one kept aside.
    const big = { ...PARAMS, chunkChars: 1_000_000, overlapChars: 0, titles: false };
    const docs: IndexDocument[] = [
      { docId: "small", text: "zeta eta theta" },
      { docId: "huge", text: `${"zeta ".repeat(70_000)}eta ${"theta ".repeat(65_535)}` },
      { docId: "after", text: "zeta theta" },
    ];
    const index = buildIndex(docs, big);
    const a = index.arrays;
    const impact = (term: string, chunk: number): number => {
      const t = index.termId(term);
      for (let p = a.termOffsets[t] as number; p < (a.termOffsets[t + 1] as number); p++)
        if (a.postChunk[p] === chunk) return a.postImpact[p] as number;
      throw new Error(`${term} has no posting in chunk ${chunk}`);
    };
    const norm = lengthNorm(big.k1, big.b, a.chunkLen?.[1] as number, index.stats.avgChunkLen);
    expect(a.chunkLen?.[1]).toBe(70_000 + 1 + 65_535);
    expect(impact("zeta", 1)).toBe(Math.fround(impactOf(70_000, big.k1, norm)));
    expect(impact("theta", 1)).toBe(Math.fround(impactOf(65_535, big.k1, norm)));
    expect(impact("eta", 1)).toBe(Math.fround(impactOf(1, big.k1, norm)));
    const single = Buffer.from(serializeIndex(index));
    for (const cut of [1, 2]) {
      const split = mergeShards(
        [collectShard(docs.slice(0, cut), big), collectShard(docs.slice(cut), big)],
        big,
      );
      expect(Buffer.from(serializeIndex(split)).equals(single)).toBe(true);
    }
  });

  it("refuses a doc id repeated across shards, as the single-thread build does", () => {
    const first = DOCS.slice(0, 10);
    const again = [{ ...(DOCS[3] as IndexDocument), text: "other words" }];
    const merge = () => mergeShards([collectShard(first, PARAMS), collectShard(again, PARAMS)], PARAMS);
    expect(merge).toThrow(expect.objectContaining({ code: "E_CORPUS_DUPLICATE" }));
    expect(() => buildIndex([...first, ...again], PARAMS)).toThrow(
      expect.objectContaining({ code: "E_CORPUS_DUPLICATE" }),
    );
  });
});

describe("BM25 parameters", () => {
  it("refuses k1 and b that would make an impact zero or negative, as bad input", () => {
    for (const bad of [
      { k1: -0.1 },
      { k1: Number.NaN },
      { k1: Number.POSITIVE_INFINITY },
      { b: -0.01 },
      { b: 1.01 },
    ]) {
      let error: unknown;
      try {
        buildIndex(DOCS.slice(0, 2), { ...PARAMS, ...bad });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CanonError);
      expect(error).toMatchObject({ code: "E_USAGE", exitCode: 2 });
    }
    for (const good of [
      { k1: 0, b: 0 },
      { k1: 10, b: 1 },
    ])
      expect(() => validateBm25Params(good)).not.toThrow();
  });
});
