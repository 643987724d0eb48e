/**
 * The binary format of a Bm25Index. Layout: magic (8 bytes), format version (u32 LE), header
 * length (u32 LE), a JSON header (params, stats, analyzer, section sizes, terms, doc ids), then
 * each typed array, 8-byte aligned so it can be viewed in place on load. Typed arrays are
 * little-endian, which every platform Node supports in practice; the header records it.
 */
import { CanonError } from "../errors.js";
import { Bm25Index, type IndexArrays } from "./bm25-index.js";

/** Bump when the bytes change meaning; the version is part of every index cache key. */
export const INDEX_FORMAT_VERSION = 1;

export class CorruptIndexError extends CanonError {
  constructor(message: string) {
    super("E_INDEX_CORRUPT", `index is corrupt: ${message}`, { exitCode: 1 });
  }
}

const MAGIC = Buffer.from("CRBM25\0\0", "latin1");
/** Magic, version and header length. */
const PREFIX_BYTES = 16;

const SECTION_NAMES = [
  "termOffsets",
  "postChunk",
  "postImpact",
  "chunkDoc",
  "chunkStart",
  "chunkEnd",
  "chunkIds",
] as const;
type SectionName = (typeof SECTION_NAMES)[number];

function sectionsOf(a: IndexArrays): Array<[SectionName, Uint8Array]> {
  const view = (x: ArrayBufferView) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return [
    ["termOffsets", view(a.termOffsets)],
    ["postChunk", view(a.postChunk)],
    ["postImpact", view(a.postImpact)],
    ["chunkDoc", view(a.chunkDoc)],
    ["chunkStart", view(a.chunkStart)],
    ["chunkEnd", view(a.chunkEnd)],
    ["chunkIds", a.chunkIds],
  ];
}

const pad8 = (n: number) => (8 - (n % 8)) % 8;

export function serializeIndex(index: Bm25Index): Uint8Array {
  const a = index.arrays;
  const sections = sectionsOf(a);
  const header = Buffer.from(
    JSON.stringify({
      format: INDEX_FORMAT_VERSION,
      endianness: "LE",
      params: a.params,
      stats: a.stats,
      analyzer: a.analyzer,
      sections: sections.map(([name, bytes]) => [name, bytes.byteLength]),
      terms: a.terms.join("\n"),
      docIds: a.docIds,
    }),
    "utf8",
  );
  const prefix = PREFIX_BYTES + header.length;
  let total = prefix + pad8(prefix);
  for (const [, bytes] of sections) total += bytes.byteLength + pad8(bytes.byteLength);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(8, INDEX_FORMAT_VERSION, true);
  dv.setUint32(12, header.length, true);
  out.set(header, PREFIX_BYTES);
  let at = prefix + pad8(prefix);
  for (const [, bytes] of sections) {
    out.set(bytes, at);
    at += bytes.byteLength + pad8(bytes.byteLength);
  }
  return out;
}

export function deserializeIndex(input: Uint8Array): Bm25Index {
  if (input.byteLength < 16 || Buffer.compare(Buffer.from(input.subarray(0, 8)), MAGIC) !== 0) {
    throw new CorruptIndexError("bad magic number");
  }
  // Typed-array views need aligned offsets; a pooled Buffer may not be, so copy only then.
  const bytes = input.byteOffset % 8 === 0 ? input : input.slice();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== INDEX_FORMAT_VERSION) throw new CorruptIndexError(`unsupported format version ${version}`);
  const headerLength = dv.getUint32(12, true);
  if (16 + headerLength > bytes.byteLength) throw new CorruptIndexError("truncated header");
  let header: {
    params: IndexArrays["params"];
    stats: IndexArrays["stats"];
    analyzer: { id: string; version: string };
    sections: Array<[SectionName, number]>;
    terms: string;
    docIds: string[];
  };
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(16, 16 + headerLength)).toString("utf8"));
  } catch {
    throw new CorruptIndexError("unreadable header");
  }
  const prefix = 16 + headerLength;
  let at = prefix + pad8(prefix);
  const found: Partial<Record<SectionName, Uint8Array>> = {};
  for (const [name, length] of header.sections) {
    if (at + length > bytes.byteLength) throw new CorruptIndexError(`truncated section ${name}`);
    found[name] = bytes.subarray(at, at + length);
    at += length + pad8(length);
  }
  if (at !== bytes.byteLength) throw new CorruptIndexError("unexpected trailing bytes");
  const section = (name: SectionName) => {
    const s = found[name];
    if (s === undefined) throw new CorruptIndexError(`missing section ${name}`);
    return s;
  };
  const u32 = (name: SectionName) => {
    const s = section(name);
    return new Uint32Array(s.buffer, s.byteOffset, s.byteLength / 4);
  };
  const impact = section("postImpact");
  const terms = header.terms === "" ? [] : header.terms.split("\n");
  const arrays: IndexArrays = {
    params: header.params,
    stats: header.stats,
    analyzer: header.analyzer,
    terms,
    docIds: header.docIds,
    termOffsets: u32("termOffsets"),
    postChunk: u32("postChunk"),
    postImpact: new Float32Array(impact.buffer, impact.byteOffset, impact.byteLength / 4),
    chunkDoc: u32("chunkDoc"),
    chunkStart: u32("chunkStart"),
    chunkEnd: u32("chunkEnd"),
    chunkIds: section("chunkIds"),
  };
  const { chunks, postings } = header.stats;
  if (
    arrays.termOffsets.length !== terms.length + 1 ||
    arrays.postChunk.length !== postings ||
    arrays.postImpact.length !== postings ||
    arrays.chunkDoc.length !== chunks ||
    arrays.chunkIds.length !== chunks * 32 ||
    arrays.termOffsets[terms.length] !== postings
  ) {
    throw new CorruptIndexError("section sizes disagree with the header");
  }
  return new Bm25Index(arrays);
}
