/**
 * manifest (INV-ART-001): the manifest lists exactly the files present (outside volatile/),
 * every hash and the root digest match, and run.json agrees with the spec, plan and trace.
 */
import { sha256Hex } from "../../canonical.js";
import { isUnfingerprinted } from "../../run/files.js";
import { rootDigest } from "../../run/manifest.js";
import type { Check } from "../check.js";
import { error, type Issue } from "../issue.js";

export const manifestCheck: Check = {
  name: "manifest",
  invariant: "INV-ART-001",
  description:
    "the manifest lists exactly the files present, every hash and the root digest match, run.json agrees with the ids",
  run(view, context) {
    const issues: Issue[] = view.anomalies.map((a) => error("UNEXPECTED_ENTRY", `${a.path}: ${a.reason}`));
    const { run, spec, plan, trace } = view;
    if (run !== null) {
      if (spec && run.inputs.spec_id !== spec.id)
        issues.push(error("RUN_SPEC", "run.json names another spec"));
      if (plan && run.inputs.plan_id !== plan.id)
        issues.push(error("RUN_PLAN", "run.json names another plan"));
      if (plan && run.inputs.preset !== plan.preset)
        issues.push(error("RUN_PRESET", "run.json and plan.json disagree on the preset"));
      if (trace) {
        const h = trace.header;
        if (h.run_id !== run.run_id || h.spec_id !== run.inputs.spec_id || h.plan_id !== run.inputs.plan_id) {
          issues.push(error("RUN_TRACE", "the trace header names other run, spec or plan ids than run.json"));
        }
        if (
          h.producer.name !== run.inputs.producer.name ||
          h.producer.version !== run.inputs.producer.version
        ) {
          issues.push(error("RUN_PRODUCER", "the trace header and run.json name different producers"));
        }
      }
    }
    const present = [...view.files.keys()].filter((p) => !isUnfingerprinted(p)).sort();
    if (context.stage === "sealing") {
      return {
        issues,
        details: `${present.length} files; hashes are sealed in manifest.json after this report`,
      };
    }
    const manifest = view.manifest;
    if (manifest === null) {
      issues.push(error("MANIFEST_MISSING", "manifest.json is missing or unreadable"));
      return { issues, details: "no manifest" };
    }
    if (run && manifest.run_id !== run.run_id)
      issues.push(error("MANIFEST_RUN", "manifest.json names another run"));
    const listed = Object.keys(manifest.files).sort();
    for (const path of present)
      if (!(path in manifest.files))
        issues.push(error("FILE_NOT_LISTED", `${path} is present but not in the manifest`));
    for (const path of listed) {
      const bytes = view.files.get(path);
      if (bytes === undefined) issues.push(error("FILE_MISSING", `${path} is in the manifest but missing`));
      else if (sha256Hex(bytes) !== manifest.files[path])
        issues.push(error("FILE_HASH", `${path} does not match its manifest hash`));
    }
    if (rootDigest(manifest.files) !== manifest.root_digest)
      issues.push(error("ROOT_DIGEST", "the root digest does not match the listed hashes"));
    return {
      issues,
      details: `${listed.length} files hashed, root digest ${manifest.root_digest.slice(0, 12)}…`,
      metrics: { files: listed.length },
    };
  },
};
