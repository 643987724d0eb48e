/**
 * The finding codes as a whole (CONTRIBUTING.md "Findings and errors are data"): unique, each with an
 * English message, and each pinned by a unit test of the check that emits it, so a check that
 * stops emitting a code fails a test.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Finding, FindingCode, FindingParams } from "../../../../src/core/verify/findings.js";
import { FINDING_CODES, renderFinding } from "../../../../src/core/verify/messages.js";
import { verifyRun } from "../../../../src/core/verify/verifier.js";
import { answeredRun } from "./fixture.js";

/** Parameters for every code: the mapped type makes a new code without a sample a type error. */
const SAMPLES: { [C in FindingCode]: FindingParams[C] } = {
  FILE_MISSING: { path: "a sample" },
  NOT_UTF8: { path: "a sample" },
  INVALID_JSON: { path: "a sample", line: 1 },
  TRACE_UNTERMINATED: { path: "a sample" },
  SCHEMA_VIOLATION: { path: "a sample", line: 1, field: "a sample", problem: "a sample" },
  UNSUPPORTED_VERSION: {
    path: "a sample",
    line: 1,
    field: "a sample",
    found: "a sample",
    supported: "a sample",
  },
  NOT_CANONICAL: { path: "a sample", line: 1 },
  SCHEMA_VERSIONS: { component: "a sample", recorded: "a sample", supported: "a sample" },
  CHECK_CRASHED: { check: "a sample", error: "a sample" },
  MISSING_INPUT: { inputs: ["a", "b"] },
  STORE_OBJECT_MISSING: { what: "a sample", hash: "a sample" },
  STORE_OBJECT_CORRUPT: { what: "a sample", hash: "a sample", error: "a sample" },
  ID_MISMATCH: { what: "a sample", recorded: "a sample", recomputed: "a sample" },
  PLAN_NOT_DAG: { problem: "a sample" },
  PLAN_SPEC_MISMATCH: {},
  PLAN_RECOMPUTED: { detail: "a sample" },
  TOOL_VERSION: { recorded: "a sample", expected: "a sample" },
  VERSION_COMBINATION: { combination: "a sample" },
  CORPUS_LIMIT: { limit: "a sample", value: 2, recorded: 1 },
  INDEX_NOT_REBUILDABLE: { hash: "a sample", snapshot: "a sample" },
  INDEX_NOT_REBUILT: { bytes: 2, limit: 1 },
  MODEL_ENDPOINT: { recorded: "a sample", expected: "a sample" },
  IDX_GAP: { event: 1, idx: 1 },
  UNKNOWN_NODE: { event: 1 },
  NESTED_STEP: { event: 1, kind: "a sample" },
  STEP_TWICE: { kind: "a sample" },
  DEPENDENCY_ORDER: { kind: "a sample" },
  STEP_KIND: { event: 1, recorded: "a sample", planned: "a sample" },
  STEP_OUTPUT: { event: 1, kind: "a sample", output: "a sample" },
  OUTSIDE_STEP: { event: 1, type: "a sample" },
  STEP_UNFINISHED: { kind: "a sample" },
  CALL_TWICE: { call: "a sample" },
  CALL_STEP: { call: "a sample" },
  CALL_NOT_PLANNED: { call: "a sample", kind: "a sample", index: 1 },
  REQUEST_NOT_CALLED: { kind: "a sample", index: 1, tool: "a sample" },
  ORPHAN_RESULT: { event: 1 },
  RESULT_STEP: { event: 1 },
  RESULT_COUNT: { call: "a sample", results: 1 },
  DANGLING_SUPPORT: { claim: "a sample", kind: "a sample", ref: "a sample" },
  TOO_FEW_SUPPORTS: { claim: "a sample", supports: 1, required: 1 },
  CLAIM_WITHOUT_DERIVATION: { claim: "a sample" },
  DERIVATION_WITHOUT_CLAIM: { claim: "a sample" },
  CITATIONS_DISAGREE: { claim: "a sample" },
  STATEMENT_DISAGREES: { claim: "a sample" },
  STATEMENT_NOT_QUOTED: { claim: "a sample" },
  VERDICT_MISSING: { claim: "a sample" },
  VERDICT_UNKNOWN_CLAIM: { claim: "a sample" },
  VERDICT_CLAIM: { claim: "a sample", result: "a sample" },
  VERDICT_WRONG: { claim: "a sample", recorded: "a sample", expected: "a sample" },
  UNJUDGED_CLAIM: { claim: "a sample", status: "a sample" },
  CITATION_UNCHECKABLE: { claim: "a sample", evidence: "a sample" },
  SPAN_OUTSIDE: { claim: "a sample", span: [0, 4], size: 1 },
  SPAN_HASH: { claim: "a sample", evidence: "a sample", span: [0, 4] },
  EVIDENCE_PATH: { evidence: "a sample", path: "a sample" },
  EVIDENCE_MISSING: { evidence: "a sample", path: "a sample" },
  EVIDENCE_HASH: { path: "a sample", sha256: "a sample" },
  CHUNK_ID: { evidence: "a sample" },
  EVIDENCE_NOT_RETRIEVED: { path: "a sample" },
  HIT_NOT_REGISTERED: { rank: 1, doc: "a sample" },
  GATHER_LIST: {},
  EVIDENCE_UNREFERENCED: { path: "a sample" },
  NO_PROVENANCE: {},
  DOC_NOT_IN_SNAPSHOT: { evidence: "a sample", doc: "a sample", snapshot: "a sample" },
  EVIDENCE_NOT_IN_CORPUS: { evidence: "a sample", doc: "a sample", span: [0, 4] },
  EVIDENCE_URI: { evidence: "a sample", uri: "a sample", expected: "a sample" },
  NO_RETRIEVAL_RESULT: {},
  STRAY_PROVENANCE: { path: "a sample" },
  TOOL_NOT_DESCRIBED: {},
  CONFIG_MISMATCH: {},
  FINGERPRINT: {},
  SPEC_CORPUS: { recorded: "a sample", snapshot: "a sample" },
  PLAN_PARAMS: { param: "a sample", planned: "a sample", recorded: "a sample" },
  INDEX_PARAMS: { hash: "a sample" },
  INDEX_CORRUPT: { hash: "a sample", error: "a sample" },
  PROVENANCE_FILE: { path: "a sample" },
  RETRIEVAL_RECOMPUTED: { detail: "a sample" },
  RETRIEVAL_NOT_RECOMPUTED: { reason: "a sample" },
  UNDERSTAND_RECOMPUTED: { field: "a sample" },
  REASONER_UNKNOWN: { reasoner: "a sample" },
  REDERIVE_INPUT: { detail: "a sample" },
  REDERIVED_DIFFERS: { reasoner: "a sample", field: "a sample" },
  MODEL_CALL_MISSING: { path: "a sample" },
  MODEL_CALL_ALTERED: { path: "a sample" },
  MODEL_CALL_MISMATCH: { detail: "a sample" },
  MODEL_CALL_UNREFERENCED: { path: "a sample" },
  OUTCOME_COUNT: { derivations: 1, markers: 1 },
  FINALIZE_COUNT: { count: 1 },
  UNVALIDATED_CLAIM: { claim: "a sample" },
  FINAL_CLAIMS: { status: "a sample", validated: 1 },
  ANSWER_MISMATCH: {},
  INSUFFICIENT_WITH_ANSWER: {},
  ANSWER_VIEW: {},
  FINAL_UNCERTAINTY: {},
  UNEXPECTED_ENTRY: { path: "a sample", reason: "a sample" },
  UNKNOWN_FILE: { path: "a sample" },
  RUN_SPEC: {},
  RUN_PLAN: {},
  RUN_PRESET: {},
  RUN_TRACE: {},
  RUN_PRODUCER: {},
  MANIFEST_MISSING: {},
  MANIFEST_RUN: {},
  FILE_NOT_LISTED: { path: "a sample" },
  LISTED_FILE_MISSING: { path: "a sample" },
  FILE_HASH: { path: "a sample" },
  ROOT_DIGEST: {},
  RUN_DIR_NAME: { name: "a sample", run: "a sample" },
  REPORT_CHECK_MISSING: { check: "a sample" },
  REPORT_CHECK_NEWER: { check: "a sample" },
  REPORT_CHECK_INVENTED: { check: "a sample" },
  REPORT_CHECK_DIFFERS: { check: "a sample" },
  REPORT_DIFFERS: {},
  SIGNATURE_MISSING: {},
  SIGNATURE_ENCODING: {},
  SIGNATURE_DIGEST: {},
  SIGNATURE_UNVERIFIED: { key: "a sample" },
  SIGNATURE_REQUIRED_UNVERIFIED: { key: "a sample" },
  SIGNATURE_KEY_TYPE: { type: "rsa" },
  SIGNATURE_OTHER_KEY: {},
  CARRIED_KEY_MISMATCH: {},
  PUBLIC_KEY_UNUSABLE: { error: "a sample" },
  SIGNATURE_INVALID: {},
};

/**
 * Codes no check emits, each with the reason. The test below asserts each is still reachable
 * where it says.
 */
const NOT_FROM_A_CHECK: Partial<Record<FindingCode, string>> = {
  // The orchestrator (verifier.ts runCheck) turns a check that throws into this finding.
  CHECK_CRASHED: "emitted by the verifier for a check that throws, tested below",
};

const HERE = new URL("./", import.meta.url);

/** Every quoted code in the check tests of this folder. */
function codesInCheckTests(): Set<string> {
  const found = new Set<string>();
  for (const name of readdirSync(HERE)) {
    if (!name.endsWith(".test.ts") || name === "codes.test.ts") continue;
    const text = readFileSync(new URL(name, HERE), "utf8");
    for (const m of text.matchAll(/"([A-Z][A-Z0-9_]+)"/g)) found.add(m[1] as string);
  }
  return found;
}

describe("finding codes", () => {
  it("are unique", () => {
    expect(new Set(FINDING_CODES).size).toBe(FINDING_CODES.length);
    expect([...FINDING_CODES].sort()).toEqual(Object.keys(SAMPLES).sort());
  });

  it("each renders a non-empty English message", () => {
    for (const code of FINDING_CODES) {
      const message = renderFinding({ code, params: SAMPLES[code] } as Finding);
      expect(message, code).toMatch(/[a-z]{2,}/);
      expect(message, code).not.toMatch(/undefined|\[object Object\]|NaN/);
    }
  });

  it("each is asserted by a check's unit test, or listed here with the reason it is not", () => {
    const tested = codesInCheckTests();
    const untested = FINDING_CODES.filter((c) => !tested.has(c) && NOT_FROM_A_CHECK[c] === undefined);
    expect(untested).toEqual([]);
    // A listed code that a check test does assert should leave the list.
    expect(Object.keys(NOT_FROM_A_CHECK).filter((c) => tested.has(c))).toEqual([]);
  });

  it("CHECK_CRASHED: a check that throws is reported, never a crashed verifier", () => {
    const run = answeredRun();
    // A store that fails in a way the checks do not expect (not a CanonError): they rethrow.
    const store = {
      get(): Uint8Array | null {
        throw new TypeError("disk on fire");
      },
    };
    const report = verifyRun({ files: run.files, store, policy: "audit", stage: "sealed" });
    const crashed = report.failures.filter((f) => f.code === "CHECK_CRASHED");
    expect(crashed.map((f) => f.check)).toEqual(
      expect.arrayContaining(["evidence_origin", "retrieval_provenance", "retrieval_recompute"]),
    );
    expect(crashed[0]?.message).toMatch(/could not complete: disk on fire$/);
  });
});
