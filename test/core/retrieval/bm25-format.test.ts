import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildIndex } from "../../../src/core/retrieval/bm25/bm25-build.js";
import {
  CorruptIndexError,
  deserializeIndex,
  INDEX_FORMAT_VERSION,
  indexFormatVersion,
  READABLE_VERSIONS,
  serializeIndex,
} from "../../../src/core/retrieval/bm25/bm25-format.js";
import type { Bm25Params } from "../../../src/core/retrieval/bm25/bm25-index.js";
import { toFormat1 } from "../../helpers/index-format-1.js";

// Small chunks, so every section holds several values.
const PARAMS: Bm25Params = {
  k1: 1.2,
  b: 0.75,
  chunkChars: 40,
  overlapChars: 10,
  analyzer: "english",
  titles: true,
};
const DOCS = [
  {
    docId: "a",
    title: "Tides",
    text: "The moon pulls the oceans. Tides rise and fall twice a day on most coasts.",
  },
  {
    docId: "b",
    text: "A trick in contract bridge is won by the highest card of the suit led, or by a trump.",
  },
  {
    docId: "c",
    title: "Bridges",
    text: "Suspension bridges hang their deck from cables slung between towers.",
  },
];
const BYTES = serializeIndex(buildIndex(DOCS, PARAMS));
const HEADER_LENGTH = new DataView(BYTES.buffer, BYTES.byteOffset).getUint32(12, true);
const pad8 = (n: number) => (8 - (n % 8)) % 8;

/** The error deserializeIndex throws for these bytes; fails the test when it throws nothing. */
function readError(bytes: Uint8Array): unknown {
  try {
    deserializeIndex(bytes);
  } catch (error) {
    return error;
  }
  throw new Error("deserializeIndex accepted the bytes");
}

function expectCorrupt(bytes: Uint8Array): CorruptIndexError {
  const error = readError(bytes);
  expect(error).toBeInstanceOf(CorruptIndexError);
  expect(error).toMatchObject({ code: "E_INDEX_CORRUPT", exitCode: 1 });
  return error as CorruptIndexError;
}

/** The JSON header as a test edits it. */
interface RawHeader {
  params: Record<string, unknown>;
  stats: { chunks: number; documents: number; postings: number; terms: number; avgChunkLen: number };
  sections: Array<[string, number]>;
  terms: string;
  docIds: string[];
  [field: string]: unknown;
}

/** BYTES with the JSON header rewritten by `edit` (prefix and alignment recomputed). */
function withHeader(edit: (header: RawHeader) => void): Uint8Array {
  const header = JSON.parse(Buffer.from(BYTES.subarray(16, 16 + HEADER_LENGTH)).toString("utf8"));
  edit(header);
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const sections = BYTES.subarray(16 + HEADER_LENGTH + pad8(16 + HEADER_LENGTH));
  const prefix = Buffer.alloc(16);
  Buffer.from(BYTES.subarray(0, 8)).copy(prefix);
  prefix.writeUInt32LE(INDEX_FORMAT_VERSION, 8);
  prefix.writeUInt32LE(json.length, 12);
  return new Uint8Array(
    Buffer.concat([prefix, json, Buffer.alloc(pad8(16 + json.length)), Buffer.from(sections)]),
  );
}

/** Byte offset of a section's data inside BYTES. */
function sectionOffset(name: string): number {
  const header = JSON.parse(Buffer.from(BYTES.subarray(16, 16 + HEADER_LENGTH)).toString("utf8"));
  let at = 16 + HEADER_LENGTH + pad8(16 + HEADER_LENGTH);
  for (const [section, length] of header.sections as Array<[string, number]>) {
    if (section === name) return at;
    at += length + pad8(length);
  }
  throw new Error(`no section ${name}`);
}

function withU32(name: string, position: number, value: number): Uint8Array {
  const bytes = Uint8Array.from(BYTES);
  new DataView(bytes.buffer).setUint32(sectionOffset(name) + position * 4, value, true);
  return bytes;
}

describe("reading an index validates it", () => {
  it("reads what it wrote, from aligned and unaligned memory", () => {
    const expected = buildIndex(DOCS, PARAMS).search("tides moon", 3);
    expect(expected.length).toBeGreaterThan(0);
    const unaligned = new Uint8Array(BYTES.length + 1).fill(7);
    unaligned.set(BYTES, 1);
    for (const bytes of [BYTES, unaligned.subarray(1)])
      expect(deserializeIndex(bytes).search("tides moon", 3)).toEqual(expected);
  });

  it("refuses every truncation with E_INDEX_CORRUPT", () => {
    for (let length = 0; length < BYTES.length; length++) expectCorrupt(BYTES.subarray(0, length));
  });

  it("refuses trailing bytes", () => {
    expectCorrupt(new Uint8Array(Buffer.concat([BYTES, Buffer.alloc(8)])));
  });

  it("refuses every single-bit flip of the magic, the version and the header length", () => {
    for (let i = 0; i < 16; i++)
      for (let bit = 0; bit < 8; bit++)
        expectCorrupt(Uint8Array.from(BYTES, (b, j) => (j === i ? b ^ (1 << bit) : b)));
  });

  it("turns every single-bit flip of the JSON header into E_INDEX_CORRUPT or a sound index, never another error", () => {
    for (let i = 16; i < 16 + HEADER_LENGTH; i++)
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Uint8Array.from(BYTES, (b, j) => (j === i ? b ^ (1 << bit) : b));
        let index: ReturnType<typeof deserializeIndex>;
        try {
          index = deserializeIndex(flipped);
        } catch (error) {
          expect(error).toBeInstanceOf(CorruptIndexError);
          continue;
        }
        // A flip inside a doc id, a term or a param digit can still be a well-formed index.
        expect(() => index.search("tides moon bridge trick", 10)).not.toThrow();
      }
  });

  it("refuses another format version, naming the version found and the ones supported", () => {
    for (const version of [0, Math.max(...READABLE_VERSIONS) + 1]) {
      const other = Uint8Array.from(BYTES);
      new DataView(other.buffer).setUint32(8, version, true);
      expect(expectCorrupt(other).message).toBe(
        `index is corrupt: format version ${version}, but this build reads versions 1, 2 and 3 only: rebuild the index`,
      );
    }
    // A readable version in the prefix over another format's header and sections is not an index.
    for (const version of READABLE_VERSIONS.filter((v) => v !== INDEX_FORMAT_VERSION)) {
      const other = Uint8Array.from(BYTES);
      new DataView(other.buffer).setUint32(8, version, true);
      expectCorrupt(other);
    }
    // The header's format must be the prefix's: format-2 sections read as format 1 are not.
    for (const format of [1, INDEX_FORMAT_VERSION + 1])
      expectCorrupt(
        withHeader((h) => {
          h.format = format;
        }),
      );
  });

  it("refuses bounds that are not the largest impacts, and impacts or parameters that are not positive", () => {
    const index = deserializeIndex(BYTES);
    const bounds = index.arrays.bounds;
    expect(bounds).not.toBeNull();
    const at = (section: string, i: number, value: number) => {
      const bytes = Uint8Array.from(BYTES);
      new DataView(bytes.buffer).setFloat32(sectionOffset(section) + i * 4, value, true);
      return bytes;
    };
    // A bound a little too low would drop chunks from the top-k; one too high is not the format either.
    const termMax = bounds?.termMax[0] as number;
    expect(expectCorrupt(at("termMax", 0, termMax * 0.999)).message).toMatch(/term 0's bound/);
    expectCorrupt(at("termMax", 0, termMax * 2));
    const blockMax = bounds?.blockMax[0] as number;
    expect(expectCorrupt(at("blockMax", 0, blockMax * 0.999)).message).toMatch(/block 0's bound/);
    expectCorrupt(at("postImpact", 0, 0));
    expectCorrupt(at("postImpact", 0, -1));
    for (const edit of [(h: RawHeader) => (h.params.k1 = -1), (h: RawHeader) => (h.params.b = 1.5)])
      expect(expectCorrupt(withHeader(edit)).message).toMatch(/do not keep impacts positive/);
  });

  it("skips the consistency pass only for vouched bytes (a rebuild record's), and never for the container", () => {
    const index = deserializeIndex(BYTES);
    const bytes = Uint8Array.from(BYTES);
    const termMax = index.arrays.bounds?.termMax[0] as number;
    new DataView(bytes.buffer).setFloat32(sectionOffset("termMax") + 0, termMax * 0.999, true);
    expect(expectCorrupt(bytes).message).toMatch(/term 0's bound/);
    // What a record vouches for is the builder's own output, which has no such bound: not re-checked.
    expect(deserializeIndex(bytes, true).arrays.bounds?.termMax[0]).toBe(Math.fround(termMax * 0.999));
    // The prefix, header and sections are read as hostile bytes either way.
    expect(() => deserializeIndex(BYTES.subarray(0, BYTES.length - 8), true)).toThrow(CorruptIndexError);
    expect(() => deserializeIndex(withU32("termOffsets", 1, 0xffffffff), true)).not.toThrow();
  });

  it("refuses header fields out of range: params, counts, sections", () => {
    const edits: Array<(h: RawHeader) => void> = [
      (h) => (h.params.k1 = "1.2"),
      (h) => (h.params.b = null),
      (h) => (h.params.chunkChars = 0),
      (h) => (h.params.overlapChars = h.params.chunkChars),
      (h) => (h.params.analyzer = "klingon"),
      (h) => (h.stats.chunks = -1),
      (h) => (h.stats.postings = 1.5),
      (h) => (h.stats.chunks += 1),
      (h) => (h.stats.postings -= 1),
      (h) => (h.stats.documents += 1),
      (h) => (h.stats.terms += 1),
      (h) => (h.stats.postings += 128),
      (h) => (h.endianness = "BE"),
      (h) => h.sections.reverse(),
      (h) => h.sections.pop(),
      (h) => ((h.sections[0] as [string, number])[1] += 4),
      (h) => ((h.sections[1] as [string, number])[1] -= 4),
      (h) => (h.terms = h.terms.split("\n").reverse().join("\n")),
      (h) => (h.docIds = ["a", "a", "c"]),
      (h) => h.docIds.pop(),
      (h) => delete h.analyzer,
    ];
    for (const edit of edits) expectCorrupt(withHeader(edit));
    // The large fields are checked by hand before zod sees the rest; a bad one gets zod's message.
    const named: Array<[(h: RawHeader) => void, RegExp]> = [
      [(h) => ((h.docIds as unknown[])[1] = 7), /^index is corrupt: bad header field docIds\.1: .*string/],
      [
        (h) => ((h as Record<string, unknown>).terms = ["a"]),
        /^index is corrupt: bad header field terms: .*string/,
      ],
      [
        (h) => ((h as Record<string, unknown>).docIds = "a"),
        /^index is corrupt: bad header field docIds: .*array/,
      ],
      [(h) => (h.extra = 1), /^index is corrupt: bad header field \(root\): .*extra/],
    ];
    for (const [edit, message] of named) expect(expectCorrupt(withHeader(edit)).message).toMatch(message);
    // The helper itself leaves a readable index.
    expect(deserializeIndex(withHeader(() => {})).stats).toEqual(deserializeIndex(BYTES).stats);
  });

  it("refuses postings offsets and ids that leave their bounds", () => {
    const index = deserializeIndex(BYTES);
    const { chunks, documents, postings, terms } = index.stats;
    expectCorrupt(withU32("termOffsets", 0, 1));
    expectCorrupt(withU32("termOffsets", terms, postings + 1));
    expectCorrupt(withU32("termOffsets", 1, postings)); // not monotone
    expectCorrupt(withU32("postChunk", 0, chunks));
    expectCorrupt(withU32("chunkDoc", 0, documents));
    expectCorrupt(withU32("chunkStart", 0, 0xffffffff));
    const nan = Uint8Array.from(BYTES);
    new DataView(nan.buffer).setFloat32(sectionOffset("postImpact"), Number.NaN, true);
    expectCorrupt(nan);
  });
});

describe("format 1, the format before bounds", () => {
  // Written by the format-1 build (commit 867f27a) from DOCS and PARAMS above.
  const FORMAT_1 = new Uint8Array(readFileSync(new URL("fixtures/index-format-1.bin", import.meta.url)));

  it("is what toFormat1 makes of a fresh index, so tests can make format-1 indexes of any corpus", () => {
    const texts = new Map(DOCS.map((d) => [d.docId, d.text]));
    expect(Buffer.from(toFormat1(BYTES, texts)).equals(Buffer.from(FORMAT_1))).toBe(true);
  });

  it("is still read: no bounds, searched exhaustively, ranking as format 2 does", () => {
    const old = deserializeIndex(FORMAT_1);
    expect(old.arrays.bounds).toBeNull();
    const current = deserializeIndex(BYTES);
    for (const query of ["tides moon", "bridge trick trump", "cables towers suspension", "nothing"])
      expect(old.search(query, 3)).toEqual(current.search(query, 3));
    expect(indexFormatVersion(FORMAT_1)).toBe(1);
    expect(indexFormatVersion(BYTES)).toBe(INDEX_FORMAT_VERSION);
  });

  it("is checked even when vouched: a record compares it only after a conversion", () => {
    // termOffsets is format 1's first section: its second offset made to leave the postings.
    const damaged = Uint8Array.from(FORMAT_1);
    const view = new DataView(damaged.buffer);
    const prefix = 16 + view.getUint32(12, true);
    view.setUint32(prefix + pad8(prefix) + 4, 0xffffffff, true);
    expect(() => deserializeIndex(damaged, true)).toThrow(CorruptIndexError);
  });

  it("is refused when damaged, as format 2 is", () => {
    for (let length = 0; length < FORMAT_1.length; length += 7) expectCorrupt(FORMAT_1.subarray(0, length));
    // Its chunk ids section must still hold 32 bytes per chunk.
    const header = JSON.parse(
      Buffer.from(FORMAT_1.subarray(16, 16 + new DataView(FORMAT_1.buffer).getUint32(12, true))).toString(),
    ) as RawHeader;
    expect(header.sections.map(([name]) => name)).toContain("chunkIds");
    expectCorrupt(new Uint8Array(Buffer.concat([FORMAT_1, Buffer.alloc(8)])));
  });
});

describe("format 3, compressed postings (issue 25 item 3)", () => {
  const built = buildIndex(DOCS, PARAMS);
  const F3 = serializeIndex(built, 3);
  const f3HeaderLength = new DataView(F3.buffer, F3.byteOffset).getUint32(12, true);
  const f3Header = JSON.parse(
    Buffer.from(F3.subarray(16, 16 + f3HeaderLength)).toString("utf8"),
  ) as RawHeader;
  const f3Offset = (name: string) => {
    let at = 16 + f3HeaderLength + pad8(16 + f3HeaderLength);
    for (const [section, length] of f3Header.sections) {
      if (section === name) return at;
      at += length + pad8(length);
    }
    throw new Error(`no section ${name}`);
  };
  const f3WithU32 = (name: string, position: number, value: number) => {
    const bytes = Uint8Array.from(F3);
    new DataView(bytes.buffer).setUint32(f3Offset(name) + position * 4, value, true);
    return bytes;
  };
  const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
    a.length === b.length && Array.from(a).every((x, i) => Object.is(x, b[i]));

  it("reads back the builder's arrays bit for bit: chunk ids, impacts, bounds, chunks", () => {
    expect(indexFormatVersion(F3)).toBe(3);
    expect(f3Header.sections.map(([name]) => name)).toEqual([
      "termOffsets",
      "postPacked",
      "chunkLen",
      "chunkDoc",
      "chunkStart",
      "chunkEnd",
    ]);
    const read = deserializeIndex(F3).arrays;
    const a = built.arrays;
    for (const key of [
      "termOffsets",
      "postChunk",
      "postImpact",
      "chunkDoc",
      "chunkStart",
      "chunkEnd",
    ] as const)
      expect(same(read[key], a[key]), key).toBe(true);
    expect(same(read.bounds?.termMax ?? [], a.bounds?.termMax ?? [1])).toBe(true);
    expect(same(read.bounds?.blockMax ?? [], a.bounds?.blockMax ?? [1])).toBe(true);
    expect(read.stats).toEqual(a.stats);
    // Written again from what it read, the bytes are the same.
    expect(Buffer.from(serializeIndex(deserializeIndex(F3), 3)).equals(Buffer.from(F3))).toBe(true);
  });

  it("ranks as format 2 does, scores bit-identical, on seeded corpora with long postings, high frequencies and ties", () => {
    for (let seed = 1; seed <= 4; seed++) {
      let x = seed;
      const random = () => {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        return x / 2 ** 31;
      };
      const vocabulary = Array.from({ length: 30 + seed * 40 }, (_, i) => `w${i.toString(36)}q`);
      const docs = Array.from({ length: 400 }, (_, d) => ({
        docId: `d${d}`,
        // Skewed: a few words repeat many times in a chunk (large frequencies, wide tf bits).
        text: Array.from(
          { length: 5 + Math.floor(random() * 300) },
          () => vocabulary[Math.floor(vocabulary.length * random() ** 4)],
        ).join(" "),
      }));
      const params = {
        ...PARAMS,
        chunkChars: 200 + seed * 100,
        overlapChars: 50,
        analyzer: "simple" as const,
      };
      const index = buildIndex(docs, params);
      expect(index.stats.postings).toBeGreaterThan(1000);
      const read = deserializeIndex(serializeIndex(index, 3));
      expect(same(read.arrays.postImpact, index.arrays.postImpact)).toBe(true);
      expect(same(read.arrays.postChunk, index.arrays.postChunk)).toBe(true);
      for (const q of vocabulary
        .slice(0, 40)
        .map((w, i) => `${w} ${vocabulary[(i * 7) % vocabulary.length]}`)) {
        const a = read.topChunks(q, 10);
        const b = index.topChunks(q, 10);
        expect(same(a.chunks, b.chunks) && same(a.scores, b.scores), q).toBe(true);
      }
    }
  });

  it("reads back chunks longer than its table of norms by length (over 65,536 terms)", () => {
    const words = Array.from({ length: 70_000 }, (_, i) => `w${(i % 5000).toString(36)}`);
    const text = words.join(" ");
    const params = { ...PARAMS, chunkChars: text.length + 1, overlapChars: 0, analyzer: "simple" as const };
    const index = buildIndex([{ docId: "long", text }, ...DOCS], params);
    expect(Math.max(...(index.arrays.chunkLen ?? []))).toBeGreaterThan(65_536);
    const read = deserializeIndex(serializeIndex(index, 3));
    expect(same(read.arrays.postImpact, index.arrays.postImpact)).toBe(true);
    expect(same(read.arrays.postChunk, index.arrays.postChunk)).toBe(true);
  });

  it("is smaller than format 2", () => {
    expect(F3.byteLength).toBeLessThan(BYTES.byteLength);
  });

  it("refuses every truncation and trailing bytes", () => {
    for (let length = 0; length < F3.length; length++) expectCorrupt(F3.subarray(0, length));
    expectCorrupt(new Uint8Array(Buffer.concat([F3, Buffer.alloc(8)])));
  });

  it("turns every single-bit flip of its sections into E_INDEX_CORRUPT or a sound index, never another error", () => {
    const from = f3Offset("termOffsets");
    let refused = 0;
    for (let i = from; i < F3.length; i++)
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Uint8Array.from(F3, (b, j) => (j === i ? b ^ (1 << bit) : b));
        let index: ReturnType<typeof deserializeIndex>;
        try {
          index = deserializeIndex(flipped);
        } catch (error) {
          expect(error).toBeInstanceOf(CorruptIndexError);
          refused++;
          continue;
        }
        expect(() => index.search("tides moon bridge trick", 10)).not.toThrow();
      }
    // Nearly every flip of the postings and lengths is caught (chunk starts may move freely).
    expect(refused).toBeGreaterThan(0);
  });

  it("refuses damaged compressed postings by name: header words, widths, chunk ids, lengths", () => {
    const packed = f3Offset("postPacked");
    const head = new DataView(F3.buffer, F3.byteOffset).getUint32(packed, true);
    expect(expectCorrupt(f3WithU32("postPacked", 0, (head & 0xff00) | 33)).message).toMatch(
      /block 0's header/,
    );
    expect(expectCorrupt(f3WithU32("postPacked", 0, head | (1 << 20))).message).toMatch(/block 0's header/);
    // Wider gaps than written: the block runs past its words, or the ids past the chunks.
    expectCorrupt(f3WithU32("postPacked", 0, (head & 0xff00) | 32));
    expect(expectCorrupt(f3WithU32("chunkLen", 0, 0)).message).toMatch(/chunk 0's term frequencies/);
    // Lengths that still match the frequencies cannot move: they must average to the header's average.
    expectCorrupt(
      withHeaderOf(F3, (h) => {
        h.stats.avgChunkLen += 1;
      }),
    );
    expectCorrupt(
      withHeaderOf(F3, (h) => {
        h.params.k1 = -1;
      }),
    );
    expectCorrupt(f3WithU32("termOffsets", 1, 0xffffffff));
    expectCorrupt(f3WithU32("chunkDoc", 0, 1000));
  });

  it("is not written from an index without chunk lengths (one read from format 2)", () => {
    expect(() => serializeIndex(deserializeIndex(BYTES), 3)).toThrow(/chunk lengths/);
  });
});

/** `bytes` (any format) with its JSON header rewritten by `edit`. */
function withHeaderOf(bytes: Uint8Array, edit: (header: RawHeader) => void): Uint8Array {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
  const header = JSON.parse(Buffer.from(bytes.subarray(16, 16 + length)).toString("utf8"));
  edit(header);
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const sections = bytes.subarray(16 + length + pad8(16 + length));
  const prefix = Buffer.from(bytes.subarray(0, 16));
  prefix.writeUInt32LE(json.length, 12);
  return new Uint8Array(
    Buffer.concat([prefix, json, Buffer.alloc(pad8(16 + json.length)), Buffer.from(sections)]),
  );
}
