/**
 * What to do about a verifier finding: one answer per check, and a note for the codes whose
 * remedy differs from their check's. The meaning of each code is its message (messages.ts);
 * the error catalogue (docs/errors.md) joins the two. test/docs/errors.test.ts fails when a
 * check has no entry here.
 */
import type { FindingCode } from "./findings.js";

const EDITED =
  "The run was changed after it was sealed: do not rely on it; rerun the same command (a run is replaced only by a correct one) or restore it from its `export` bundle";

export const CHECK_HELP: Readonly<Record<string, string>> = {
  schemas: `a file does not parse, is not canonical JSON, or is at a version this build does not read. ${EDITED}; a run made by a newer canon-reason needs that version (run.json names the producer)`,
  content_ids: `an id no longer recomputes from its object. ${EDITED}`,
  plan_dag: `the plan is not a DAG or is not the spec's. ${EDITED}`,
  trace_order: `the trace's events are out of order, missing or duplicated. ${EDITED}`,
  tool_linkage: `tool calls and results do not pair up as planned. ${EDITED}`,
  claim_links: `a claim cites something not recorded before it. ${EDITED}`,
  grounding: `a claim's supports do not carry it, or disagree with the reasoner's citations. ${EDITED}`,
  citation_bytes: `a cited byte span is outside its evidence or hashes differently. ${EDITED}`,
  evidence_files: `an evidence file is missing, renamed or altered. ${EDITED}`,
  evidence_origin:
    "an evidence's bytes are not the bytes of the pinned corpus snapshot at its span, or the snapshot is not in the store: run the corpus again (same bytes, same hash) or import the run's bundle, then verify again; if the store holds the snapshot, the evidence was altered",
  retrieval_provenance:
    "the recorded corpus, index or parameters do not match the store objects: delete a corrupt store object and run the corpus again, or import the run's bundle; otherwise the provenance was edited",
  retrieval_recompute: `the recorded ranking or scores are not what a fresh search of the pinned index gives. ${EDITED}; if a fresh run disagrees with itself, report a determinism bug with both runs exported`,
  rederive: `the recorded reasoner, given the recorded evidence, does not derive the recorded answer. ${EDITED}`,
  outcome: `the answer, the claims and the insufficiency marker do not agree. ${EDITED}`,
  manifest: `files were added, removed or changed after the manifest was sealed, or run.json disagrees with them. ${EDITED}`,
  report_recompute: `the stored report.json is not the report this verifier writes for the run. ${EDITED}`,
  signature:
    "the signature does not verify against the key given with `--pubkey` (or the run is unsigned where one was required): check that you hold the signer's public key; a run signed by another key is not the signer's",
  "(any check)":
    "the check could not run on this input; read the message, and report a crash on a run canon-reason wrote as a bug",
};

/** Codes whose remedy is not their check's. */
export const FINDING_NOTES: Partial<Readonly<Record<FindingCode, string>>> = {
  RUN_DIR_NAME:
    "the run directory was renamed: move it back to `runs/<run_id>`; a run is named by what it holds",
  STORE_OBJECT_MISSING:
    "the store of this artifacts root lacks the object: run the corpus again (same bytes, same hash) or import the run's bundle",
  STORE_OBJECT_CORRUPT:
    "delete that object under `.canon-reason/store/`, then run the corpus again or import the run's bundle",
  SIGNATURE_UNVERIFIED:
    "a warning: the run is signed but no `--pubkey` was given, so the signature is not verified; pass the signer's public key",
  REASONER_UNKNOWN:
    "a warning: this build does not have the run's reasoner version, so the answer is not re-derived; verify with the version that made the run",
  REPORT_CHECK_NEWER:
    "information only: this verifier runs a check the run's stored report (made by an older version) does not list",
  MODEL_CALL_MISSING:
    "restore the run from its bundle: without its recorded model call the answer cannot be re-derived",
  MODEL_CALL_ALTERED: "restore the run from its bundle: the recorded model call was changed",
  UNSUPPORTED_VERSION: "the run was made by a newer canon-reason: verify it with that version",
  CHECK_CRASHED:
    "a check threw on this input; the run is reported as failing, never as passing. Report it as a bug",
};
