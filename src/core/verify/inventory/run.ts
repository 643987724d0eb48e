/** The fields of run.json. */
import {
  type FieldEntry,
  type FieldPattern,
  LINKS,
  PLAN,
  PROVENANCE,
  provenanceFields,
  RECOMPUTED_ID,
  VERSIONED,
} from "./entries.js";

export const RUN_FIELDS: Readonly<Record<FieldPattern, FieldEntry>> = {
  // run.json
  "run.json:version": VERSIONED,
  "run.json:run_id": RECOMPUTED_ID,
  "run.json:trace_id": RECOMPUTED_ID,
  "run.json:inputs.spec_id": LINKS,
  "run.json:inputs.plan_id": LINKS,
  "run.json:inputs.preset": PLAN,
  "run.json:inputs.seed": {
    kind: "label",
    how: "the run's seed: the extractive reasoner does not use it (the llm reasoner's recorded request must carry it)",
  },
  "run.json:inputs.producer.name": {
    kind: "label",
    how: "who says they made the run: a name, not a computation",
  },
  "run.json:inputs.producer.version": {
    kind: "label",
    how: "the producing build's version: a name, not a computation",
  },
  "run.json:inputs.schema_versions.spec": VERSIONED,
  "run.json:inputs.schema_versions.plan": VERSIONED,
  "run.json:inputs.schema_versions.trace": VERSIONED,
  "run.json:inputs.schema_versions.run": VERSIONED,
  "run.json:inputs.schema_versions.report": VERSIONED,
  "run.json:inputs.schema_versions.manifest": VERSIONED,
  "run.json:inputs.runtime.reasoner.id": {
    kind: "rederived",
    how: "rederive: the reasoner the plan names, re-run; a combination some release produced",
  },
  "run.json:inputs.runtime.reasoner.version": {
    kind: "rederived",
    how: "rederive: this version re-derives the claims; a combination some release produced",
  },
  "run.json:inputs.runtime.tools": PROVENANCE,
  "run.json:inputs.runtime.tools[].name": PROVENANCE,
  "run.json:inputs.runtime.tools[].version": {
    kind: "pinned",
    how: "retrieval_provenance: follows from the recorded evidence mode; a released combination",
  },
  "run.json:inputs.runtime.tools[].fingerprint": {
    kind: "hash",
    how: "retrieval_provenance: sha256 of the config",
  },
  ...provenanceFields("run.json:inputs.runtime.tools[].config"),
};
