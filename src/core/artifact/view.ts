/**
 * The one adapter from raw run files to the narrow, parsed view every check reads
 * (CONTRIBUTING.md "A check is a small named function": checks never parse files themselves).
 * A run is hostile input: every parse failure becomes a finding for the `schemas` check, never
 * an exception.
 */

import * as z from "zod";
import { RUN_FILES } from "../artifact/files.js";
import { canonicalJson } from "../canonical.js";
import type { Claim } from "../models/claim.js";
import type { EvidenceRef } from "../models/evidence.js";
import { MODEL_CALL_FILE, MODEL_CALL_VERSION, ModelCall } from "../models/model-call.js";
import { PLAN_VERSION, Plan } from "../models/plan.js";
import { AnswerView, MANIFEST_VERSION, Manifest, RUN_VERSION, RunRecord, Signature } from "../models/run.js";
import { ProblemSpec, SPEC_VERSION } from "../models/spec.js";
import {
  RetrievePayload,
  type RetrievePayload as RetrievePayloadType,
  TRACE_VERSION,
  type Trace,
  TraceEvent,
  TraceHeader,
} from "../models/trace.js";
import { REPORT_VERSION, VerificationReport } from "../models/verification-report.js";
import { type ReadProblem, readProblem } from "./read-problems.js";

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
  /** Recorded model calls (model/<sha256>.json) that parse, by path. */
  modelCalls: Map<string, ModelCall>;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function text(bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

function parseJson(body: string): { value: unknown } | null {
  try {
    return { value: JSON.parse(body) };
  } catch {
    return null;
  }
}

type Where = { path: string; line?: number };

function schemaViolation(where: Where, error: z.ZodError): ReadProblem {
  const issue = error.issues[0];
  return readProblem("SCHEMA_VIOLATION", {
    ...where,
    field: issue?.path.join(".") ?? "",
    problem: issue?.message ?? "invalid",
  });
}

/**
 * Artifacts carry schema versions (docs/design.md §10): an unknown one is named as such, before the
 * schema would report it as a mere literal mismatch.
 */
function versionProblem(where: Where, value: unknown, field: string, supported: string): ReadProblem | null {
  if (typeof value !== "object" || value === null || !(field in value)) return null;
  const found = (value as Record<string, unknown>)[field];
  if (found === supported) return null;
  return readProblem("UNSUPPORTED_VERSION", { ...where, field, found: JSON.stringify(found), supported });
}

interface JsonFileOptions {
  required: boolean;
  version?: string;
}

/** Parses a canonical JSON file against a schema; null (with a finding) when anything is off. */
function jsonFile<T>(
  files: ReadonlyMap<string, Uint8Array>,
  path: string,
  schema: z.ZodType<T>,
  options: JsonFileOptions,
  problems: ReadProblem[],
): T | null {
  const body = fileText(files.get(path), path, options.required, problems);
  if (body === null) return null;
  const parsed = parseJson(body);
  if (parsed === null) {
    problems.push(readProblem("INVALID_JSON", { path }));
    return null;
  }
  const version =
    options.version === undefined ? null : versionProblem({ path }, parsed.value, "version", options.version);
  if (version !== null) {
    problems.push(version);
    return null;
  }
  const result = schema.safeParse(parsed.value);
  if (!result.success) {
    problems.push(schemaViolation({ path }, result.error));
    return null;
  }
  // Canonical bytes make every artifact unique: any whitespace or key-order edit is visible.
  if (body !== `${canonicalJson(parsed.value)}\n`) problems.push(readProblem("NOT_CANONICAL", { path }));
  return result.data;
}

/** What the trace records: the registered evidence, the emitted claims, the first retrieval. */
function traceRecords(trace: Trace | null): {
  evidence: EvidenceRef[];
  claims: Claim[];
  retrieval: RetrievePayloadType | null;
} {
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
  return { evidence, claims, retrieval };
}

export function toRunView(
  files: ReadonlyMap<string, Uint8Array>,
  anomalies: RunView["anomalies"] = [],
): { view: RunView; problems: ReadProblem[] } {
  const problems: ReadProblem[] = [];

  const json = <T>(path: string, schema: z.ZodType<T>, options: JsonFileOptions): T | null =>
    jsonFile(files, path, schema, options, problems);

  const spec = json(RUN_FILES.spec, ProblemSpec, { required: true, version: SPEC_VERSION });
  if (spec !== null && spec.id === undefined)
    problems.push(readProblem("SCHEMA_VIOLATION", { path: RUN_FILES.spec, field: "id", problem: "missing" }));
  const trace = readTrace(files.get(RUN_FILES.trace), problems);
  const { evidence, claims, retrieval } = traceRecords(trace);
  const provenance = new Map<string, unknown>();
  for (const path of [RUN_FILES.retrieval, RUN_FILES.chunks]) {
    const value = json(path, JsonAnything, { required: false });
    if (value !== null) provenance.set(path, value);
  }
  const modelCalls = new Map<string, ModelCall>();
  for (const path of [...files.keys()].filter((p) => MODEL_CALL_FILE.test(p)).sort()) {
    const call = json(path, ModelCall, { required: false, version: MODEL_CALL_VERSION });
    if (call !== null) modelCalls.set(path, call);
  }
  const view: RunView = {
    files,
    anomalies,
    spec: spec?.id === undefined ? null : (spec as ProblemSpec & { id: string }),
    plan: json(RUN_FILES.plan, Plan, { required: true, version: PLAN_VERSION }),
    trace,
    run: json(RUN_FILES.run, RunRecord, { required: true, version: RUN_VERSION }),
    answer: json(RUN_FILES.answer, AnswerView, { required: true }),
    report: json(RUN_FILES.report, VerificationReport, { required: false, version: REPORT_VERSION }),
    manifest: json(RUN_FILES.manifest, Manifest, { required: false, version: MANIFEST_VERSION }),
    signature: json(RUN_FILES.signature, Signature, { required: false }),
    provenance,
    evidence,
    claims,
    retrieval,
    modelCalls,
  };
  return { view, problems };
}

const JsonAnything = z.json();

/** A file's text, or null with the problem: missing (when required) or not UTF-8. */
function fileText(
  bytes: Uint8Array | undefined,
  path: string,
  required: boolean,
  problems: ReadProblem[],
): string | null {
  if (bytes === undefined) {
    if (required) problems.push(readProblem("FILE_MISSING", { path }));
    return null;
  }
  const body = text(bytes);
  if (body === null) problems.push(readProblem("NOT_UTF8", { path }));
  return body;
}

/** trace.jsonl: a header line, then one event per line, each canonical JSON, "\n" endings (docs/design.md §4). */
function readTrace(bytes: Uint8Array | undefined, problems: ReadProblem[]): Trace | null {
  const path = RUN_FILES.trace;
  const body = fileText(bytes, path, true, problems);
  if (body === null) return null;
  if (!body.endsWith("\n")) {
    problems.push(readProblem("TRACE_UNTERMINATED", { path }));
    return null;
  }
  let header: Trace["header"] | null = null;
  const events: TraceEvent[] = [];
  let ok = true;
  const problem = (f: ReadProblem) => {
    problems.push(f);
    ok = false;
  };
  for (const [i, line] of body.slice(0, -1).split("\n").entries()) {
    const where = { path, line: i + 1 };
    const parsed = parseJson(line);
    if (parsed === null) {
      problem(readProblem("INVALID_JSON", where));
      continue;
    }
    if (i === 0) {
      const version = versionProblem(where, parsed.value, "trace_version", TRACE_VERSION);
      if (version !== null) {
        problem(version);
        continue;
      }
      const result = TraceHeader.safeParse(parsed.value);
      if (!result.success) {
        problem(schemaViolation(where, result.error));
        continue;
      }
      header = result.data;
    } else {
      const result = TraceEvent.safeParse(parsed.value);
      if (!result.success) {
        problem(schemaViolation(where, result.error));
        continue;
      }
      events.push(result.data);
    }
    // Reported, but the line still parses: replay and diff show what a non-canonical line changes.
    if (line !== canonicalJson(parsed.value)) problems.push(readProblem("NOT_CANONICAL", where));
  }
  return ok && header !== null ? { header, events } : null;
}
