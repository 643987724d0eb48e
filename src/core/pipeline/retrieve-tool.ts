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
import { contentTerms } from "../retrieval/analyzer.js";
import type { Bm25Index, SearchHit } from "../retrieval/bm25.js";
import { type Sentence, splitSentences } from "../text/sentences.js";
import type { ToolHandler } from "./dispatch.js";

/** 2: evidence widened to whole sentences (+ the one before), `chunk`, `title`, `term_stats`. */
export const RETRIEVE_TOOL_VERSION = "2";

/** The tool version a provenance record was produced by: 1 returned bare chunks. */
export function retrieveToolVersion(provenance: RetrievalProvenance): string {
  return provenance.evidence === "sentences" ? RETRIEVE_TOOL_VERSION : "1";
}

/**
 * The byte span of whole sentences covering [start, end) of a document, starting one
 * sentence earlier (not a heading) for context. Unchanged when no sentence overlaps it.
 */
export function widenToSentences(
  sentences: readonly Sentence[],
  start: number,
  end: number,
): [number, number] {
  const first = sentences.findIndex((s) => s.end > start);
  let last = -1;
  for (let i = sentences.length - 1; i >= 0; i--)
    if ((sentences[i] as Sentence).start < end) {
      last = i;
      break;
    }
  if (first < 0 || last < first) return [start, end];
  const before = sentences[first - 1];
  const from = before !== undefined && !before.heading ? before.start : (sentences[first] as Sentence).start;
  return [Math.min(from, start), Math.max((sentences[last] as Sentence).end, end)];
}

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

/** A heading line's title without its "#" marks: bytes and text agree ("#" and spaces are ASCII). */
function titleOf(heading: Sentence): { span: [number, number]; text: string } {
  const text = heading.text.replace(/^#+\s*/u, "");
  return { span: [heading.end - Buffer.byteLength(text, "utf8"), heading.end], text };
}

/** Retrieve tool 1's payload: each hit is the bare chunk (kept so runs it made still verify). */
function chunkPayload(
  query: string,
  topK: number,
  hits: readonly SearchHit[],
  docs: ReadonlyMap<string, Uint8Array>,
  provenance: RetrievalProvenance,
): RetrievePayload {
  return {
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
    if (provenance.evidence !== "sentences") return chunkPayload(query, topK, hits, docs, provenance);
    const sentencesOf = new Map<string, Sentence[]>();
    const payload: RetrievePayload = {
      query,
      top_k: topK,
      hits: hits.map((h, i) => {
        const bytes = docs.get(h.docId);
        if (bytes === undefined)
          throw new Error(`document ${JSON.stringify(h.docId)} is missing from the snapshot`);
        let sentences = sentencesOf.get(h.docId);
        if (sentences === undefined) {
          sentences = splitSentences(Buffer.from(bytes).toString("utf8"));
          sentencesOf.set(h.docId, sentences);
        }
        const [start, end] = widenToSentences(sentences, h.start, h.end);
        const evidence = Buffer.from(bytes.subarray(start, end));
        const heading = sentences[0]?.heading === true && sentences[0].start === 0 ? sentences[0] : undefined;
        return {
          rank: i + 1,
          doc_id: h.docId,
          chunk_id: sha256Hex(evidence),
          span: [start, end],
          score: h.score,
          text: evidence.toString("utf8"),
          chunk: { id: h.chunkId, span: [h.start, h.end] },
          ...(heading === undefined ? {} : { title: titleOf(heading) }),
        } satisfies RetrievePayload["hits"][number];
      }),
      provenance,
      term_stats: index.termStats(contentTerms(query)),
    };
    return payload;
  };
}
