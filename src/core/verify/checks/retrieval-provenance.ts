/**
 * retrieval_provenance (INV-PRV-001): the recorded corpus, index and configuration match the
 * store objects, the runtime descriptor, the spec, the plan and the provenance files; and the
 * recorded retrieve result is recomputed: the recorded call, run against the pinned index and
 * snapshot, must give the same ranks, chunks, spans, scores and texts (SPEC §3.3).
 */

import { RETRIEVE_TOOL } from "../../artifact/names.js";
import { provenanceFiles } from "../../artifact/projections.js";
import type { RunView } from "../../artifact/view.js";
import { canonicalJson, sha256Hex } from "../../canonical.js";
import { findDocuments } from "../../corpus/document.js";
import { CanonError } from "../../errors.js";
import type { RetrievePayload } from "../../models/trace.js";
import { makeRetrieveTool } from "../../pipeline/retrieve-tool.js";
import { type Bm25Index, deserializeIndex } from "../../retrieval/bm25.js";
import type { Check } from "../check.js";
import { type Finding, finding } from "../findings.js";
import { readStoreObject } from "../store-object.js";

/** run.json's tool descriptor, the spec's pinned corpus and the plan agree with the provenance. */
function recordFindings(view: RunView, payload: RetrievePayload): Finding[] {
  const findings: Finding[] = [];
  const p = payload.provenance;
  const tool = view.run?.inputs.runtime.tools.find((t) => t.name === RETRIEVE_TOOL);
  if (tool === undefined) findings.push(finding("TOOL_NOT_DESCRIBED", {}));
  else {
    if (canonicalJson(tool.config) !== canonicalJson(p)) findings.push(finding("CONFIG_MISMATCH", {}));
    if (tool.fingerprint !== sha256Hex(canonicalJson(tool.config))) findings.push(finding("FINGERPRINT", {}));
  }
  // The run id covers the spec, so the spec's `sha256:` pin is what makes the snapshot part of it.
  const pinned = view.spec?.constraints.corpus;
  if (view.spec !== null && pinned !== `sha256:${p.corpus_snapshot}`)
    findings.push(finding("SPEC_CORPUS", { recorded: String(pinned), snapshot: p.corpus_snapshot }));
  const gather = view.plan?.nodes.find((n) => n.kind === "gather");
  const recorded = {
    top_k: payload.top_k,
    analyzer: p.analyzer.name,
    bm25_k1: p.k1,
    bm25_b: p.b,
    chunk_chars: p.chunk_chars,
    overlap_chars: p.overlap_chars,
    index_titles: p.index_titles,
  };
  for (const [param, value] of Object.entries(recorded))
    if (gather && gather.params[param] !== value)
      findings.push(
        finding("PLAN_PARAMS", { param, planned: String(gather.params[param]), recorded: String(value) }),
      );
  return findings;
}

/** The index object parses and was built with the recorded parameters over the recorded corpus size. */
function indexAgrees(index: Bm25Index, p: RetrievePayload["provenance"]): boolean {
  const built = index.params;
  return (
    built.k1 === p.k1 &&
    built.b === p.b &&
    built.chunkChars === p.chunk_chars &&
    built.overlapChars === p.overlap_chars &&
    built.analyzer === p.analyzer.name &&
    built.titles === p.index_titles &&
    index.arrays.analyzer.version === p.analyzer.version &&
    index.stats.documents === p.documents &&
    index.stats.chunks === p.chunks
  );
}

/**
 * Indexes already loaded from these exact store bytes. The store hands out bytes it has
 * re-hashed and keeps them, so the same object is the same verified index; loading and
 * preparing an index is most of a verification's cost when one process verifies many runs.
 */
const loadedIndexes = new WeakMap<Uint8Array, Bm25Index>();

function loadIndex(bytes: Uint8Array): Bm25Index {
  let index = loadedIndexes.get(bytes);
  if (index === undefined) {
    index = deserializeIndex(bytes);
    loadedIndexes.set(bytes, index);
  }
  return index;
}

/** Where a recomputed payload first differs from the recorded one, for the finding's detail. */
function firstDifference(recorded: RetrievePayload, recomputed: RetrievePayload): string | null {
  if (recorded.query !== recomputed.query || recorded.top_k !== recomputed.top_k)
    return "query or top_k differs";
  if (recorded.hits.length !== recomputed.hits.length)
    return `${recomputed.hits.length} hits, ${recorded.hits.length} recorded`;
  const i = recorded.hits.findIndex((a, i) => {
    const b = recomputed.hits[i];
    return (
      b === undefined ||
      a.rank !== b.rank ||
      a.doc_id !== b.doc_id ||
      a.chunk_id !== b.chunk_id ||
      a.span[0] !== b.span[0] ||
      a.span[1] !== b.span[1] ||
      // Same index bytes, same query: the same floats, summed in the same order (bm25.ts).
      !Object.is(a.score, b.score) ||
      a.text !== b.text
    );
  });
  // The recomputed payload carries the recorded provenance itself, which recordFindings checks.
  return i >= 0 ? `hit at rank ${i + 1} differs` : null;
}

/** Re-runs the recorded retrieve call with the retrieve tool itself, over the pinned store objects. */
function recomputedFindings(
  view: RunView,
  payload: RetrievePayload,
  index: Bm25Index,
  snapshot: Uint8Array,
): Finding[] {
  const events = view.trace?.events ?? [];
  const result = events.find((e) => e.type === "tool_returned" && e.result.ok);
  const callId = result?.type === "tool_returned" ? result.result.call_id : undefined;
  const called = events.find((e) => e.type === "tool_called" && e.call.id === callId);
  if (called?.type !== "tool_called" || called.call.tool !== RETRIEVE_TOOL)
    return [finding("RETRIEVAL_RECOMPUTED", { detail: "no retrieve call recorded for the result" })];
  const lookup = (docIds: readonly string[]) =>
    new Map([...findDocuments(snapshot, docIds)].map(([id, doc]) => [id, Buffer.from(doc.text, "utf8")]));
  try {
    const recomputed = makeRetrieveTool(
      index,
      payload.provenance,
      lookup,
    )(called.call.args) as RetrievePayload;
    const detail = firstDifference(payload, recomputed);
    return detail === null ? [] : [finding("RETRIEVAL_RECOMPUTED", { detail })];
  } catch (e) {
    // The tool refuses arguments that disagree with the index, or a snapshot missing a document.
    return [finding("RETRIEVAL_RECOMPUTED", { detail: e instanceof Error ? e.message : String(e) })];
  }
}

export const retrievalProvenanceCheck: Check = {
  name: "retrieval_provenance",
  invariant: "INV-PRV-001",
  description:
    "recorded corpus, index and config match the store objects and the run's records; the retrieval recomputes",
  run(view, context) {
    const payload = view.retrieval;
    if (payload === null) {
      const findings: Finding[] = [];
      const plansRetrieval = (view.plan?.nodes ?? []).some((n) =>
        n.tool_requests.some((r) => r.tool === RETRIEVE_TOOL),
      );
      if (plansRetrieval || (view.run?.inputs.runtime.tools.length ?? 0) > 0)
        findings.push(finding("NO_RETRIEVAL_RESULT", {}));
      for (const path of view.provenance.keys()) findings.push(finding("STRAY_PROVENANCE", { path }));
      return { findings, details: "no retrieval in this run" };
    }
    const p = payload.provenance;
    const findings = recordFindings(view, payload);
    const snapshot = readStoreObject(context.store, p.corpus_snapshot, "corpus snapshot");
    if ("finding" in snapshot) findings.push(snapshot.finding);
    const stored = readStoreObject(context.store, p.index_hash, "index");
    let index: Bm25Index | null = null;
    if ("finding" in stored) findings.push(stored.finding);
    else {
      try {
        index = loadIndex(stored.bytes);
      } catch (e) {
        if (!(e instanceof CanonError)) throw e;
        findings.push(finding("INDEX_CORRUPT", { hash: p.index_hash, error: e.message }));
      }
    }
    const recomputable = index !== null && "bytes" in snapshot && indexAgrees(index, p);
    if (index !== null && !indexAgrees(index, p))
      findings.push(finding("INDEX_PARAMS", { hash: p.index_hash }));
    if (recomputable && index !== null && "bytes" in snapshot)
      findings.push(...recomputedFindings(view, payload, index, snapshot.bytes));
    if (view.trace !== null)
      for (const [path, bytes] of provenanceFiles(view.trace, view.evidence)) {
        const actual = view.files.get(path);
        if (actual === undefined || !Buffer.from(actual).equals(bytes))
          findings.push(finding("PROVENANCE_FILE", { path }));
      }
    return {
      findings,
      details: recomputable
        ? `${payload.hits.length} hit(s) recomputed from snapshot sha256:${p.corpus_snapshot.slice(0, 12)}…, index sha256:${p.index_hash.slice(0, 12)}…`
        : "retrieval not recomputed: the store objects are unavailable or disagree",
      metrics: { hits: payload.hits.length },
    };
  },
};
