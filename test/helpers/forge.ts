/**
 * Coordinated forgeries for verifier tests: edit a run's trace the way a forger with the
 * producer's code would, then recompute every id, rebuild every derived file, re-verify and
 * re-seal the manifest. What the verifier still catches, it catches by meaning, not by a
 * stale hash.
 */

import { jsonFile, RUN_FILES, type RunFiles, traceFile } from "../../src/core/artifact/files.js";
import { buildManifest } from "../../src/core/artifact/manifest.js";
import { answerView, evidenceTexts, provenanceFiles } from "../../src/core/artifact/projections.js";
import { signRootDigest } from "../../src/core/artifact/signature.js";
import { contentId, type IdKind, sha256Hex } from "../../src/core/canonical.js";
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

export interface ResealOptions {
  store: StoreReader;
  /** Re-sign with this key when the run was signed (a forger with the victim's key). */
  privateKeyPem?: string;
}

const decode = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");

/**
 * Re-seals a run after any edit to any file, the way the producer seals (issue 19): every
 * content id in dependency order (spec, plan nodes, plan, model recordings, run, trace events),
 * every reference to a changed id, the trace id, the projections (answer, provenance files,
 * evidence files), the sealing report, the manifest and, given the key, the signature. Ids are
 * unique hashes, so a changed one is replaced wherever it is referenced, as text.
 */
export function resealRun(files: ReadonlyMap<string, Uint8Array>, options: ResealOptions): RunFiles {
  const texts = new Map<string, string>();
  for (const [path, bytes] of files)
    if (path.endsWith(".json") || path.endsWith(".jsonl")) texts.set(path, decode(bytes));
  const replace = (old: string, fresh: string) => {
    if (old === fresh || old === "") return;
    for (const [path, text] of texts) texts.set(path, text.split(old).join(fresh));
  };
  const json = (path: string) => JSON.parse(texts.get(path) as string);
  const rehash = (path: string, kind: IdKind) => {
    const { id, ...body } = json(path);
    if (typeof id !== "string") return;
    replace(id, contentId(kind, body));
  };
  rehash(RUN_FILES.spec, "spec");
  const nodes = (json(RUN_FILES.plan).nodes ?? []) as Array<{ id: string }>;
  for (let i = 0; i < nodes.length; i++) {
    const plan = json(RUN_FILES.plan);
    const { id, ...body } = plan.nodes[i];
    if (typeof id === "string") replace(id, contentId("node", body));
  }
  rehash(RUN_FILES.plan, "plan");
  for (const path of [...texts.keys()].filter((p) => /^model\/[0-9a-f]{64}\.json$/.test(p))) {
    const bytes = jsonFile(json(path));
    const sha = sha256Hex(bytes);
    const old = path.slice("model/".length, -".json".length);
    texts.delete(path);
    texts.set(`model/${sha}.json`, decode(bytes));
    replace(old, sha);
  }
  const record = json(RUN_FILES.run);
  if (typeof record.run_id === "string" && record.inputs !== undefined)
    replace(record.run_id, contentId("run", record.inputs));
  const out: RunFiles = new Map();
  for (const [path, bytes] of files) if (!texts.has(path)) out.set(path, bytes);
  for (const [path, text] of texts) out.set(path, Buffer.from(text, "utf8"));
  let trace: Trace | null = null;
  try {
    trace = recomputeIds(parseTrace(Buffer.from(texts.get(RUN_FILES.trace) as string, "utf8")));
  } catch {
    // A trace the schema refuses: sealed as it is (the forger's tools cannot read it either).
  }
  if (trace !== null) {
    for (const path of [...out.keys()]) if (path.startsWith("evidence/")) out.delete(path);
    out.set(RUN_FILES.trace, traceFile(trace));
    const fresh = json(RUN_FILES.run);
    fresh.trace_id = contentId("trace", { header: trace.header, events: trace.events });
    out.set(RUN_FILES.run, jsonFile(fresh));
    const evidence = trace.events.flatMap((e) => (e.type === "evidence_registered" ? [e.evidence] : []));
    const evidenceText = evidenceTexts(trace);
    for (const ev of evidence) {
      const text = evidenceText.get(ev.sha256);
      if (text !== undefined) out.set(ev.content_path, Buffer.from(text, "utf8"));
    }
    out.set(RUN_FILES.answer, jsonFile(answerView(trace, evidence, evidenceText)));
    for (const [path, bytes] of provenanceFiles(trace, evidence)) out.set(path, bytes);
  }
  const signed = out.has(RUN_FILES.signature);
  for (const path of [RUN_FILES.report, RUN_FILES.manifest, RUN_FILES.signature]) out.delete(path);
  const report = verifyRun({ files: out, store: options.store, policy: "audit", stage: "sealing" });
  out.set(RUN_FILES.report, jsonFile(report));
  const manifest = buildManifest(String(json(RUN_FILES.run).run_id), out);
  out.set(RUN_FILES.manifest, jsonFile(manifest));
  if (signed && options.privateKeyPem !== undefined)
    out.set(RUN_FILES.signature, jsonFile(signRootDigest(options.privateKeyPem, manifest.root_digest)));
  return out;
}

/** Re-seals only the manifest (and signature): for a forger who edits a recomputed value itself. */
export function resealManifest(files: ReadonlyMap<string, Uint8Array>, options: ResealOptions): RunFiles {
  const out: RunFiles = new Map(files);
  const record = JSON.parse(decode(files.get(RUN_FILES.run) as Uint8Array));
  out.delete(RUN_FILES.manifest);
  const signed = out.delete(RUN_FILES.signature);
  const manifest = buildManifest(String(record.run_id), out);
  out.set(RUN_FILES.manifest, jsonFile(manifest));
  if (signed && options.privateKeyPem !== undefined)
    out.set(RUN_FILES.signature, jsonFile(signRootDigest(options.privateKeyPem, manifest.root_digest)));
  return out;
}
