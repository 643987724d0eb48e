/**
 * The public library API of canon-reason (docs/design.md §8): planning, execution, verification, replay,
 * diff, evaluation, the models and their schemas. Internal modules are not part of the API.
 */

export { type CaseResult, type EvalOptions, runEval } from "./app/eval/eval.js";
export { type RunJobOptions, type RunJobResult, runJob } from "./app/run/run-job.js";
export { diffRunDirectories } from "./app/verify/diff.js";
export { type ReplayResult, replayRunDirectory } from "./app/verify/replay.js";
export { type VerifyDirectoryOptions, verifyRunDirectory } from "./app/verify/verify.js";
export { canonicalJson, contentId, sha256Hex, withId } from "./core/canonical.js";
export {
  diffRuns,
  type FieldChange,
  type LayerDiff,
  type RunDiff,
  type SnapshotDocuments,
} from "./core/diff/diff.js";
export { LAYERS, type Layer } from "./core/diff/layers.js";
export { CanonError, ERROR_CODES, InputError } from "./core/errors.js";
export * from "./core/models/index.js";
export { modelJsonSchemas } from "./core/models/json-schema.js";
export { frozenDispatcher, liveDispatcher } from "./core/pipeline/dispatch.js";
export { type ExecuteOptions, execute, type ToolDispatcher } from "./core/pipeline/executor.js";
export { liveTools, llmInputOf, type ProduceOptions, produceRun } from "./core/pipeline/produce.js";
export { DEFAULT_PRESET, PRESETS, planFor, resolveParams } from "./core/plan/planner.js";
export { extractiveReasoner } from "./core/reason/extractive.js";
export { chatRequest, llmReasoner, needsModelCall } from "./core/reason/llm.js";
export type { Derivation, Reasoner, ReasonerInput } from "./core/reason/reasoner.js";
export { type Divergence, firstDivergence } from "./core/replay/divergence.js";
export { type VerifyInput, verifyRun as verify } from "./core/verify/verifier.js";
export { type EvalCase, type EvalInput, loadBeir, loadSuite, withRationales } from "./io/eval/eval-input.js";
export { callModel, DEFAULT_ENDPOINT_SETTINGS, type EndpointSettings } from "./io/model/llm-endpoint.js";
export { exportRun, importRun } from "./io/runs/bundle.js";
export { PRODUCER } from "./version.js";
