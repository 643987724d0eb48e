/**
 * The container of a BM25 index's bytes (bm25-format.ts describes the formats): the fixed
 * prefix, the JSON header and the 8-byte aligned sections each format declares, read as
 * hostile bytes, so a damaged index is a CorruptIndexError.
 */
import * as z from "zod";
import { CanonError } from "../../errors.js";

/** The versions this build reads: what it writes, and format 1 for runs pinned to such an index. */
export const READABLE_VERSIONS = [1, 2, 3] as const;
export type FormatVersion = (typeof READABLE_VERSIONS)[number];
/** The versions serializeIndex writes: 2 (uncompressed) and 3 (compressed postings). */
export const WRITABLE_VERSIONS = [2, 3] as const;
export type WritableVersion = (typeof WRITABLE_VERSIONS)[number];

export class CorruptIndexError extends CanonError {
  constructor(message: string) {
    super("E_INDEX_CORRUPT", `index is corrupt: ${message}`, { exitCode: 1 });
  }
}

export const MAGIC = Buffer.from("CRBM25\0\0", "latin1");
/** Magic, version and header length. */
export const PREFIX_BYTES = 16;

const SECTION_NAMES = [
  "termOffsets",
  "postChunk",
  "postImpact",
  "termMax",
  "blockMax",
  "chunkDoc",
  "chunkStart",
  "chunkEnd",
  "chunkIds",
  "postPacked",
  "chunkLen",
] as const;
export type SectionName = (typeof SECTION_NAMES)[number];
/**
 * The sections of each format, in file order. Format 1 stored each chunk's sha256 (chunkIds);
 * format 2 does not: a hit's chunk id is hashed from the snapshot bytes at its span when the
 * hit is shown, which spares the build a hash per chunk and the index 32 bytes per chunk.
 */
const SECTIONS_OF: Record<FormatVersion, readonly SectionName[]> = {
  1: ["termOffsets", "postChunk", "postImpact", "chunkDoc", "chunkStart", "chunkEnd", "chunkIds"],
  2: ["termOffsets", "postChunk", "postImpact", "termMax", "blockMax", "chunkDoc", "chunkStart", "chunkEnd"],
  3: ["termOffsets", "postPacked", "chunkLen", "chunkDoc", "chunkStart", "chunkEnd"],
};

export const pad8 = (n: number) => (8 - (n % 8)) % 8;

const Count = z.int().min(0);
const Header = z.strictObject({
  format: z.union(READABLE_VERSIONS.map((v) => z.literal(v))),
  endianness: z.literal("LE"),
  params: z
    .strictObject({
      // z.number() is finite: NaN or Infinity would turn every score into NaN.
      k1: z.number(),
      b: z.number(),
      chunkChars: z.int().min(1),
      overlapChars: Count,
      analyzer: z.enum(["simple", "english"]),
      titles: z.boolean(),
    })
    .refine((p) => p.overlapChars < p.chunkChars, "overlapChars is not below chunkChars"),
  stats: z.strictObject({
    documents: Count,
    chunks: Count,
    terms: Count,
    postings: Count,
    avgChunkLen: z.number().min(0),
    textBytes: Count,
  }),
  analyzer: z.strictObject({ id: z.string(), version: z.string() }),
  sections: z.array(z.tuple([z.string(), Count])),
  terms: z.string(),
  docIds: z.array(z.string()),
});
export type Header = z.infer<typeof Header>;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The format version an index's bytes declare (read, not checked), or 0 when they are not an index. */
export function indexFormatVersion(bytes: Uint8Array): number {
  if (bytes.byteLength < PREFIX_BYTES || !Buffer.from(bytes.subarray(0, 8)).equals(MAGIC)) return 0;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
}

/**
 * Header.safeParse, with its two large fields (the terms, one string, and the doc ids, one
 * string per document) checked by hand, so zod walks only the small rest. When anything is in
 * doubt, zod parses the whole header as it is, so a bad header gets zod's own error, as before.
 */
function parseHeader(json: unknown): ReturnType<typeof Header.safeParse> {
  if (typeof json === "object" && json !== null && !Array.isArray(json)) {
    const { terms, docIds, ...rest } = json as Record<string, unknown>;
    if (typeof terms === "string" && Array.isArray(docIds) && docIds.every((id) => typeof id === "string")) {
      const small = Header.safeParse({ ...rest, terms: "", docIds: [] });
      if (small.success) return { success: true, data: { ...small.data, terms, docIds: docIds as string[] } };
    }
  }
  return Header.safeParse(json);
}

/** The fixed prefix and the JSON header; returns the header and where the sections begin. */
export function readHeader(bytes: Uint8Array): { header: Header; sectionsAt: number } {
  if (bytes.byteLength < PREFIX_BYTES || !Buffer.from(bytes.subarray(0, 8)).equals(MAGIC))
    throw new CorruptIndexError("bad magic number");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (!READABLE_VERSIONS.some((v) => v === version))
    throw new CorruptIndexError(
      `format version ${version}, but this build reads versions ${READABLE_VERSIONS.slice(0, -1).join(", ")} and ${READABLE_VERSIONS.at(-1)} only: rebuild the index`,
    );
  const headerLength = dv.getUint32(12, true);
  if (PREFIX_BYTES + headerLength > bytes.byteLength) throw new CorruptIndexError("truncated header");
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength)));
  } catch {
    throw new CorruptIndexError("unreadable header");
  }
  const parsed = parseHeader(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CorruptIndexError(`bad header field ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  if (parsed.data.format !== version) throw new CorruptIndexError("the header's format is not the prefix's");
  const names = SECTIONS_OF[parsed.data.format];
  if (
    parsed.data.sections.length !== names.length ||
    !parsed.data.sections.every(([name], i) => name === names[i])
  )
    throw new CorruptIndexError(`sections are not ${names.join(", ")}`);
  const prefix = PREFIX_BYTES + headerLength;
  return { header: parsed.data, sectionsAt: prefix + pad8(prefix) };
}

/** Views each declared section in place; the declared lengths must cover the bytes exactly. */
export function readSections(
  bytes: Uint8Array,
  header: Header,
  sectionsAt: number,
): Partial<Record<SectionName, Uint8Array>> {
  let end = sectionsAt;
  for (const [, length] of header.sections) end += length + pad8(length);
  if (end !== bytes.byteLength)
    throw new CorruptIndexError(`sections declare ${end} bytes in all, the index has ${bytes.byteLength}`);
  const found: Partial<Record<SectionName, Uint8Array>> = {};
  let at = sectionsAt;
  for (const [name, length] of header.sections) {
    found[name as SectionName] = bytes.subarray(at, at + length);
    at += length + pad8(length);
  }
  return found;
}

export function viewU32(name: SectionName, s: Uint8Array | undefined): Uint32Array {
  if (s === undefined) throw new CorruptIndexError(`section ${name} is missing`);
  if (s.byteLength % 4 !== 0) throw new CorruptIndexError(`section ${name} is not a whole number of u32`);
  return new Uint32Array(s.buffer, s.byteOffset, s.byteLength / 4);
}

export function viewF32(name: SectionName, s: Uint8Array | undefined): Float32Array {
  if (s === undefined) throw new CorruptIndexError(`section ${name} is missing`);
  if (s.byteLength % 4 !== 0) throw new CorruptIndexError(`section ${name} is not a whole number of f32`);
  return new Float32Array(s.buffer, s.byteOffset, s.byteLength / 4);
}
