/**
 * The `retrieve` tool (SPEC §3.3): BM25 over a built index, returning ranked chunks with
 * their exact text and a provenance record. The tool refuses arguments that disagree with
 * the index it was built with, so a trace never claims parameters it did not use.
 *
 * Each hit's evidence is its chunk widened to whole sentences of the document, plus the
 * sentence before (the one an "It ..." sentence leans on), so a chunk boundary never cuts a
 * cited sentence; the payload also carries the index statistics of the query's terms
 * (`term_stats`), so the reasoner weighs words from the trace alone (SPEC §3.4).
 */
import { RETRIEVE_TOOL } from "../artifact/names.js";
import { canonicalJson, sha256Hex } from "../canonical.js";
import type { ToolDescriptor } from "../models/run.js";
import type { RetrievalProvenance, RetrievePayload } from "../models/trace.js";
import type { Bm25Index } from "../retrieval/bm25-index.js";
import { type DocumentBytesLookup, searchHits } from "../retrieval/hits.js";
import type { ToolHandler } from "./dispatch.js";

/** 2: evidence widened to whole sentences (+ the one before), `chunk`, `title`, `term_stats`. */
export const RETRIEVE_TOOL_VERSION = "2";

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
    const payload: RetrievePayload = {
      query,
      top_k: topK,
      ...searchHits(index, query, topK, lookup),
      provenance,
    };
    return payload;
  };
}
