/**
 * The `retrieve` tool (docs/design.md §3.3): BM25 over a built index, returning ranked chunks with
 * their exact text and a provenance record. The tool refuses arguments that disagree with
 * the index it was built with, so a trace never claims parameters it did not use.
 *
 * Each hit's evidence is its chunk widened to whole sentences of the document, plus the
 * sentence before (the one an "It ..." sentence leans on), so a chunk boundary never cuts a
 * cited sentence; the payload also carries the index statistics of the query's terms
 * (`term_stats`), so the reasoner weighs words from the trace alone (docs/design.md §3.4).
 */
import { RETRIEVE_TOOL, retrieveToolVersion } from "../artifact/names.js";
import { canonicalJson, sha256Hex } from "../canonical.js";
import type { ToolDescriptor } from "../models/run.js";
import type { RetrievalProvenance, RetrievePayload } from "../models/trace.js";
import type { Bm25Index } from "../retrieval/bm25/bm25-index.js";
import { type DocumentBytesLookup, evidenceModeOf, searchHits } from "../retrieval/hits.js";
import { recordedIndexParams } from "../retrieval/index-params.js";
import type { ToolHandler } from "./dispatch.js";

export { RETRIEVE_TOOL_VERSION, retrieveToolVersion } from "../artifact/names.js";

export function retrieveToolDescriptor(provenance: RetrievalProvenance): ToolDescriptor {
  const { evidence, ...rest } = provenance;
  const config = {
    ...rest,
    analyzer: { ...provenance.analyzer },
    limits: { ...provenance.limits },
    ...(evidence === undefined ? {} : { evidence }),
  };
  return {
    name: RETRIEVE_TOOL,
    version: retrieveToolVersion(provenance),
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
    for (const [name, built] of Object.entries(recordedIndexParams(provenance))) {
      if (name in args && args[name] !== built) {
        throw new Error(
          `argument "${name}" is ${JSON.stringify(args[name])} but the index was built with ${JSON.stringify(built)}`,
        );
      }
    }
    const payload: RetrievePayload = {
      query,
      top_k: topK,
      ...searchHits(index, query, topK, lookup, evidenceModeOf(provenance)),
      provenance,
    };
    return payload;
  };
}
