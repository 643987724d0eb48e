/**
 * English messages for findings, rendered from their typed parameters (zod's locales/en.ts
 * pattern): the one place wording lives. The mapped type makes a missing message a type error.
 */
import { READ_PROBLEM_MESSAGES } from "../artifact/read-problems.js";
import type { Finding, FindingCode, FindingParams } from "./findings.js";

const span = (s: readonly [number, number]) => `[${s[0]}, ${s[1]})`;

const MESSAGES: { [C in FindingCode]: (p: FindingParams[C]) => string } = {
  ...READ_PROBLEM_MESSAGES,
  SCHEMA_VERSIONS: (p) =>
    `run.json records ${p.component} schema version ${p.recorded}; this verifier reads ${p.supported}`,
  CHECK_CRASHED: (p) => `${p.check} could not complete: ${p.error}`,
  MISSING_INPUT: (p) => `cannot check without a readable ${p.inputs.join(" and ")}`,
  STORE_OBJECT_MISSING: (p) => `${p.what} sha256:${p.hash} is not in the store`,
  STORE_OBJECT_CORRUPT: (p) => `${p.what} sha256:${p.hash}: ${p.error}`,
  ID_MISMATCH: (p) => `${p.what}: recorded ${p.recorded}, recomputed ${p.recomputed}`,
  PLAN_NOT_DAG: (p) => p.problem,
  PLAN_RECOMPUTED: (p) => `plan.json is not the plan the spec and preset make: ${p.detail}`,
  PLAN_SPEC_MISMATCH: () => "plan.spec_id is not the spec's id",
  IDX_GAP: (p) => `event ${p.event} has idx ${p.idx}`,
  UNKNOWN_NODE: (p) => `event ${p.event} names a node that is not in the plan`,
  NESTED_STEP: (p) => `event ${p.event} starts ${p.kind} while another step is open`,
  STEP_TWICE: (p) => `${p.kind} started twice`,
  DEPENDENCY_ORDER: (p) => `${p.kind} started before its dependency finished`,
  STEP_KIND: (p) => `event ${p.event} says ${p.recorded}, the plan says ${p.planned}`,
  STEP_OUTPUT: (p) => `event ${p.event}: a ${p.kind} step cannot finish with a ${p.output} output`,
  OUTSIDE_STEP: (p) => `event ${p.event} (${p.type}) lies outside its step`,
  STEP_UNFINISHED: (p) => `${p.kind} never finished`,
  CALL_TWICE: (p) => `call ${p.call} recorded twice`,
  CALL_STEP: (p) => `call ${p.call} names another step`,
  CALL_NOT_PLANNED: (p) => `call ${p.call} is not tool request ${p.index} of the ${p.kind} step in the plan`,
  REQUEST_NOT_CALLED: (p) => `the plan's ${p.kind} step requests ${p.tool} (#${p.index}), never called`,
  ORPHAN_RESULT: (p) => `result at event ${p.event} has no earlier call`,
  RESULT_STEP: (p) => `result at event ${p.event} is in another step than its call`,
  RESULT_COUNT: (p) => `call ${p.call} has ${p.results} results`,
  DANGLING_SUPPORT: (p) => `claim ${p.claim} cites ${p.kind} ${p.ref}, not recorded before it`,
  TOO_FEW_SUPPORTS: (p) => `claim ${p.claim} has ${p.supports} evidence support(s), ${p.required} required`,
  CLAIM_WITHOUT_DERIVATION: (p) => `claim ${p.claim} has no derive output naming it`,
  DERIVATION_WITHOUT_CLAIM: (p) => `derivation names claim ${p.claim}, never emitted`,
  CITATIONS_DISAGREE: (p) => `claim ${p.claim}: supports differ from the reasoner's citations`,
  STATEMENT_DISAGREES: (p) => `claim ${p.claim}: statement differs from the derivation`,
  STATEMENT_NOT_QUOTED: (p) =>
    `claim ${p.claim}: an extractive statement must be its first cited span verbatim`,
  VERDICT_MISSING: (p) => `claim ${p.claim} was proposed but not judged exactly once by the verify step`,
  VERDICT_UNKNOWN_CLAIM: (p) => `the verify step judges claim ${p.claim}, which was never proposed`,
  VERDICT_CLAIM: (p) =>
    `verdict claim ${p.result} is not claim ${p.claim} with only its status changed and a link to it`,
  VERDICT_WRONG: (p) =>
    `claim ${p.claim} is ${p.recorded}, but its supports make it ${p.expected} (docs/design.md §3.5)`,
  UNJUDGED_CLAIM: (p) => `claim ${p.claim} is ${p.status} without a verify decision producing it`,
  CITATION_UNCHECKABLE: (p) => `claim ${p.claim}: evidence ${p.evidence} bytes, span or hash missing`,
  SPAN_OUTSIDE: (p) => `claim ${p.claim}: span ${span(p.span)} outside ${p.size} evidence bytes`,
  SPAN_HASH: (p) =>
    `claim ${p.claim}: bytes ${span(p.span)} of ${p.evidence} do not hash to the recorded sha256`,
  EVIDENCE_PATH: (p) =>
    `evidence ${p.evidence}: content_path ${JSON.stringify(p.path)} is not evidence/<its sha256>.txt`,
  EVIDENCE_MISSING: (p) => `evidence ${p.evidence}: ${p.path} is missing`,
  EVIDENCE_HASH: (p) => `${p.path} does not hash to ${p.sha256}`,
  CHUNK_ID: (p) => `evidence ${p.evidence}: chunk_id differs from the sha256 of its bytes`,
  EVIDENCE_NOT_RETRIEVED: (p) => `${p.path} is not the text the retrieve tool returned for it`,
  HIT_NOT_REGISTERED: (p) => `retrieval hit ${p.rank} (${p.doc}) was never registered as evidence`,
  GATHER_LIST: () => "the gather step's output does not list exactly the evidence it registered",
  EVIDENCE_UNREFERENCED: (p) => `${p.path} is not referenced by any evidence`,
  NO_PROVENANCE: () => "evidence without a retrieval provenance",
  DOC_NOT_IN_SNAPSHOT: (p) =>
    `evidence ${p.evidence}: document ${JSON.stringify(p.doc)} is not in snapshot ${p.snapshot}`,
  EVIDENCE_NOT_IN_CORPUS: (p) =>
    `evidence ${p.evidence}: bytes ${span(p.span)} of ${p.doc} differ from the evidence file`,
  EVIDENCE_URI: (p) => `evidence ${p.evidence}: uri ${p.uri} should be ${p.expected}`,
  NO_RETRIEVAL_RESULT: () => "the plan retrieves, but no retrieve result parses",
  STRAY_PROVENANCE: (p) => `${p.path} exists in a run without retrieval`,
  TOOL_NOT_DESCRIBED: () => "run.json describes no retrieve tool",
  CONFIG_MISMATCH: () => "run.json's retrieve config differs from the provenance in the trace",
  FINGERPRINT: () => "retrieve tool fingerprint does not hash its config",
  SPEC_CORPUS: (p) => `the spec pins corpus ${p.recorded}, the retrieval used sha256:${p.snapshot}`,
  PLAN_PARAMS: (p) => `plan's ${p.param} is ${p.planned}, provenance says ${p.recorded}`,
  INDEX_PARAMS: (p) => `index sha256:${p.hash} was built with other parameters than recorded`,
  INDEX_CORRUPT: (p) => `index sha256:${p.hash}: ${p.error}`,
  RETRIEVAL_RECOMPUTED: (p) =>
    `the recorded retrieve result is not what the pinned index and snapshot return for the call: ${p.detail}`,
  RETRIEVAL_NOT_RECOMPUTED: (p) => `the retrieval could not be recomputed: ${p.reason}`,
  PROVENANCE_FILE: (p) => `${p.path} does not match the retrieval recorded in the trace`,
  TOOL_VERSION: (p) =>
    `run.json labels the retrieve tool version ${p.recorded}; what it recorded is version ${p.expected}'s`,
  VERSION_COMBINATION: (p) =>
    `no release of canon-reason produced this combination: ${p.combination} (see src/core/verify/releases.ts)`,
  CORPUS_LIMIT: (p) => `the recorded corpus limit ${p.limit} ${p.recorded} does not hold: ${p.value}`,
  INDEX_NOT_REBUILDABLE: (p) =>
    `index sha256:${p.hash} is not the index the recorded parameters build from snapshot sha256:${p.snapshot}`,
  INDEX_NOT_REBUILT: (p) =>
    `index trusted, not rebuilt: the snapshot has ${p.bytes} bytes, over the ${p.limit} this policy rebuilds (--policy strict always rebuilds)`,
  UNDERSTAND_RECOMPUTED: (p) =>
    `the understand step's ${p.field} is not what the question and the analyzer give`,
  REASONER_UNKNOWN: (p) =>
    `the run was reasoned by ${p.reasoner}, which this build does not have: its claims were not re-derived`,
  REDERIVE_INPUT: (p) => `the reasoner's input cannot be rebuilt from the trace: ${p.detail}`,
  REDERIVED_DIFFERS: (p) =>
    `${p.reasoner}, given the recorded evidence, derives another ${p.field} than the trace records`,
  MODEL_CALL_MISSING: (p) =>
    `the recorded model call ${p.path} is missing: the model's answer cannot be re-derived (fail closed)`,
  MODEL_CALL_ALTERED: (p) =>
    `the recorded model call ${p.path} does not hash to the sha256 the trace records: it was altered`,
  MODEL_CALL_MISMATCH: (p) => `the recorded model call does not fit the derive step: ${p.detail}`,
  MODEL_CALL_UNREFERENCED: (p) => `${p.path} is a model call the trace does not refer to`,
  MODEL_ENDPOINT: (p) =>
    `the model call was recorded at ${p.recorded}, but the run's endpoint is ${p.expected}`,
  OUTCOME_COUNT: (p) =>
    `${p.derivations} derivation(s) and ${p.markers} insufficiency marker(s); exactly one expected`,
  FINALIZE_COUNT: (p) => `${p.count} finalize output(s); exactly one expected`,
  UNVALIDATED_CLAIM: (p) => `final answer uses claim ${p.claim}, which is not validated`,
  FINAL_CLAIMS: (p) =>
    `the final answer is ${p.status} but must use exactly the ${p.validated} validated claim(s), in order`,
  ANSWER_MISMATCH: () => "the final answer is not the statement of its validated claim",
  INSUFFICIENT_WITH_ANSWER: () => "an insufficient-evidence outcome carries an answer",
  FINAL_UNCERTAINTY: () =>
    "the final uncertainty is not the one the outcome implies (none for an answer, else the derivation's reason)",
  ANSWER_VIEW: () => "answer.json differs from the answer recorded in the trace",
  UNEXPECTED_ENTRY: (p) => `${p.path}: ${p.reason}`,
  UNKNOWN_FILE: (p) => `${p.path} is not a file a run can hold (docs/design.md §4)`,
  RUN_SPEC: () => "run.json names another spec",
  RUN_PLAN: () => "run.json names another plan",
  RUN_PRESET: () => "run.json and plan.json disagree on the preset",
  RUN_TRACE: () => "the trace header names other run, spec or plan ids than run.json",
  RUN_PRODUCER: () => "the trace header and run.json name different producers",
  MANIFEST_MISSING: () => "manifest.json is missing or unreadable",
  MANIFEST_RUN: () => "manifest.json names another run",
  FILE_NOT_LISTED: (p) => `${p.path} is present but not in the manifest`,
  LISTED_FILE_MISSING: (p) => `${p.path} is in the manifest but missing`,
  FILE_HASH: (p) => `${p.path} does not match its manifest hash`,
  ROOT_DIGEST: () => "the root digest does not match the listed hashes",
  RUN_DIR_NAME: (p) => `the run directory is named ${p.name}, but run.json says ${p.run}`,
  REPORT_CHECK_MISSING: (p) => `report.json leaves out the ${p.check} check`,
  REPORT_CHECK_NEWER: (p) =>
    `report.json was written by an older verifier without the ${p.check} check (checked now, not held against it)`,
  REPORT_CHECK_INVENTED: (p) => `report.json lists a ${p.check} check this verifier does not have`,
  REPORT_CHECK_DIFFERS: (p) =>
    `report.json's ${p.check} check differs from what this verifier finds when sealing the run`,
  REPORT_DIFFERS: () => "report.json's order, verdict, summary, policy or id is not what its checks give",
  SIGNATURE_MISSING: () =>
    "a signature is required (--pubkey or --require-signature) but the run is not signed",
  SIGNATURE_ENCODING: () => "the signature is not canonical base64",
  SIGNATURE_DIGEST: () => "the signature covers another root digest than the manifest's",
  SIGNATURE_UNVERIFIED: (p) =>
    `signed, not verified: the signature names key sha256:${p.key}, carries none, and none was given (--pubkey)`,
  SIGNATURE_REQUIRED_UNVERIFIED: (p) =>
    `a verified signature is required (--require-signature), but the key the signature names (sha256:${p.key}) is neither carried nor given (--pubkey)`,
  SIGNATURE_KEY_TYPE: (p) => `the signing key is a ${p.type} key, not Ed25519: the signature is not checked`,
  SIGNATURE_OTHER_KEY: () => "the run was signed with another key",
  CARRIED_KEY_MISMATCH: () => "the public key the signature carries is not the key it names by hash",
  PUBLIC_KEY_UNUSABLE: (p) => `the public key is unusable: ${p.error}`,
  SIGNATURE_INVALID: () => "the Ed25519 signature does not verify",
};

/** Every code, for documentation and the test that pins them. */
export const FINDING_CODES = Object.keys(MESSAGES) as FindingCode[];

export function renderFinding(f: Finding): string {
  // The union member guarantees `params` fits `code`; indexing by a union loses that link.
  return (MESSAGES[f.code] as (p: Finding["params"]) => string)(f.params);
}
