/**
 * The ranked hits of a search, as the run records them (docs/design.md §3.3): each chunk widened to whole
 * sentences of its document (plus the sentence before, which an "It ..." sentence leans on),
 * the chunk the index matched, the document's title, and the index statistics of the query's
 * terms. One pure function: the retrieve tool records it, the verifier recomputes it.
 */
import { sha256Hex } from "../canonical.js";
import type { RetrievalProvenance, RetrievePayload } from "../models/trace.js";
import { type Sentence, splitSentences } from "../text/sentences.js";
import { contentTerms } from "./analyzer.js";
import type { Bm25Index, Scoring } from "./bm25/bm25-index.js";

/** Returns the UTF-8 bytes of each requested document of the pinned snapshot. */
export type DocumentBytesLookup = (docIds: readonly string[]) => ReadonlyMap<string, Uint8Array>;

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

/** A heading line's title without its "#" marks: bytes and text agree ("#" and spaces are ASCII). */
function titleOf(heading: Sentence): { span: [number, number]; text: string } {
  const text = heading.text.replace(/^#+\s*/u, "");
  return { span: [heading.end - Buffer.byteLength(text, "utf8"), heading.end], text };
}

/**
 * How a run's evidence was cut: retrieve tool 2 records `evidence: "sentences"` in its
 * provenance; tool 1 returned the bare chunks and recorded nothing, and its runs still verify.
 */
export type EvidenceMode = "sentences" | "chunks";

export function evidenceModeOf(provenance: RetrievalProvenance): EvidenceMode {
  return provenance.evidence === "sentences" ? "sentences" : "chunks";
}

/**
 * How the top-k is found: "pruned" is the producer's search (exhaustive or pruned, whichever
 * costs less for the query), "exhaustive" scores every posting (the verifier, so a pruning bug
 * is not reproduced by its check). Both give the same hits.
 */
export type { Scoring };

export function searchHits(
  index: Bm25Index,
  query: string,
  topK: number,
  lookup: DocumentBytesLookup,
  mode: EvidenceMode,
  scoring: Scoring = "pruned",
): Pick<RetrievePayload, "hits" | "term_stats"> {
  const hits = scoring === "pruned" ? index.search(query, topK) : index.searchExhaustive(query, topK);
  const docs = lookup([...new Set(hits.map((h) => h.docId))]);
  if (mode === "chunks")
    return {
      hits: hits.map((h, i) => {
        const bytes = docs.get(h.docId);
        if (bytes === undefined)
          throw new Error(`document ${JSON.stringify(h.docId)} is missing from the snapshot`);
        const text = Buffer.from(bytes.subarray(h.start, h.end)).toString("utf8");
        return {
          rank: i + 1,
          doc_id: h.docId,
          chunk_id: sha256Hex(bytes.subarray(h.start, h.end)),
          span: [h.start, h.end],
          score: h.score,
          text,
        };
      }),
    };
  const sentencesOf = new Map<string, Sentence[]>();
  return {
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
        chunk: { id: sha256Hex(bytes.subarray(h.start, h.end)), span: [h.start, h.end] },
        ...(heading === undefined ? {} : { title: titleOf(heading) }),
      } satisfies RetrievePayload["hits"][number];
    }),
    term_stats: index.termStats(contentTerms(query)),
  };
}
