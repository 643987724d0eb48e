/** The fields of model/<sha256>.json, the llm reasoner's recording. */
import { type FieldEntry, type FieldPattern, VERSIONED } from "./entries.js";

export const MODEL_FIELDS: Readonly<Record<FieldPattern, FieldEntry>> = {
  // model/<sha256>.json: the llm reasoner's recording.
  "model/*.json:": {
    kind: "hash",
    how: "rederive: named by the sha256 of its bytes, which the trace records",
  },
  "model/*.json:version": VERSIONED,
  "model/*.json:endpoint": { kind: "plan", how: "rederive: the plan's base URL + /chat/completions" },
  "model/*.json:request": { kind: "plan", how: "rederive: the request the plan, question and evidence make" },
  "model/*.json:request.**": {
    kind: "plan",
    how: "rederive: the request the plan, question and evidence make",
  },
  "model/*.json:response.status": {
    kind: "label",
    how: "the endpoint's answer, as recorded: what the model said is what the run re-derives from",
  },
  "model/*.json:response.body": {
    kind: "label",
    how: "the endpoint's answer, as recorded: the claims are re-derived from it, but no check can know what the model said",
  },
};
