/**
 * Coordinated forgeries for verifier tests: edit a run's trace the way a forger with the
 * producer's code would, then recompute every id, rebuild every derived file, re-verify and
 * re-seal the manifest. What the verifier still catches, it catches by meaning, not by a
 * stale hash.
 */

import { jsonFile, RUN_FILES, type RunFiles, traceFile } from "../../src/core/artifact/files.js";
import { buildManifest } from "../../src/core/artifact/manifest.js";
import { answerView, evidenceTexts, provenanceFiles } from "../../src/core/artifact/projections.js";
import { contentId, type IdKind } from "../../src/core/canonical.js";
import { type Trace, TraceEvent, TraceHeader } from "../../src/core/models/trace.js";
import { type StoreReader, verifyRun } from "../../src/core/verify/verifier.js";

export function parseTrace(bytes: Uint8Array): Trace {
  const [head, ...lines] = Buffer.from(bytes).toString("utf8").trimEnd().split("\n");
  return {
    header: TraceHeader.parse(JSON.parse(head as string)),
    events: lines.map((l) => TraceEvent.parse(JSON.parse(l))),
  };
}

/** The content-addressed object an event carries, if any. */
function idObject(e: TraceEvent): [IdKind, { id: string }] | null {
  if (e.type === "tool_called") return ["call", e.call];
  if (e.type === "evidence_registered") return ["ev", e.evidence];
  if (e.type === "claim_emitted") return ["claim", e.claim];
  return null;
}

/**
 * Recomputes every id in event order, replacing each stale id everywhere it is referenced.
 * References only point backwards, so one forward pass settles every id.
 */
export function recomputeIds(trace: Trace): Trace {
  let text = JSON.stringify(trace);
  for (let i = 0; i < trace.events.length; i++) {
    const current = JSON.parse(text) as Trace;
    const found = idObject(current.events[i] as TraceEvent);
    if (found === null) continue;
    const [kind, object] = found;
    const fresh = contentId(kind, object as unknown as Record<string, unknown>);
    if (fresh !== object.id) text = text.split(object.id).join(fresh);
  }
  return JSON.parse(text) as Trace;
}

/** Renumbers idx after events were added or removed. */
export function renumber(trace: Trace): void {
  trace.events.forEach((e, i) => {
    e.idx = i;
  });
}

export interface ForgeOptions {
  store: StoreReader;
  /** Edits the parsed trace in place; ids are recomputed afterwards. */
  trace?: (trace: Trace) => void;
  /** Edits the other files before the run is re-sealed (add, drop or replace files). */
  files?: (files: RunFiles) => void;
}

export function forgeRun(files: ReadonlyMap<string, Uint8Array>, options: ForgeOptions): RunFiles {
  const out: RunFiles = new Map(files);
  let trace = parseTrace(files.get(RUN_FILES.trace) as Uint8Array);
  options.trace?.(trace);
  trace = recomputeIds(trace);
  out.set(RUN_FILES.trace, traceFile(trace));
  const record = JSON.parse(Buffer.from(files.get(RUN_FILES.run) as Uint8Array).toString("utf8"));
  record.trace_id = contentId("trace", { header: trace.header, events: trace.events });
  out.set(RUN_FILES.run, jsonFile(record));
  const evidence = trace.events.flatMap((e) => (e.type === "evidence_registered" ? [e.evidence] : []));
  out.set(RUN_FILES.answer, jsonFile(answerView(trace, evidence, evidenceTexts(trace))));
  for (const [path, bytes] of provenanceFiles(trace, evidence)) out.set(path, bytes);
  options.files?.(out);
  for (const path of [RUN_FILES.report, RUN_FILES.manifest, RUN_FILES.signature]) out.delete(path);
  const report = verifyRun({ files: out, store: options.store, policy: "audit", stage: "sealing" });
  out.set(RUN_FILES.report, jsonFile(report));
  out.set(RUN_FILES.manifest, jsonFile(buildManifest(record.run_id, out)));
  return out;
}
