/**
 * retrieval_provenance (INV-PRV-001): the recorded corpus, index and configuration match the
 * store objects, the runtime descriptor, the spec, the plan and the provenance files (docs/design.md §3.3).
 * retrieval_recompute re-runs the search itself.
 */

import { isUtf8 } from "node:buffer";
import { RETRIEVE_TOOL, retrieveToolOf, retrieveToolVersion } from "../../artifact/names.js";
import { provenanceFiles } from "../../artifact/projections.js";
import type { RunView } from "../../artifact/view.js";
import { canonicalJson, sha256Hex } from "../../canonical.js";
import { readSnapshot } from "../../corpus/document.js";
import { CanonError } from "../../errors.js";
import type { RetrievePayload } from "../../models/trace.js";
import { indexFormatVersion, loadIndex } from "../../retrieval/bm25/bm25-format.js";
import { recordedIndexParams } from "../../retrieval/index-params.js";
import type { Check, CheckContext } from "../check.js";
import { type Finding, finding } from "../findings.js";
import {
  indexAgrees,
  type PinnedIndex,
  REBUILD_INDEX_MAX_BYTES,
  rebuildSubject,
  rebuiltIndexAgreesRemembered,
} from "../pinned-index.js";
import { describeCombination, type RecordedCombination, releasedCombination } from "../releases.js";
import { readStoreObject } from "../store-object.js";

/** run.json's tool descriptor, the spec's pinned corpus and the plan agree with the provenance. */
function recordFindings(view: RunView, payload: RetrievePayload): Finding[] {
  const findings: Finding[] = [];
  const p = payload.provenance;
  const tool = view.run === null ? undefined : retrieveToolOf(view.run.inputs.runtime);
  if (tool === undefined) findings.push(finding("TOOL_NOT_DESCRIBED", {}));
  else {
    if (canonicalJson(tool.config) !== canonicalJson(p)) findings.push(finding("CONFIG_MISMATCH", {}));
    if (tool.fingerprint !== sha256Hex(canonicalJson(tool.config))) findings.push(finding("FINGERPRINT", {}));
    // The version label follows from what the tool recorded (its evidence mode): not a free label.
    if (tool.version !== retrieveToolVersion(p))
      findings.push(finding("TOOL_VERSION", { recorded: tool.version, expected: retrieveToolVersion(p) }));
  }
  // The run id covers the spec, so the spec's `sha256:` pin is what makes the snapshot part of it.
  const pinned = view.spec?.constraints.corpus;
  if (view.spec !== null && pinned !== `sha256:${p.corpus_snapshot}`)
    findings.push(finding("SPEC_CORPUS", { recorded: String(pinned), snapshot: p.corpus_snapshot }));
  const gather = view.plan?.nodes.find((n) => n.kind === "gather");
  const recorded = { top_k: payload.top_k, ...recordedIndexParams(p) };
  for (const [param, value] of Object.entries(recorded))
    if (gather && gather.params[param] !== value)
      findings.push(
        finding("PLAN_PARAMS", { param, planned: String(gather.params[param]), recorded: String(value) }),
      );
  return findings;
}

/** The recorded versions are a combination some build produced (issue 19 item 5); else a finding. */
function combinationFindings(view: RunView, combination: Omit<RecordedCombination, "reasoner">): Finding[] {
  if (view.run === null) return [];
  const recorded = { ...combination, reasoner: view.run.inputs.runtime.reasoner };
  return releasedCombination(recorded) === null
    ? [finding("VERSION_COMBINATION", { combination: describeCombination(recorded) })]
    : [];
}

/**
 * isUtf8, remembered per byte array: the store hands every check of a verification the same
 * bytes, and this check runs twice (sealed, then for the sealing report).
 */
const utf8Checked = new WeakMap<Uint8Array, boolean>();
function validUtf8(bytes: Uint8Array): boolean {
  let valid = utf8Checked.get(bytes);
  if (valid === undefined) {
    valid = isUtf8(bytes);
    utf8Checked.set(bytes, valid);
  }
  return valid;
}

/**
 * The snapshot's UTF-8 bytes of document text, or, when they cannot exceed `limit`, a bound at
 * most `limit`. In valid UTF-8, a JSON string's decoded text is never longer than its encoding
 * (an escape is at least as long as what it stands for), so a snapshot no longer than the limit
 * holds no more text than that, and its documents need not be parsed. Invalid UTF-8 (a byte
 * that decodes to the 3-byte U+FFFD) is counted document by document.
 */
function textBytesUpTo(snapshot: Uint8Array, limit: number): number {
  if (snapshot.byteLength <= limit && validUtf8(snapshot)) return snapshot.byteLength;
  let bytes = 0;
  for (const doc of readSnapshot(snapshot)) bytes += Buffer.byteLength(doc.text, "utf8");
  return bytes;
}

/** The recorded corpus limits hold for the pinned snapshot and index, as the producer enforced them. */
function limitFindings(p: RetrievePayload["provenance"], snapshot: Uint8Array | null): Finding[] {
  const findings: Finding[] = [];
  const over = (limit: string, value: number, max: number) => {
    if (!(max >= 1 && value <= max)) findings.push(finding("CORPUS_LIMIT", { limit, value, recorded: max }));
  };
  over("max_documents", p.documents, p.limits.max_documents);
  over("max_chunks", p.chunks, p.limits.max_chunks);
  if (snapshot !== null) over("max_bytes", textBytesUpTo(snapshot, p.limits.max_bytes), p.limits.max_bytes);
  return findings;
}

/**
 * Whether the context's records (authenticated, bound to these very bytes by their hashes) say
 * that rebuilding this index from this snapshot agreed before. Only under "by-size" (`--policy
 * strict` rebuilds every time) and for a snapshot that rule would rebuild.
 */
function recordedAgreement(
  p: RetrievePayload["provenance"],
  snapshot: Uint8Array,
  indexBytes: Uint8Array,
  context: CheckContext,
): boolean {
  return (
    (context.rebuildIndex ?? "by-size") === "by-size" &&
    snapshot.byteLength <= REBUILD_INDEX_MAX_BYTES &&
    context.rebuilds?.agreed(rebuildSubject(p, indexFormatVersion(indexBytes))) === true
  );
}

/**
 * The pinned index is the one the recorded parameters build from the pinned snapshot (issue 19
 * item 4): rebuilt and compared when the policy's cost rule allows, else an info finding says
 * the index was trusted. A rebuild that the context's records say agreed before (`recorded`), or
 * that this process already ran, is not repeated, except under "always" (`--policy strict`),
 * which rebuilds every time.
 */
function rebuildFindings(
  p: RetrievePayload["provenance"],
  snapshot: Uint8Array,
  pinned: PinnedIndex,
  context: CheckContext,
  recorded: boolean,
): Finding[] {
  const rule = context.rebuildIndex ?? "by-size";
  if (rule === "by-size" && snapshot.byteLength > REBUILD_INDEX_MAX_BYTES)
    return [finding("INDEX_NOT_REBUILT", { bytes: snapshot.byteLength, limit: REBUILD_INDEX_MAX_BYTES })];
  if (recorded) return [];
  const subject = rebuildSubject(p, indexFormatVersion(pinned.bytes));
  let agrees: boolean;
  try {
    agrees = rebuiltIndexAgreesRemembered(snapshot, pinned, p, subject, rule === "always");
  } catch (e) {
    // An analyzer this build lacks, or a snapshot that does not parse: not rebuildable.
    if (!(e instanceof CanonError) && !(e instanceof SyntaxError)) throw e;
    agrees = false;
  }
  if (agrees) context.rebuilds?.record(subject);
  return agrees
    ? []
    : [finding("INDEX_NOT_REBUILDABLE", { hash: p.index_hash, snapshot: p.corpus_snapshot })];
}

export const retrievalProvenanceCheck: Check = {
  name: "retrieval_provenance",
  invariant: "INV-PRV-001",
  description:
    "recorded corpus, index and config match the store objects and the run's records; the index rebuilds from the snapshot; the versions are a released combination",
  // Not a seal reader, but its outcome depends on the policy's cost rule for rebuilding the index.
  readsSeal: true,
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
      if (findings.length === 0)
        findings.push(
          ...combinationFindings(view, { retrieveTool: null, indexFormat: null, analyzer: null }),
        );
      return { findings, details: "no retrieval in this run" };
    }
    const p = payload.provenance;
    const findings = recordFindings(view, payload);
    const snapshot = readStoreObject(context.store, p.corpus_snapshot, "corpus snapshot");
    if ("finding" in snapshot) findings.push(snapshot.finding);
    const stored = readStoreObject(context.store, p.index_hash, "index");
    let pinned: PinnedIndex | null = null;
    // Asked before loading: an index a record vouches for is not checked again as it loads.
    const recorded =
      !("finding" in stored) &&
      !("finding" in snapshot) &&
      recordedAgreement(p, snapshot.bytes, stored.bytes, context);
    if ("finding" in stored) findings.push(stored.finding);
    else {
      try {
        pinned = { bytes: stored.bytes, index: loadIndex(stored.bytes, recorded) };
      } catch (e) {
        if (!(e instanceof CanonError)) throw e;
        findings.push(finding("INDEX_CORRUPT", { hash: p.index_hash, error: e.message }));
      }
    }
    if (pinned !== null && !indexAgrees(pinned.index, p))
      findings.push(finding("INDEX_PARAMS", { hash: p.index_hash }));
    else if (pinned !== null && !("finding" in snapshot))
      findings.push(...rebuildFindings(p, snapshot.bytes, pinned, context, recorded));
    const tool = view.run === null ? undefined : retrieveToolOf(view.run.inputs.runtime);
    findings.push(
      ...combinationFindings(view, {
        retrieveTool: tool?.version ?? retrieveToolVersion(p),
        indexFormat: pinned === null ? null : indexFormatVersion(pinned.bytes),
        analyzer: { id: p.analyzer.name, version: p.analyzer.version },
      }),
      ...limitFindings(p, "finding" in snapshot ? null : snapshot.bytes),
    );
    if (view.trace !== null)
      for (const [path, bytes] of provenanceFiles(view.trace, view.evidence)) {
        const actual = view.files.get(path);
        if (actual === undefined || !Buffer.from(actual).equals(bytes))
          findings.push(finding("PROVENANCE_FILE", { path }));
      }
    return {
      findings,
      details: `snapshot sha256:${p.corpus_snapshot.slice(0, 12)}…, index sha256:${p.index_hash.slice(0, 12)}…, ${payload.hits.length} hit(s)`,
      metrics: { hits: payload.hits.length },
    };
  },
};
