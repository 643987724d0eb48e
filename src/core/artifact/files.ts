/** A run as an in-memory map of relative path -> bytes, and how its JSON files are encoded. */
import { canonicalJson, sha256Hex } from "../canonical.js";
import { type ModelCall, type ModelCallRef, modelCallPath } from "../models/model-call.js";
import type { Trace } from "../models/trace.js";

export type RunFiles = Map<string, Uint8Array>;

export const RUN_FILES = {
  spec: "spec.json",
  plan: "plan.json",
  trace: "trace.jsonl",
  report: "report.json",
  answer: "answer.json",
  run: "run.json",
  manifest: "manifest.json",
  signature: "signature.json",
  retrieval: "provenance/retrieval.json",
  chunks: "provenance/chunks.json",
} as const;

/** Files that never enter the manifest: the manifest itself, the signature over it, and volatile/. */
export function isUnfingerprinted(path: string): boolean {
  return path === RUN_FILES.manifest || path === RUN_FILES.signature || path.startsWith("volatile/");
}

/** Every JSON artifact is canonical JSON plus a final newline, so its bytes are unique. */
export function jsonFile(value: unknown): Uint8Array {
  return Buffer.from(`${canonicalJson(value)}\n`, "utf8");
}

export function traceFile(trace: Trace): Uint8Array {
  const lines = [canonicalJson(trace.header), ...trace.events.map((e) => canonicalJson(e))];
  return Buffer.from(`${lines.join("\n")}\n`, "utf8");
}

/** A recorded model call as a run file: canonical JSON, named by the sha256 of its bytes. */
export function modelCallFile(recording: ModelCall): { ref: ModelCallRef; bytes: Uint8Array } {
  const bytes = jsonFile(recording);
  const sha256 = sha256Hex(bytes);
  return { ref: { path: modelCallPath(sha256), sha256 }, bytes };
}
