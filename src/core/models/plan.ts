/** Plan and PlanNode (docs/design.md §2): a DAG of typed steps; presets change parameters only. */
import * as z from "zod";
import { idOf, JsonObject } from "./common.js";

export const PLAN_VERSION = "1";
export const NODE_KINDS = ["understand", "gather", "derive", "verify", "finalize"] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

export const ToolRequest = z.strictObject({ tool: z.string().min(1), args: JsonObject });
export type ToolRequest = z.infer<typeof ToolRequest>;

export const PlanNode = z.strictObject({
  id: idOf("node"),
  kind: z.enum(NODE_KINDS),
  deps: z.array(idOf("node")),
  params: JsonObject,
  tool_requests: z.array(ToolRequest),
});
export type PlanNode = z.infer<typeof PlanNode>;

export const Plan = z.strictObject({
  id: idOf("plan"),
  version: z.literal(PLAN_VERSION),
  spec_id: idOf("spec"),
  preset: z.string().min(1),
  nodes: z.array(PlanNode).min(1),
});
export type Plan = z.infer<typeof Plan>;
