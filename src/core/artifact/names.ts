/**
 * Names a run artifact uses for things outside it: the retrieve tool, and the URI of a corpus
 * document. The producer writes them and the verifier expects them, so both take them from here.
 */
import type { RunRecord, Runtime, ToolDescriptor } from "../models/run.js";
import { RetrievalProvenance } from "../models/trace.js";

/** The tool name recorded in plan tool requests, trace calls and run.json's runtime (docs/design.md §3.3). */
export const RETRIEVE_TOOL = "retrieve";

/** 2: evidence widened to whole sentences (+ the one before), `chunk`, `title`, `term_stats`. */
export const RETRIEVE_TOOL_VERSION = "2";

/** The tool version a provenance record was produced by: 1 returned bare chunks. */
export function retrieveToolVersion(provenance: RetrievalProvenance): string {
  return provenance.evidence === "sentences" ? RETRIEVE_TOOL_VERSION : "1";
}

/** Where an evidence's document lives: the pinned snapshot and the document id. */
export function evidenceUri(snapshot: string, docId: string): string {
  return `corpus:sha256:${snapshot}#${encodeURIComponent(docId)}`;
}

/** The retrieve tool's descriptor in run.json's runtime; undefined when the run does not retrieve. */
export function retrieveToolOf(runtime: Runtime): ToolDescriptor | undefined {
  return runtime.tools.find((t) => t.name === RETRIEVE_TOOL);
}

/** A retrieve tool's recorded config read as retrieval provenance; null when it does not parse. */
export function toolProvenance(tool: ToolDescriptor): RetrievalProvenance | null {
  return RetrievalProvenance.safeParse(tool.config).data ?? null;
}

/** The store objects a run pins: its corpus snapshot and index (none without retrieval). */
export function pinnedObjects(run: RunRecord): string[] {
  const tool = retrieveToolOf(run.inputs.runtime);
  const provenance = tool === undefined ? null : toolProvenance(tool);
  return provenance === null ? [] : [provenance.corpus_snapshot, provenance.index_hash];
}
