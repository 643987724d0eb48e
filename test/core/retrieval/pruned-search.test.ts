/**
 * Pruned search (MaxScore with block-max bounds), and the search that picks pruned or
 * exhaustive scoring by cost, must return exactly what scoring every posting returns: the same
 * chunks, in the same order, with bit-identical unrounded scores; and so must the document
 * top-k, against the documents' first occurrences in the exhaustive chunk ranking.
 * Checked on a synthetic corpus built to stress the bounds (a small vocabulary, so postings
 * lists span many blocks, and duplicated documents, so scores tie), and on real text when the
 * shared datasets are present: thousands of queries over about 100,000 Wikipedia chunks, and
 * SciFact's claims over its abstracts.
 */
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createGunzip } from "node:zlib";
import { describe, expect, it } from "vitest";
import { rankDocuments } from "../../../src/core/eval/metrics.js";
import { buildIndex, type IndexDocument } from "../../../src/core/retrieval/bm25/bm25-build.js";
import {
  type Bm25Index,
  type Bm25Params,
  EXHAUSTIVE_MAX_CHUNKS,
  EXHAUSTIVE_MAX_POSTINGS,
  type Ranked,
} from "../../../src/core/retrieval/bm25/bm25-index.js";

const DATASETS = fileURLToPath(new URL("../../../../shared/datasets/", import.meta.url));
const WIKIPEDIA = join(DATASETS, "wikipedia-passages", "passages.jsonl.gz");
const SCIFACT = join(DATASETS, "scifact");
const DEFAULT: Bm25Params = {
  k1: 1.2,
  b: 0.75,
  chunkChars: 800,
  overlapChars: 200,
  analyzer: "english",
  titles: true,
};

/** mulberry32: the same queries on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sameRanking(a: Ranked, b: Ranked): boolean {
  return (
    a.chunks.length === b.chunks.length &&
    a.chunks.every((c, i) => c === b.chunks[i]) &&
    a.scores.every((s, i) => Object.is(s, b.scores[i]))
  );
}

/**
 * The queries (with their k) where the pruned top-k, or the one the cost rule picks a method
 * for, differs in any way from the exhaustive top-k.
 */
function disagreements(index: Bm25Index, queries: readonly string[], ks: readonly number[]): string[] {
  const differ: string[] = [];
  for (const query of queries)
    for (const k of ks) {
      const exhaustive = index.topChunksExhaustive(query, k);
      if (!sameRanking(index.topChunksPruned(query, k), exhaustive))
        differ.push(`pruned k=${k} ${JSON.stringify(query)}`);
      if (!sameRanking(index.topChunks(query, k), exhaustive))
        differ.push(`auto k=${k} ${JSON.stringify(query)}`);
    }
  return differ;
}

/**
 * The queries (with their k) where a document top-k, by either method, differs from the
 * documents' first occurrences in the exhaustive chunk ranking taken deep enough (rankDocuments,
 * what the eval used before the document search): the same best chunks, scores and order.
 */
function documentDisagreements(
  index: Bm25Index,
  queries: readonly string[],
  ks: readonly number[],
): string[] {
  const differ: string[] = [];
  const docOf = (c: number) => index.arrays.docIds[index.arrays.chunkDoc[c] as number] as string;
  for (const query of queries)
    for (const k of ks) {
      const deep = index.topChunksExhaustive(query, index.stats.chunks);
      const expected = rankDocuments((n) => deep.chunks.slice(0, n).map(docOf), k);
      for (const scoring of ["pruned", "exhaustive", "auto"] as const) {
        const got = index.topDocuments(query, k, scoring);
        const want: Ranked = { chunks: [], scores: [] };
        for (const doc of expected) {
          const i = deep.chunks.findIndex((c) => docOf(c) === doc);
          want.chunks.push(deep.chunks[i] as number);
          want.scores.push(deep.scores[i] as number);
        }
        if (!sameRanking(got, want)) differ.push(`${scoring} k=${k} ${JSON.stringify(query)}`);
      }
    }
  return differ;
}

/** Queries of 1 to `maxWords` words drawn from the documents' own text. */
function wordQueries(
  docs: readonly IndexDocument[],
  count: number,
  maxWords: number,
  seed: number,
): string[] {
  const random = seeded(seed);
  return Array.from({ length: count }, () => {
    const doc = docs[Math.floor(random() * docs.length)] as IndexDocument;
    const words = doc.text.split(/\s+/).filter((w) => w !== "");
    const n = 1 + Math.floor(random() * maxWords);
    return Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(" ");
  });
}

describe("pruned search agrees with exhaustive search", () => {
  it("on a small vocabulary with duplicated documents (long postings, tied scores)", () => {
    const random = seeded(7);
    const vocabulary = Array.from({ length: 400 }, (_, i) => `w${i.toString(36)}x`);
    // Zipf-like: low word numbers are common, so some postings lists hold most chunks.
    const word = () => vocabulary[Math.floor(vocabulary.length * random() ** 3)] as string;
    const docs: IndexDocument[] = [];
    for (let d = 0; d < 1500; d++) {
      const text = Array.from({ length: 5 + Math.floor(random() * 60) }, word).join(" ");
      docs.push({ docId: `d${d}`, text });
      // Every tenth document twice, under another id: equal scores, ranked by doc id.
      if (d % 10 === 0) docs.push({ docId: `copy${d}`, text });
    }
    const index = buildIndex(docs, { ...DEFAULT, chunkChars: 120, overlapChars: 30, titles: false });
    expect(index.stats.postings).toBeGreaterThan(50 * 128);
    const queries = wordQueries(docs, 400, 8, 11);
    expect(disagreements(index, queries, [1, 3, 10, 50])).toEqual([]);
    // A k beyond the matching chunks: nothing can be pruned, everything is ranked.
    expect(disagreements(index, queries.slice(0, 20), [5000])).toEqual([]);
    // And the hits themselves (rounded scores, chunk ids) are those of the exhaustive search.
    for (const q of queries.slice(0, 50)) expect(index.search(q, 10)).toEqual(index.searchExhaustive(q, 10));
  });

  it("when common terms span thousands of blocks and one rare term decides (block skipping)", () => {
    const random = seeded(3);
    // Five common words in almost every chunk, with varied frequencies so block maxima differ;
    // rare words in a few chunks each; every seventh document duplicated for ties.
    const common = ["alpha", "bravo", "charli", "delta", "echo"];
    const rare = Array.from({ length: 300 }, (_, i) => `rare${i.toString(36)}q`);
    const docs: IndexDocument[] = [];
    for (let d = 0; d < 6000; d++) {
      const words: string[] = [];
      for (const c of common) {
        const n = random() < 0.9 ? 1 + Math.floor(random() ** 4 * 8) : 0;
        for (let i = 0; i < n; i++) words.push(c);
      }
      if (random() < 0.05) words.push(rare[Math.floor(random() * rare.length)] as string);
      for (let i = 0; i < Math.floor(random() * 30); i++) words.push(`filler${Math.floor(random() * 2000)}`);
      words.sort(() => random() - 0.5);
      const text = words.join(" ");
      docs.push({ docId: `d${d.toString().padStart(5, "0")}`, text });
      if (d % 7 === 0) docs.push({ docId: `c${d}`, text });
    }
    const index = buildIndex(docs, { ...DEFAULT, analyzer: "simple", titles: false });
    const blocks = (term: string) => {
      const t = index.termId(term);
      return ((index.arrays.termOffsets[t + 1] as number) - (index.arrays.termOffsets[t] as number)) / 128;
    };
    expect(blocks("alpha")).toBeGreaterThan(40);
    const queries: string[] = [];
    for (let q = 0; q < 300; q++) {
      const pick = () => common[Math.floor(random() * common.length)] as string;
      const r = rare[Math.floor(random() * rare.length)] as string;
      queries.push([pick(), r, pick(), pick()].join(" "));
    }
    // Duplicate query terms count once, whatever their position; only common terms; one alone.
    queries.push("alpha rare1q alpha alpha rare1q", "alpha bravo charli delta echo", "echo", "rare2q");
    expect(disagreements(index, queries, [1, 10, 40])).toEqual([]);
    // k beyond the hits of a rare-only query: every matching chunk is ranked.
    expect(index.topChunks("rare3q rare4q", 10_000).chunks.length).toBe(
      index.topChunksExhaustive("rare3q rare4q", 10_000).chunks.length,
    );
    expect(disagreements(index, ["rare3q rare4q", "rare5q alpha"], [10_000])).toEqual([]);
  });

  it("ranks tied chunks by doc id, then chunk start, whichever blocks they fall in", () => {
    // 2,000 identical documents: every score ties, so the top-k is the doc-id order.
    const docs: IndexDocument[] = Array.from({ length: 2000 }, (_, d) => ({
      docId: `t${(1999 - d).toString().padStart(4, "0")}`,
      text: "same words here and there, same words",
    }));
    const index = buildIndex(docs, DEFAULT);
    expect(disagreements(index, ["same words", "words", "there same"], [1, 10, 300])).toEqual([]);
    expect(index.search("same words", 3).map((h) => h.docId)).toEqual(["t0000", "t0001", "t0002"]);
  });

  it("for empty, unknown-word and repeated-word queries and any k", () => {
    const index = buildIndex(
      [
        { docId: "a", text: "tides rise and fall twice a day" },
        { docId: "b", text: "the moon pulls the tides" },
      ],
      DEFAULT,
    );
    expect(disagreements(index, ["", "zzz", "tides tides moon", "the and a"], [0, 1, 2, 10])).toEqual([]);
    expect(index.topChunks("tides", 0).chunks).toEqual([]);
  });

  it.runIf(existsSync(WIKIPEDIA))(
    "on 2,000 seeded queries over about 100,000 Wikipedia chunks",
    async () => {
      const docs: IndexDocument[] = [];
      const lines = createInterface({ input: createReadStream(WIKIPEDIA).pipe(createGunzip()) });
      for await (const line of lines) {
        if (docs.length === 88_000) break;
        const d = JSON.parse(line) as { doc_id: string; title: string; text: string };
        docs.push({ docId: d.doc_id, title: d.title, text: d.text });
      }
      lines.close();
      const index = buildIndex(docs, DEFAULT);
      expect(index.stats.chunks).toBeGreaterThan(100_000);
      const random = seeded(20261124);
      // The benchmark's shape (a passage's title and three of its words), and bags of its words.
      const titled = Array.from({ length: 1000 }, () => {
        const d = docs[Math.floor(random() * docs.length)] as IndexDocument;
        const words = d.text.split(/\s+/).filter((w) => /^[A-Za-z]{4,}$/.test(w));
        const picked = Array.from({ length: 3 }, () => words[Math.floor(random() * words.length)] ?? "");
        return `${d.title} ${picked.join(" ")}`;
      });
      const queries = [...titled, ...wordQueries(docs, 1000, 12, 5)];
      expect(disagreements(index, queries, [10, 5])).toEqual([]);
      expect(disagreements(index, queries.slice(0, 200), [1, 100])).toEqual([]);
      // Above EXHAUSTIVE_MAX_CHUNKS: the cost rule picks pruning for most of these queries.
      expect(queries.filter((q) => index.methodFor(q, 10) === "pruned").length).toBeGreaterThan(1000);
    },
    60_000,
  );

  it.runIf(existsSync(SCIFACT))("on SciFact's 1,109 claims over its 5,183 abstracts", () => {
    const read = (file: string) =>
      readFileSync(join(SCIFACT, file), "utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as { _id: string; title?: string; text: string });
    const docs = read("corpus.jsonl").map((d) => ({ docId: d._id, title: d.title ?? "", text: d.text }));
    const claims = read("queries.jsonl").map((q) => q.text);
    expect(claims.length).toBe(1109);
    const index = buildIndex(docs, DEFAULT);
    expect(disagreements(index, claims, [10, 5, 1])).toEqual([]);
    // The eval's document ranking (depth 100) on the first claims, by either method.
    expect(documentDisagreements(index, claims.slice(0, 40), [100, 10])).toEqual([]);
  });

  it("on seeded random corpora of every shape: chunks, documents, either method (property, issue 25 item 2)", () => {
    // A generator over corpus shapes rather than a few cases: vocabulary size (long or short
    // postings lists), document length, chunk size and overlap (several chunks per document,
    // so document and chunk rankings differ), duplicated documents (tied scores), query length and k.
    for (let seed = 1; seed <= 12; seed++) {
      const random = seeded(seed * 7919);
      const vocabulary = Array.from(
        { length: 20 + Math.floor(random() * 600) },
        (_, i) => `v${i.toString(36)}z`,
      );
      const skew = 1 + random() * 3;
      const word = () => vocabulary[Math.floor(vocabulary.length * random() ** skew)] as string;
      const docs: IndexDocument[] = [];
      const count = 50 + Math.floor(random() * 900);
      for (let d = 0; d < count; d++) {
        const text = Array.from({ length: 1 + Math.floor(random() * 200) }, word).join(" ");
        docs.push({ docId: `s${seed}d${d}`, text });
        if (random() < 0.1) docs.push({ docId: `s${seed}copy${d}`, text });
      }
      const chunkChars = 40 + Math.floor(random() * 400);
      const index = buildIndex(docs, {
        ...DEFAULT,
        chunkChars,
        overlapChars: Math.floor(random() * (chunkChars / 2)),
        titles: false,
      });
      const queries = wordQueries(docs, 60, 1 + Math.floor(random() * 10), seed);
      queries.push("", "nosuchword", `${vocabulary[0]} ${vocabulary[0]}`);
      const ks = [1, 1 + Math.floor(random() * 20), 100];
      expect(disagreements(index, queries, ks), `seed ${seed}`).toEqual([]);
      expect(documentDisagreements(index, queries.slice(0, 25), ks), `seed ${seed}`).toEqual([]);
    }
  });

  it("picks its method by cost: exhaustive on a small index, few postings or a large k, pruned otherwise (issue 25 item 2)", () => {
    const small = buildIndex(
      Array.from({ length: 300 }, (_, d) => ({ docId: `d${d}`, text: `common word${d % 7} text` })),
      DEFAULT,
    );
    expect(small.stats.chunks).toBeLessThanOrEqual(EXHAUSTIVE_MAX_CHUNKS);
    expect(small.methodFor("common", 10)).toBe("exhaustive");
    // An index past the chunk limit: tiny documents, one chunk each.
    const docs = Array.from({ length: EXHAUSTIVE_MAX_CHUNKS + 500 }, (_, d) => ({
      docId: `d${d}`,
      text: `common ${d % 3 === 0 ? "third" : "other"} rare${d % 5000}`,
    }));
    const large = buildIndex(docs, { ...DEFAULT, analyzer: "simple", titles: false });
    expect(large.stats.chunks).toBeGreaterThan(EXHAUSTIVE_MAX_CHUNKS);
    expect(large.methodFor("common third", 10)).toBe("pruned");
    // rare17 has 14 postings: below the postings floor.
    expect(large.methodFor("rare17", 10)).toBe("exhaustive");
    expect(EXHAUSTIVE_MAX_POSTINGS).toBeGreaterThan(14);
    // k close to the longest list: nothing to prune.
    expect(large.methodFor("common third", 20_000)).toBe("exhaustive");
    expect(
      disagreements(large, ["common third", "third rare17", "rare17", "other common rare4"], [1, 10, 20_000]),
    ).toEqual([]);
    expect(documentDisagreements(large, ["common third rare17", "third other"], [10])).toEqual([]);
  }, 60_000);
});
