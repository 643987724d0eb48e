/**
 * Index bytes of format 1, the format before block-max bounds: a format-2 index without its
 * termMax and blockMax sections, with the chunk ids format 1 stored (the sha256 of each chunk's
 * bytes) appended, and the version set back. bm25-format.test.ts checks this against bytes the
 * format-1 build wrote.
 */
import { createHash } from "node:crypto";
import { deserializeIndex } from "../../src/core/retrieval/bm25/bm25-format.js";

const PREFIX_BYTES = 16;
const pad8 = (n: number) => (8 - (n % 8)) % 8;

/** `texts` holds each document's text by doc id: the chunk ids are hashed from it. */
export function toFormat1(bytes: Uint8Array, texts: ReadonlyMap<string, string>): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(8, true) !== 2) throw new Error("not a format-2 index");
  const a = deserializeIndex(bytes).arrays;
  const chunkIds = Buffer.alloc(a.stats.chunks * 32);
  for (let c = 0; c < a.stats.chunks; c++) {
    const text = Buffer.from(texts.get(a.docIds[a.chunkDoc[c] as number] as string) ?? "", "utf8");
    createHash("sha256")
      .update(text.subarray(a.chunkStart[c], a.chunkEnd[c]))
      .digest()
      .copy(chunkIds, c * 32);
  }
  const headerLength = dv.getUint32(12, true);
  const header = JSON.parse(
    Buffer.from(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength)).toString("utf8"),
  ) as { format: number; sections: Array<[string, number]> };
  let at = PREFIX_BYTES + headerLength + pad8(PREFIX_BYTES + headerLength);
  const kept: Buffer[] = [];
  for (const [name, length] of header.sections) {
    if (name !== "termMax" && name !== "blockMax")
      kept.push(Buffer.from(bytes.subarray(at, at + length + pad8(length))));
    at += length + pad8(length);
  }
  kept.push(chunkIds, Buffer.alloc(pad8(chunkIds.length)));
  // Key order as format 1 wrote it: the JSON text is part of the index's bytes.
  const old = {
    ...header,
    format: 1,
    sections: [
      ...header.sections.filter(([name]) => name !== "termMax" && name !== "blockMax"),
      ["chunkIds", chunkIds.length],
    ],
  };
  const json = Buffer.from(JSON.stringify(old), "utf8");
  const prefix = Buffer.alloc(PREFIX_BYTES);
  Buffer.from(bytes.subarray(0, 8)).copy(prefix);
  prefix.writeUInt32LE(1, 8);
  prefix.writeUInt32LE(json.length, 12);
  return new Uint8Array(
    Buffer.concat([prefix, json, Buffer.alloc(pad8(PREFIX_BYTES + json.length)), ...kept]),
  );
}
