/**
 * Names a run artifact uses for things outside it: the retrieve tool, and the URI of a corpus
 * document. The producer writes them and the verifier expects them, so both take them from here.
 */

/** The tool name recorded in plan tool requests, trace calls and run.json's runtime (SPEC §3.3). */
export const RETRIEVE_TOOL = "retrieve";

/** Where an evidence's document lives: the pinned snapshot and the document id. */
export function evidenceUri(snapshot: string, docId: string): string {
  return `corpus:sha256:${snapshot}#${encodeURIComponent(docId)}`;
}
