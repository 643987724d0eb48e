/**
 * retrieval_recompute (INV-RET-001): the recorded ranking and scores equal a fresh search of
 * the pinned index with the recorded query and top_k, and each hit's text equals the pinned
 * snapshot's bytes at its span (docs/design.md §5). The search is run here with the retrieval library,
 * not through the producer's retrieve tool, and scores every posting where the producer prunes:
 * a bug in the tool or in pruning is not reproduced by its check.
 */
import { RETRIEVE_TOOL } from "../../artifact/names.js";
import { canonicalJson } from "../../canonical.js";
import { findDocuments } from "../../corpus/document.js";
import { CanonError } from "../../errors.js";
import type { RetrievalHit, RetrievePayload } from "../../models/trace.js";
import { loadIndex } from "../../retrieval/bm25/bm25-format.js";
import type { Bm25Index } from "../../retrieval/bm25/bm25-index.js";
import { evidenceModeOf, searchHits } from "../../retrieval/hits.js";
import type { Check } from "../check.js";
import { type Finding, finding } from "../findings.js";
import { indexAgrees } from "../pinned-index.js";
import { readStoreObject } from "../store-object.js";

/** Where the fresh hits first differ from the recorded ones, or null when they agree exactly. */
function firstDifference(recorded: readonly RetrievalHit[], fresh: readonly RetrievalHit[]): string | null {
  for (let i = 0; i < Math.max(recorded.length, fresh.length); i++) {
    const a = recorded[i];
    const b = fresh[i];
    if (a === undefined || b === undefined)
      return `${fresh.length} hit(s) from a fresh search, ${recorded.length} recorded`;
    const field =
      a.rank !== b.rank
        ? "rank"
        : a.doc_id !== b.doc_id
          ? "document"
          : a.chunk_id !== b.chunk_id
            ? "chunk"
            : a.span[0] !== b.span[0] || a.span[1] !== b.span[1]
              ? "span"
              : // Same index bytes, same query: the same floats, summed in the same order.
                !Object.is(a.score, b.score)
                ? `score (recorded ${a.score}, recomputed ${b.score})`
                : a.text !== b.text
                  ? "text"
                  : canonicalJson(a.chunk ?? null) !== canonicalJson(b.chunk ?? null) ||
                      canonicalJson(a.title ?? null) !== canonicalJson(b.title ?? null)
                    ? "chunk or title"
                    : null;
    if (field !== null) return `rank ${i + 1}: ${field} differs`;
  }
  return null;
}

/** The recorded call behind the retrieve result: its query and top_k are what the search is given. */
function recordedCall(view: Parameters<Check["run"]>[0]): { query: unknown; top_k: unknown } | null {
  const events = view.trace?.events ?? [];
  const result = events.find((e) => e.type === "tool_returned" && e.result.ok);
  const callId = result?.type === "tool_returned" ? result.result.call_id : undefined;
  const called = events.find((e) => e.type === "tool_called" && e.call.id === callId);
  if (called?.type !== "tool_called" || called.call.tool !== RETRIEVE_TOOL) return null;
  return { query: called.call.args.query, top_k: called.call.args.top_k };
}

function recompute(
  view: Parameters<Check["run"]>[0],
  payload: RetrievePayload,
  index: Bm25Index,
  snapshot: Uint8Array,
): Finding[] {
  const call = recordedCall(view);
  if (call === null)
    return [finding("RETRIEVAL_RECOMPUTED", { detail: "no retrieve call recorded for the result" })];
  if (call.query !== payload.query || call.top_k !== payload.top_k)
    return [finding("RETRIEVAL_RECOMPUTED", { detail: "the result's query or top_k is not the call's" })];
  if (payload.query.trim() === "" || !Number.isInteger(payload.top_k) || payload.top_k < 1)
    return [finding("RETRIEVAL_RECOMPUTED", { detail: "the call's query or top_k is not searchable" })];
  const lookup = (docIds: readonly string[]) =>
    new Map([...findDocuments(snapshot, docIds)].map(([id, doc]) => [id, Buffer.from(doc.text, "utf8")]));
  let fresh: ReturnType<typeof searchHits>;
  try {
    fresh = searchHits(
      index,
      payload.query,
      payload.top_k,
      lookup,
      evidenceModeOf(payload.provenance),
      "exhaustive",
    );
  } catch (e) {
    // A hit whose document is missing from the snapshot: the index was not built over it.
    return [finding("RETRIEVAL_RECOMPUTED", { detail: e instanceof Error ? e.message : String(e) })];
  }
  const detail =
    firstDifference(payload.hits, fresh.hits) ??
    // Tool version 2 and later record term statistics; they cannot be dropped or added (issue 19).
    (canonicalJson(payload.term_stats ?? null) !== canonicalJson(fresh.term_stats ?? null)
      ? payload.term_stats === undefined
        ? "term_stats are missing"
        : "term_stats differ"
      : null);
  return detail === null ? [] : [finding("RETRIEVAL_RECOMPUTED", { detail })];
}

export const retrievalRecomputeCheck: Check = {
  name: "retrieval_recompute",
  invariant: "INV-RET-001",
  description:
    "the recorded ranking and scores equal a fresh search of the pinned index with the recorded parameters",
  run(view, context) {
    const payload = view.retrieval;
    if (payload === null) return { findings: [], details: "no retrieval in this run" };
    const p = payload.provenance;
    const snapshot = readStoreObject(context.store, p.corpus_snapshot, "corpus snapshot");
    const stored = readStoreObject(context.store, p.index_hash, "index");
    if ("finding" in snapshot || "finding" in stored)
      // retrieval_provenance names the missing or corrupt object; nothing can be recomputed here.
      return {
        findings: [finding("RETRIEVAL_NOT_RECOMPUTED", { reason: "a pinned store object is unavailable" })],
        details: "not recomputed",
      };
    let index: Bm25Index;
    try {
      index = loadIndex(stored.bytes);
    } catch (e) {
      if (!(e instanceof CanonError)) throw e;
      return {
        findings: [finding("RETRIEVAL_NOT_RECOMPUTED", { reason: "the pinned index is corrupt" })],
        details: "not recomputed",
      };
    }
    if (!indexAgrees(index, p))
      return {
        findings: [
          finding("RETRIEVAL_NOT_RECOMPUTED", { reason: "the pinned index was built with other parameters" }),
        ],
        details: "not recomputed",
      };
    return {
      findings: recompute(view, payload, index, snapshot.bytes),
      details: `${payload.hits.length} hit(s) recomputed from snapshot sha256:${p.corpus_snapshot.slice(0, 12)}…, index sha256:${p.index_hash.slice(0, 12)}…`,
      metrics: { hits: payload.hits.length },
    };
  },
};
