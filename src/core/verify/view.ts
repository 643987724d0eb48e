/**
 * The one adapter from raw run files to the narrow, parsed view every check reads
 * (STYLE: checks never parse files themselves). A run is hostile input: every parse
 * failure becomes a finding for the `schemas` check, never an exception.
 */

import { z } from "zod";
import { canonicalJson } from "../canonical.js";
import type { Claim } from "../models/claim.js";
import type { EvidenceRef } from "../models/evidence.js";
import { Plan } from "../models/plan.js";
import { VerificationReport } from "../models/report.js";
import { AnswerView, Manifest, RunRecord, Signature } from "../models/run.js";
import { ProblemSpec } from "../models/spec.js";
import {
  RetrievePayload,
  type RetrievePayload as RetrievePayloadType,
  type Trace,
  TraceEvent,
  TraceHeader,
} from "../models/trace.js";
import { RUN_FILES } from "../run/files.js";
import type { Issue } from "./issue.js";

export interface RunView {
  files: ReadonlyMap<string, Uint8Array>;
  /** Entries of the run directory that were not read (symlinks, special or oversized files). */
  anomalies: ReadonlyArray<{ path: string; reason: string }>;
  spec: (ProblemSpec & { id: string }) | null;
  plan: Plan | null;
  trace: Trace | null;
  run: RunRecord | null;
  answer: AnswerView | null;
  report: VerificationReport | null;
  manifest: Manifest | null;
  signature: z.infer<typeof Signature> | null;
  /** Parsed provenance files, kept loose: checks compare them with what the trace implies. */
  provenance: Map<string, unknown>;
  evidence: EvidenceRef[];
  claims: Claim[];
  /** The retrieve tool's payload, when the trace holds one that parses. */
  retrieval: RetrievePayloadType | null;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function text(bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

function describeZod(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  return `${where}${issue?.message ?? "invalid"}`;
}

export function toRunView(
  files: ReadonlyMap<string, Uint8Array>,
  anomalies: RunView["anomalies"] = [],
): { view: RunView; issues: Issue[] } {
  const issues: Issue[] = [];
  const fail = (code: string, message: string) => issues.push({ code, severity: "error", message });

  /** Parses a canonical JSON file against a schema; null (with an issue) when anything is off. */
  function json<T>(path: string, schema: z.ZodType<T>, required: boolean): T | null {
    const bytes = files.get(path);
    if (bytes === undefined) {
      if (required) fail("FILE_MISSING", `${path} is missing`);
      return null;
    }
    const body = text(bytes);
    let value: unknown;
    try {
      value = body === null ? undefined : JSON.parse(body);
    } catch {
      value = undefined;
    }
    if (value === undefined) {
      fail("FILE_UNPARSEABLE", `${path} is not valid UTF-8 JSON`);
      return null;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      fail("SCHEMA_VIOLATION", `${path}: ${describeZod(parsed.error)}`);
      return null;
    }
    // Canonical bytes make every artifact unique: any whitespace or key-order edit is visible.
    if (body !== `${canonicalJson(value)}\n`)
      fail("NOT_CANONICAL", `${path} is not canonical JSON followed by one newline`);
    return parsed.data;
  }

  const spec = json(RUN_FILES.spec, ProblemSpec, true) as (ProblemSpec & { id: string }) | null;
  if (spec !== null && spec.id === undefined) fail("SCHEMA_VIOLATION", "spec.json: id is missing");
  const trace = readTrace(files.get(RUN_FILES.trace), fail);
  const evidence: EvidenceRef[] = [];
  const claims: Claim[] = [];
  let retrieval: RetrievePayloadType | null = null;
  for (const e of trace?.events ?? []) {
    if (e.type === "evidence_registered") evidence.push(e.evidence);
    if (e.type === "claim_emitted") claims.push(e.claim);
    if (e.type === "tool_returned" && e.result.ok && retrieval === null) {
      const payload = RetrievePayload.safeParse(e.result.payload);
      if (payload.success) retrieval = payload.data;
    }
  }
  const provenance = new Map<string, unknown>();
  for (const path of [RUN_FILES.retrieval, RUN_FILES.chunks]) {
    const value = json(path, JsonAnything, false);
    if (value !== null) provenance.set(path, value);
  }
  const view: RunView = {
    files,
    anomalies,
    spec: spec?.id === undefined ? null : spec,
    plan: json(RUN_FILES.plan, Plan, true),
    trace,
    run: json(RUN_FILES.run, RunRecord, true),
    answer: json(RUN_FILES.answer, AnswerView, true),
    report: json(RUN_FILES.report, VerificationReport, false),
    manifest: json(RUN_FILES.manifest, Manifest, false),
    signature: json(RUN_FILES.signature, Signature, false),
    provenance,
    evidence,
    claims,
    retrieval,
  };
  return { view, issues };
}

const JsonAnything = z.json();

function readTrace(
  bytes: Uint8Array | undefined,
  fail: (code: string, message: string) => void,
): Trace | null {
  if (bytes === undefined) {
    fail("FILE_MISSING", `${RUN_FILES.trace} is missing`);
    return null;
  }
  const body = text(bytes);
  if (body === null || !body.endsWith("\n")) {
    fail("FILE_UNPARSEABLE", `${RUN_FILES.trace} is not UTF-8 text ending in a newline`);
    return null;
  }
  const lines = body.slice(0, -1).split("\n");
  let header: Trace["header"] | null = null;
  const events: TraceEvent[] = [];
  let ok = true;
  lines.forEach((line, i) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      fail("FILE_UNPARSEABLE", `${RUN_FILES.trace} line ${i + 1} is not valid JSON`);
      ok = false;
      return;
    }
    const parsed = i === 0 ? TraceHeader.safeParse(value) : TraceEvent.safeParse(value);
    if (!parsed.success) {
      fail("SCHEMA_VIOLATION", `${RUN_FILES.trace} line ${i + 1}: ${describeZod(parsed.error)}`);
      ok = false;
      return;
    }
    if (line !== canonicalJson(value)) {
      fail("NOT_CANONICAL", `${RUN_FILES.trace} line ${i + 1} is not canonical JSON`);
      ok = false;
    }
    if (i === 0) header = parsed.data as Trace["header"];
    else events.push(parsed.data as TraceEvent);
  });
  return ok && header !== null ? { header, events } : null;
}
