/**
 * What a check finds, as data (CONTRIBUTING.md "Findings and errors are data"): a stable code with
 * typed parameters. The human message is rendered separately (messages.ts), so a code can be
 * matched by tools and tests while its wording changes freely. Codes never change meaning.
 */
import type { ReadProblemParams } from "../artifact/read-problems.js";
import type { Severity } from "../models/verification-report.js";

type Span = readonly [number, number];

/** Every finding code and its parameters. Adding a code here forces a message for it in messages.ts. */
export interface FindingParams extends ReadProblemParams {
  // schemas: the reader's problems (artifact/read-problems.ts), and these.
  SCHEMA_VERSIONS: { component: string; recorded: string; supported: string };
  // Any check: a check that throws on hostile input is reported, never a crashed verifier.
  CHECK_CRASHED: { check: string; error: string };
  MISSING_INPUT: { inputs: string[] };
  // Store objects named by hash (snapshot, index).
  STORE_OBJECT_MISSING: { what: string; hash: string };
  STORE_OBJECT_CORRUPT: { what: string; hash: string; error: string };
  // content_ids
  ID_MISMATCH: { what: string; recorded: string; recomputed: string };
  // plan_dag
  PLAN_NOT_DAG: { problem: string };
  PLAN_RECOMPUTED: { detail: string };
  PLAN_SPEC_MISMATCH: Record<string, never>;
  // trace_order
  IDX_GAP: { event: number; idx: number };
  UNKNOWN_NODE: { event: number };
  NESTED_STEP: { event: number; kind: string };
  STEP_TWICE: { kind: string };
  DEPENDENCY_ORDER: { kind: string };
  STEP_KIND: { event: number; recorded: string; planned: string };
  STEP_OUTPUT: { event: number; kind: string; output: string };
  OUTSIDE_STEP: { event: number; type: string };
  STEP_UNFINISHED: { kind: string };
  // tool_linkage
  CALL_TWICE: { call: string };
  CALL_STEP: { call: string };
  CALL_NOT_PLANNED: { call: string; kind: string; index: number };
  REQUEST_NOT_CALLED: { kind: string; index: number; tool: string };
  ORPHAN_RESULT: { event: number };
  RESULT_STEP: { event: number };
  RESULT_COUNT: { call: string; results: number };
  // claim_links
  DANGLING_SUPPORT: { claim: string; kind: string; ref: string };
  // grounding
  TOO_FEW_SUPPORTS: { claim: string; supports: number; required: number };
  CLAIM_WITHOUT_DERIVATION: { claim: string };
  DERIVATION_WITHOUT_CLAIM: { claim: string };
  CITATIONS_DISAGREE: { claim: string };
  STATEMENT_DISAGREES: { claim: string };
  STATEMENT_NOT_QUOTED: { claim: string };
  VERDICT_MISSING: { claim: string };
  VERDICT_UNKNOWN_CLAIM: { claim: string };
  VERDICT_CLAIM: { claim: string; result: string };
  VERDICT_WRONG: { claim: string; recorded: string; expected: string };
  UNJUDGED_CLAIM: { claim: string; status: string };
  // citation_bytes
  CITATION_UNCHECKABLE: { claim: string; evidence: string };
  SPAN_OUTSIDE: { claim: string; span: Span; size: number };
  SPAN_HASH: { claim: string; evidence: string; span: Span };
  // evidence_files
  EVIDENCE_PATH: { evidence: string; path: string };
  EVIDENCE_MISSING: { evidence: string; path: string };
  EVIDENCE_HASH: { path: string; sha256: string };
  CHUNK_ID: { evidence: string };
  EVIDENCE_NOT_RETRIEVED: { path: string };
  HIT_NOT_REGISTERED: { rank: number; doc: string };
  GATHER_LIST: Record<string, never>;
  EVIDENCE_UNREFERENCED: { path: string };
  // evidence_origin
  NO_PROVENANCE: Record<string, never>;
  DOC_NOT_IN_SNAPSHOT: { evidence: string; doc: string; snapshot: string };
  EVIDENCE_NOT_IN_CORPUS: { evidence: string; doc: string; span: Span };
  EVIDENCE_URI: { evidence: string; uri: string; expected: string };
  // retrieval_provenance
  NO_RETRIEVAL_RESULT: Record<string, never>;
  STRAY_PROVENANCE: { path: string };
  TOOL_NOT_DESCRIBED: Record<string, never>;
  CONFIG_MISMATCH: Record<string, never>;
  FINGERPRINT: Record<string, never>;
  SPEC_CORPUS: { recorded: string; snapshot: string };
  PLAN_PARAMS: { param: string; planned: string; recorded: string };
  INDEX_PARAMS: { hash: string };
  INDEX_CORRUPT: { hash: string; error: string };
  PROVENANCE_FILE: { path: string };
  TOOL_VERSION: { recorded: string; expected: string };
  VERSION_COMBINATION: { combination: string };
  CORPUS_LIMIT: { limit: string; value: number; recorded: number };
  INDEX_NOT_REBUILDABLE: { hash: string; snapshot: string };
  INDEX_NOT_REBUILT: { bytes: number; limit: number };
  // retrieval_recompute
  RETRIEVAL_RECOMPUTED: { detail: string };
  RETRIEVAL_NOT_RECOMPUTED: { reason: string };
  // rederive
  UNDERSTAND_RECOMPUTED: { field: string };
  REASONER_UNKNOWN: { reasoner: string };
  REDERIVE_INPUT: { detail: string };
  REDERIVED_DIFFERS: { reasoner: string; field: string };
  MODEL_CALL_MISSING: { path: string };
  MODEL_CALL_ALTERED: { path: string };
  MODEL_CALL_MISMATCH: { detail: string };
  MODEL_CALL_UNREFERENCED: { path: string };
  MODEL_ENDPOINT: { recorded: string; expected: string };
  // outcome
  OUTCOME_COUNT: { derivations: number; markers: number };
  FINALIZE_COUNT: { count: number };
  UNVALIDATED_CLAIM: { claim: string };
  FINAL_CLAIMS: { status: string; validated: number };
  ANSWER_MISMATCH: Record<string, never>;
  INSUFFICIENT_WITH_ANSWER: Record<string, never>;
  ANSWER_VIEW: Record<string, never>;
  FINAL_UNCERTAINTY: Record<string, never>;
  // manifest
  UNEXPECTED_ENTRY: { path: string; reason: string };
  UNKNOWN_FILE: { path: string };
  RUN_SPEC: Record<string, never>;
  RUN_PLAN: Record<string, never>;
  RUN_PRESET: Record<string, never>;
  RUN_TRACE: Record<string, never>;
  RUN_PRODUCER: Record<string, never>;
  MANIFEST_MISSING: Record<string, never>;
  MANIFEST_RUN: Record<string, never>;
  FILE_NOT_LISTED: { path: string };
  LISTED_FILE_MISSING: { path: string };
  FILE_HASH: { path: string };
  ROOT_DIGEST: Record<string, never>;
  // report_recompute
  RUN_DIR_NAME: { name: string; run: string };
  REPORT_CHECK_MISSING: { check: string };
  REPORT_CHECK_NEWER: { check: string };
  REPORT_CHECK_INVENTED: { check: string };
  REPORT_CHECK_DIFFERS: { check: string };
  REPORT_DIFFERS: Record<string, never>;
  // signature
  SIGNATURE_MISSING: Record<string, never>;
  SIGNATURE_ENCODING: Record<string, never>;
  SIGNATURE_DIGEST: Record<string, never>;
  SIGNATURE_UNVERIFIED: { key: string };
  SIGNATURE_REQUIRED_UNVERIFIED: { key: string };
  SIGNATURE_KEY_TYPE: { type: string };
  SIGNATURE_OTHER_KEY: Record<string, never>;
  CARRIED_KEY_MISMATCH: Record<string, never>;
  PUBLIC_KEY_UNUSABLE: { error: string };
  SIGNATURE_INVALID: Record<string, never>;
}

export type FindingCode = keyof FindingParams;

/** A finding: one member of the union per code, with that code's parameters. */
export type Finding = { [C in FindingCode]: { code: C; params: FindingParams[C] } }[FindingCode];

export function finding<C extends FindingCode>(code: C, params: FindingParams[C]): Finding {
  // TypeScript cannot correlate a generic code with its union member; the signature does.
  return { code, params } as Finding;
}

/** Findings that describe a weaker guarantee rather than a broken one; every other code is an error. */
const WARNINGS: ReadonlySet<FindingCode> = new Set<FindingCode>(["SIGNATURE_UNVERIFIED"]);

/** Findings that inform an auditor without weakening the guarantee. */
const INFOS: ReadonlySet<FindingCode> = new Set<FindingCode>(["REPORT_CHECK_NEWER", "INDEX_NOT_REBUILT"]);

export function severityOf(code: FindingCode): Severity {
  return INFOS.has(code) ? "info" : WARNINGS.has(code) ? "warning" : "error";
}
