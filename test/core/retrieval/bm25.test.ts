import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/core/canonical.js";
import { contentTerms, getAnalyzer, STOP_WORDS } from "../../../src/core/retrieval/analyzer.js";
import { buildIndex } from "../../../src/core/retrieval/bm25/bm25-build.js";
import { deserializeIndex, serializeIndex } from "../../../src/core/retrieval/bm25/bm25-format.js";
import type { Bm25Params } from "../../../src/core/retrieval/bm25/bm25-index.js";
import { searchHits } from "../../../src/core/retrieval/hits.js";

// Whole documents as single chunks, so the hand computation below is per document.
const PARAMS: Bm25Params = {
  k1: 1.2,
  b: 0.75,
  chunkChars: 1000,
  overlapChars: 0,
  analyzer: "simple",
  titles: false,
};
const DOCS = [
  { docId: "d1", text: "apple banana apple" },
  { docId: "d2", text: "banana cherry" },
  { docId: "d3", text: "cherry cherry cherry date" },
];

describe("BM25 scoring", () => {
  it("matches a hand-computed example", () => {
    const index = buildIndex(DOCS, PARAMS);
    // N = 3 chunks; lengths 3, 2, 4; avgdl = 3.
    // idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))
    const idfApple = Math.log(1 + (3 - 1 + 0.5) / (1 + 0.5)); // df 1 -> ln(1 + 2.5/1.5) = 0.98083
    const idfBanana = Math.log(1 + (3 - 2 + 0.5) / (2 + 0.5)); // df 2 -> ln(1 + 1.5/2.5) = 0.47000
    const tfPart = (tf: number, dl: number) => (tf * 2.2) / (tf + 1.2 * (1 - 0.75 + (0.75 * dl) / 3));
    // d1: apple tf 2, dl 3 -> 2*2.2/(2+1.2) = 1.375 ; banana tf 1 -> 2.2/2.2 = 1
    const d1 = idfApple * tfPart(2, 3) + idfBanana * tfPart(1, 3);
    expect(tfPart(2, 3)).toBeCloseTo(1.375, 10);
    expect(d1).toBeCloseTo(0.98083 * 1.375 + 0.47 * 1, 4);
    // d2: banana tf 1, dl 2 -> 2.2/(1 + 1.2*(0.25 + 0.5)) = 2.2/1.9 = 1.157895
    const d2 = idfBanana * tfPart(1, 2);
    const hits = index.search("apple banana", 10);
    expect(hits.map((h) => h.docId)).toEqual(["d1", "d2"]);
    expect(hits[0]?.score).toBeCloseTo(d1, 5);
    expect(hits[1]?.score).toBeCloseTo(d2, 5);
    expect(hits[1]?.score).toBeCloseTo(0.47 * 1.157895, 4);
  });

  it("returns only matching chunks, at most top-k, with chunk ids = sha256 of the chunk bytes", () => {
    const index = buildIndex(DOCS, PARAMS);
    expect(index.search("zebra", 10)).toEqual([]);
    expect(index.search("cherry", 1).map((h) => h.docId)).toEqual(["d3"]);
    const [hit] = index.search("date", 5);
    expect(hit && [hit.start, hit.end]).toEqual([0, 25]);
    const lookup = () => new Map([["d3", Buffer.from(DOCS[2]?.text ?? "", "utf8")]]);
    const [shown] = searchHits(index, "date", 5, lookup, "chunks").hits;
    expect(shown?.chunk_id).toBe(sha256Hex("cherry cherry cherry date"));
    expect(index.search("cherry", 0)).toEqual([]);
  });

  it("breaks score ties by doc id, then chunk start", () => {
    const same = "the same words here";
    const index = buildIndex(
      [
        { docId: "zeta", text: same },
        { docId: "alpha", text: same },
        { docId: "mid", text: `${same}. ${same}` },
      ],
      { ...PARAMS, chunkChars: 20, overlapChars: 0, b: 0 },
    );
    const hits = index.search("words", 10);
    expect(hits.map((h) => [h.docId, h.start])).toEqual([
      ["alpha", 0],
      ["mid", 0],
      ["mid", 21],
      ["zeta", 0],
    ]);
  });

  it("gives the same scores whatever the document order", () => {
    const a = buildIndex(DOCS, PARAMS).search("banana cherry", 10);
    const b = buildIndex([...DOCS].reverse(), PARAMS).search("banana cherry", 10);
    expect(b.map((h) => [h.docId, h.score])).toEqual(a.map((h) => [h.docId, h.score]));
  });
});

describe("index serialization", () => {
  it("round-trips to identical search results and identical bytes", () => {
    const index = buildIndex(DOCS, { ...PARAMS, analyzer: "english" });
    const bytes = serializeIndex(index);
    const loaded = deserializeIndex(bytes);
    expect(loaded.search("cherries and apples", 10)).toEqual(index.search("cherries and apples", 10));
    expect(Buffer.compare(Buffer.from(serializeIndex(loaded)), Buffer.from(bytes))).toBe(0);
    // Unaligned input (as from a pooled Buffer) still loads.
    const unaligned = new Uint8Array(bytes.length + 1).subarray(1);
    unaligned.set(bytes);
    expect(deserializeIndex(unaligned).search("date", 1)).toEqual(index.search("date", 1));
  });

  it("is deterministic: the same documents give the same bytes", () => {
    expect(sha256Hex(serializeIndex(buildIndex(DOCS, PARAMS)))).toBe(
      sha256Hex(serializeIndex(buildIndex(DOCS, PARAMS))),
    );
  });

  it("rejects corrupt or truncated bytes with E_INDEX_CORRUPT", () => {
    const bytes = serializeIndex(buildIndex(DOCS, PARAMS));
    const cases = [
      bytes.subarray(0, 10),
      bytes.subarray(0, bytes.length - 8),
      Uint8Array.from(bytes, (b, i) => (i === 0 ? b ^ 1 : b)),
    ];
    const version = Uint8Array.from(bytes);
    version[8] = 99;
    for (const bad of [...cases, version]) {
      expect(() => deserializeIndex(bad)).toThrow(expect.objectContaining({ code: "E_INDEX_CORRUPT" }));
    }
  });
});

describe("analyzers", () => {
  it("english drops stop words and stems; simple keeps every word", () => {
    expect(getAnalyzer("english").tokenize("The runners were running quickly")).toEqual([
      "runner",
      "run",
      "quickli",
    ]);
    expect(getAnalyzer("simple").tokenize("The runners were running")).toEqual([
      "the",
      "runners",
      "were",
      "running",
    ]);
    expect(STOP_WORDS.has("the")).toBe(true);
    expect(STOP_WORDS.has("won")).toBe(false);
  });

  it("tokenizes any script, normalizing compatibility forms", () => {
    expect(getAnalyzer("simple").tokenize("茶道 Zürich ﬁne")).toEqual(["茶道", "zürich", "fine"]);
  });

  it("contentTerms are distinct, in first-occurrence order", () => {
    expect(contentTerms("Why do volcanoes erupt, and do volcanoes sleep?")).toEqual([
      "volcano",
      "erupt",
      "sleep",
    ]);
  });

  it("rejects an unknown analyzer with a coded error", () => {
    expect(() => getAnalyzer("klingon")).toThrow(expect.objectContaining({ code: "E_UNKNOWN_ANALYZER" }));
    expect(() => getAnalyzer("constructor")).toThrow(expect.objectContaining({ code: "E_UNKNOWN_ANALYZER" }));
  });
});

describe("index build word scanning", () => {
  it("indexes the same terms as the analyzer, for ASCII, mixed and non-ASCII words", () => {
    const text = "Cafe CAFÉ café ﬁne naïve e\u0301te 茶道 x_y O'Brien 1½ Zürich-Straße";
    for (const analyzer of ["simple", "english"] as const) {
      const index = buildIndex([{ docId: "d", text }], { ...PARAMS, analyzer });
      const expected = [...new Set(getAnalyzer(analyzer).tokenize(text))].sort();
      expect(index.arrays.terms).toEqual(expected);
    }
  });
});

describe("title indexing", () => {
  it("counts a document's title words in every one of its chunks, only when asked", () => {
    const docs = [
      { docId: "t", title: "Volcano", text: "Magma rises through the crust. It erupts at the surface." },
      { docId: "u", text: "A volcano is a mountain." },
    ];
    const withTitles = buildIndex(docs, { ...PARAMS, chunkChars: 30, overlapChars: 0, titles: true });
    expect(withTitles.search("volcano", 10).map((h) => [h.docId, h.start])).toEqual([
      ["u", 0],
      ["t", 0],
      ["t", 31],
    ]);
    const without = buildIndex(docs, { ...PARAMS, chunkChars: 30, overlapChars: 0, titles: false });
    expect(without.search("volcano", 10).map((h) => h.docId)).toEqual(["u"]);
    expect(sha256Hex(serializeIndex(withTitles))).not.toBe(sha256Hex(serializeIndex(without)));
  });
});
