/**
 * manifest (INV-ART-001): the run holds only the files docs/design.md §4 names, the manifest lists exactly
 * the files present (outside volatile/), every hash and the root digest match, and run.json
 * agrees with the spec, plan and trace.
 */

import { isUnfingerprinted, RUN_FILES } from "../../artifact/files.js";
import { rootDigest } from "../../artifact/manifest.js";
import type { RunView } from "../../artifact/view.js";
import { sha256Hex } from "../../canonical.js";
import { MODEL_CALL_FILE } from "../../models/model-call.js";
import type { Check } from "../check.js";
import { type Finding, finding } from "../findings.js";

const KNOWN_FILES: ReadonlySet<string> = new Set(Object.values(RUN_FILES));
const EVIDENCE_FILE = /^evidence\/[0-9a-f]{64}\.txt$/;

/**
 * A listed file is hash-protected, not meaningful: an unknown file that a forger also lists in
 * a recomputed manifest would otherwise ride along unnoticed.
 */
function fileSetFindings(view: RunView): Finding[] {
  const findings = view.anomalies.map((a) => finding("UNEXPECTED_ENTRY", a));
  for (const path of view.files.keys())
    if (
      !KNOWN_FILES.has(path) &&
      !EVIDENCE_FILE.test(path) &&
      !MODEL_CALL_FILE.test(path) &&
      !path.startsWith("volatile/")
    )
      findings.push(finding("UNKNOWN_FILE", { path }));
  return findings;
}

/** run.json names the spec, plan and trace the run holds (its ids are recomputed by content_ids). */
function runRecordFindings({ run, spec, plan, trace }: RunView): Finding[] {
  if (run === null) return [];
  const findings: Finding[] = [];
  if (spec && run.inputs.spec_id !== spec.id) findings.push(finding("RUN_SPEC", {}));
  if (plan && run.inputs.plan_id !== plan.id) findings.push(finding("RUN_PLAN", {}));
  if (plan && run.inputs.preset !== plan.preset) findings.push(finding("RUN_PRESET", {}));
  if (trace) {
    const h = trace.header;
    if (h.run_id !== run.run_id || h.spec_id !== run.inputs.spec_id || h.plan_id !== run.inputs.plan_id)
      findings.push(finding("RUN_TRACE", {}));
    if (h.producer.name !== run.inputs.producer.name || h.producer.version !== run.inputs.producer.version)
      findings.push(finding("RUN_PRODUCER", {}));
  }
  return findings;
}

export const manifestCheck: Check = {
  name: "manifest",
  readsSeal: true,
  invariant: "INV-ART-001",
  description:
    "the manifest lists exactly the files present, every hash and the root digest match, run.json agrees with the ids",
  run(view, context) {
    const findings = [...fileSetFindings(view), ...runRecordFindings(view)];
    const present = [...view.files.keys()].filter((p) => !isUnfingerprinted(p)).sort();
    if (context.stage === "sealing") {
      // The run writer verifies before the manifest exists; the hashes are sealed over this report.
      return {
        findings,
        details: `${present.length} files, run.json ↔ ids checked; hashes are sealed in manifest.json after this report`,
      };
    }
    const manifest = view.manifest;
    if (manifest === null) {
      findings.push(finding("MANIFEST_MISSING", {}));
      return { findings, details: "no manifest" };
    }
    if (view.run && manifest.run_id !== view.run.run_id) findings.push(finding("MANIFEST_RUN", {}));
    for (const path of present)
      if (!Object.hasOwn(manifest.files, path)) findings.push(finding("FILE_NOT_LISTED", { path }));
    const listed = Object.keys(manifest.files).sort();
    for (const path of listed) {
      const bytes = view.files.get(path);
      if (bytes === undefined) findings.push(finding("LISTED_FILE_MISSING", { path }));
      else if (sha256Hex(bytes) !== manifest.files[path]) findings.push(finding("FILE_HASH", { path }));
    }
    if (rootDigest(manifest.files) !== manifest.root_digest) findings.push(finding("ROOT_DIGEST", {}));
    return {
      findings,
      details: `${listed.length} files hashed, root digest ${manifest.root_digest.slice(0, 12)}…`,
      metrics: { files: listed.length },
    };
  },
};
