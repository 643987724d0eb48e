/** The model schemas, by name: validated at every boundary and exported as JSON Schema files. */
import { Claim } from "./claim.js";
import { EvidenceRef } from "./evidence.js";
import { ModelCall } from "./model-call.js";
import { Plan, PlanNode } from "./plan.js";
import { AnswerView, Manifest, RunRecord, Signature } from "./run.js";
import { ProblemSpec } from "./spec.js";
import { RetrievePayload, ToolCall, ToolResult, TraceEvent, TraceHeader } from "./trace.js";
import { VerificationReport } from "./verification-report.js";

export * from "./claim.js";
export * from "./common.js";
export * from "./evidence.js";
export * from "./model-call.js";
export * from "./plan.js";
export * from "./run.js";
export * from "./spec.js";
export * from "./trace.js";
export * from "./verification-report.js";

export const MODEL_SCHEMAS = {
  ProblemSpec,
  Plan,
  PlanNode,
  ToolCall,
  ToolResult,
  RetrievePayload,
  EvidenceRef,
  Claim,
  TraceHeader,
  TraceEvent,
  VerificationReport,
  ModelCall,
  RunRecord,
  AnswerView,
  Manifest,
  Signature,
} as const;
