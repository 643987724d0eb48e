/**
 * The `retrieve` tool (SPEC §3.3): BM25 over a built index, returning ranked chunks with
 * their exact text and a provenance record. The tool refuses arguments that disagree with
 * the index it was built with, so a trace never claims parameters it did not use.
 */
import { RETRIEVE_TOOL } from "../artifact/names.js";
import { canonicalJson, sha256Hex } from "../canonical.js";
import type { ToolDescriptor } from "../models/run.js";
import type { RetrievalProvenance, RetrievePayload } from "../models/trace.js";
import type { Bm25Index } from "../retrieval/bm25.js";
import type { ToolHandler } from "./dispatch.js";

export const RETRIEVE_TOOL_VERSION = "1";

/** Returns the UTF-8 bytes of each requested document of the pinned snapshot. */
export type DocumentBytesLookup = (docIds: readonly string[]) => ReadonlyMap<string, Uint8Array>;

const INDEX_ARG_TO_PROVENANCE = {
  analyzer: (p: RetrievalProvenance) => p.analyzer.name,
  bm25_k1: (p: RetrievalProvenance) => p.k1,
  bm25_b: (p: RetrievalProvenance) => p.b,
  chunk_chars: (p: RetrievalProvenance) => p.chunk_chars,
  overlap_chars: (p: RetrievalProvenance) => p.overlap_chars,
  index_titles: (p: RetrievalProvenance) => p.index_titles,
} as const;

export function retrieveToolDescriptor(provenance: RetrievalProvenance): ToolDescriptor {
  const config = { ...provenance, analyzer: { ...provenance.analyzer }, limits: { ...provenance.limits } };
  return {
    name: RETRIEVE_TOOL,
    version: RETRIEVE_TOOL_VERSION,
    config,
    fingerprint: sha256Hex(canonicalJson(config)),
  };
}

export function makeRetrieveTool(
  index: Bm25Index,
  provenance: RetrievalProvenance,
  lookup: DocumentBytesLookup,
): ToolHandler {
  return (args) => {
    const { query, top_k: topK } = args;
    if (typeof query !== "string" || query.trim() === "")
      throw new Error('argument "query" must be a non-empty string');
    if (typeof topK !== "number" || !Number.isInteger(topK) || topK < 1) {
      throw new Error('argument "top_k" must be a positive integer');
    }
    for (const [name, recorded] of Object.entries(INDEX_ARG_TO_PROVENANCE)) {
      if (name in args && args[name] !== recorded(provenance)) {
        throw new Error(
          `argument "${name}" is ${JSON.stringify(args[name])} but the index was built with ${JSON.stringify(recorded(provenance))}`,
        );
      }
    }
    const hits = index.search(query, topK);
    const docs = lookup([...new Set(hits.map((h) => h.docId))]);
    const payload: RetrievePayload = {
      query,
      top_k: topK,
      hits: hits.map((h, i) => {
        const bytes = docs.get(h.docId);
        if (bytes === undefined)
          throw new Error(`document ${JSON.stringify(h.docId)} is missing from the snapshot`);
        return {
          rank: i + 1,
          doc_id: h.docId,
          chunk_id: h.chunkId,
          span: [h.start, h.end],
          score: h.score,
          text: Buffer.from(bytes.subarray(h.start, h.end)).toString("utf8"),
        };
      }),
      provenance,
    };
    return payload;
  };
}
