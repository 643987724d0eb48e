/**
 * retrieval_provenance (INV-PRV-001): the recorded corpus, index and configuration match the
 * store objects, the runtime descriptor, the plan, and the provenance files of the run.
 */
import { canonicalJson, sha256Hex } from "../../canonical.js";
import { CanonError } from "../../errors.js";
import { deserializeIndex } from "../../retrieval/bm25.js";
import { provenanceFiles } from "../../run/produce.js";
import type { Check } from "../check.js";
import { error, type Issue } from "../issue.js";
import { readStoreObject } from "../store-object.js";

export const retrievalProvenanceCheck: Check = {
  name: "retrieval_provenance",
  invariant: "INV-PRV-001",
  description: "recorded corpus, index and config hashes match the store objects and the run's records",
  run(view, context) {
    const issues: Issue[] = [];
    const payload = view.retrieval;
    const tools = view.run?.inputs.runtime.tools ?? [];
    const hasPlanRetrieval = (view.plan?.nodes ?? []).some((n) =>
      n.tool_requests.some((r) => r.tool === "retrieve"),
    );
    if (payload === null) {
      if (hasPlanRetrieval || tools.length > 0)
        issues.push(error("NO_RETRIEVAL_RESULT", "the plan retrieves, but no retrieve result parses"));
      for (const path of view.provenance.keys())
        issues.push(error("STRAY_PROVENANCE", `${path} exists in a run without retrieval`));
      return { issues, details: "no retrieval in this run" };
    }
    const p = payload.provenance;
    const tool = tools.find((t) => t.name === "retrieve");
    if (tool === undefined) issues.push(error("TOOL_NOT_DESCRIBED", "run.json describes no retrieve tool"));
    else {
      if (canonicalJson(tool.config) !== canonicalJson(p))
        issues.push(
          error("CONFIG_MISMATCH", "run.json's retrieve config differs from the provenance in the trace"),
        );
      if (tool.fingerprint !== sha256Hex(canonicalJson(tool.config)))
        issues.push(error("FINGERPRINT", "retrieve tool fingerprint does not hash its config"));
    }
    const gather = view.plan?.nodes.find((n) => n.kind === "gather");
    const planned = {
      analyzer: p.analyzer.name,
      bm25_k1: p.k1,
      bm25_b: p.b,
      chunk_chars: p.chunk_chars,
      overlap_chars: p.overlap_chars,
    };
    for (const [key, value] of Object.entries(planned)) {
      if (gather && gather.params[key] !== value)
        issues.push(
          error(
            "PLAN_PARAMS",
            `plan's ${key} is ${String(gather.params[key])}, provenance says ${String(value)}`,
          ),
        );
    }
    const snapshot = readStoreObject(context.store, p.corpus_snapshot, "corpus snapshot");
    if ("issue" in snapshot) issues.push(snapshot.issue);
    const index = readStoreObject(context.store, p.index_hash, "index");
    if ("issue" in index) issues.push(index.issue);
    else {
      try {
        const loaded = deserializeIndex(index.bytes);
        const built = loaded.params;
        const agrees =
          built.k1 === p.k1 &&
          built.b === p.b &&
          built.chunkChars === p.chunk_chars &&
          built.overlapChars === p.overlap_chars &&
          built.analyzer === p.analyzer.name &&
          built.titles === p.index_titles &&
          loaded.arrays.analyzer.version === p.analyzer.version &&
          loaded.stats.documents === p.documents &&
          loaded.stats.chunks === p.chunks;
        if (!agrees)
          issues.push(
            error(
              "INDEX_PARAMS",
              `index sha256:${p.index_hash} was built with other parameters than recorded`,
            ),
          );
      } catch (e) {
        if (!(e instanceof CanonError)) throw e;
        issues.push(error("INDEX_CORRUPT", e.message));
      }
    }
    if (view.trace !== null) {
      for (const [path, bytes] of provenanceFiles(view.trace, view.evidence)) {
        const actual = view.files.get(path);
        if (actual === undefined || Buffer.compare(Buffer.from(actual), Buffer.from(bytes)) !== 0) {
          issues.push(error("PROVENANCE_FILE", `${path} does not match the retrieval recorded in the trace`));
        }
      }
    }
    return {
      issues,
      details: `snapshot sha256:${p.corpus_snapshot.slice(0, 12)}…, index sha256:${p.index_hash.slice(0, 12)}…`,
    };
  },
};
